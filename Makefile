# Two commands from nothing: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint validate chat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python main.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

validate: $(STAMP)
	$(BIN)/python main.py validate

chat: $(STAMP)
	$(BIN)/python main.py chat

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
