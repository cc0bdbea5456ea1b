# Two commands from nothing: `make run` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint validate chat clean screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The dashboard's browser tests drive Debian's Chromium through Playwright (CHROMIUM names the
# executable; Playwright's own browser download is never used). Installed here when missing and
# apt-get may run (root or password-less sudo); otherwise one line says so, `make test` goes on
# and those tests skip saying why. The stamp is left only once Chromium is there, so a later run
# tries again.
CHROMIUM ?= /usr/bin/chromium
BROWSER := $(VENV)/.browser
APT_BROWSER := apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
	--no-install-recommends chromium chromium-driver fonts-noto-color-emoji

$(BROWSER): | $(STAMP)
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if ! command -v apt-get >/dev/null 2>&1; then \
			echo "make: no $(CHROMIUM) and no apt-get: the dashboard's browser tests will skip"; \
		elif [ "$$(id -u)" = 0 ]; then \
			sh -c '$(APT_BROWSER)' || echo "make: installing chromium failed: the dashboard's browser tests will skip"; \
		elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then \
			sudo -n sh -c '$(APT_BROWSER)' || echo "make: installing chromium failed: the dashboard's browser tests will skip"; \
		else \
			echo "make: no $(CHROMIUM) and not root (nor sudo -n): the dashboard's browser tests will skip; as root: apt-get install chromium chromium-driver"; \
		fi; \
	fi
	@if [ -x "$(CHROMIUM)" ]; then touch $@; fi

run: $(STAMP)
	$(BIN)/python main.py

# The suite on TEST_WORKERS parallel pytest-xdist workers; tests that share a module-scoped
# process group (xdist_group) stay on one worker. `make test TEST_WORKERS=0` runs it serially.
TEST_WORKERS ?= 2

test: $(STAMP) $(BROWSER)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

# Refresh docs/dashboard-list.png and docs/dashboard-dossier.png from the browser test.
screenshots: $(STAMP) $(BROWSER)
	DASHBOARD_SCREENSHOTS=docs $(BIN)/python -m pytest -q -p no:cacheprovider \
		tests/test_dashboard_browser.py -k screenshots

validate: $(STAMP)
	$(BIN)/python main.py validate

chat: $(STAMP)
	$(BIN)/python main.py chat

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
