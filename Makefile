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

# The suite on TEST_WORKERS parallel pytest-xdist workers; tests that share a module-scoped
# process group (xdist_group) stay on one worker. `make test TEST_WORKERS=0` runs it serially.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

validate: $(STAMP)
	$(BIN)/python main.py validate

chat: $(STAMP)
	$(BIN)/python main.py chat

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
