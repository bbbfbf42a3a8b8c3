# bulkdash: `make run` starts the dashboard, `make test` runs the whole suite. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TEST_STAMP := $(VENV)/.installed-test-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test test-all lint bench browser-deps binary clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(TEST_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(STAMP)

run: $(STAMP)
	$(BIN)/bulkdash serve

# Debian's chromium + chromedriver for the browser tests (installed only when missing and we are root).
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
		if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium + chromium-driver for the browser tests"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
				|| echo "could not install chromium: the browser tests will be skipped"; \
		else echo "chromium missing and not root: the browser tests will be skipped"; fi; \
	fi

test: $(TEST_STAMP) browser-deps
	$(BIN)/python -m pytest -q

# The long variants too (crash loops with real rendering, soak).
test-all: $(TEST_STAMP) browser-deps
	$(BIN)/python -m pytest -q -m ''

lint: $(TEST_STAMP)
	$(BIN)/ruff check .

bench: $(TEST_STAMP)
	$(BIN)/python bench/run_all.py

# One self-contained executable in dist/bulkdash (PyInstaller --onefile), then a smoke check of it.
binary: $(STAMP)
	$(BIN)/python packaging/build_binary.py --smoke

clean:
	rm -rf $(VENV) data .pytest_cache build dist
