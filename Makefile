# Trunkline developer entry points. `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo serve test test-fast lint typecheck format bench services test-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/trunkline demo

serve: $(STAMP)
	$(BIN)/trunkline serve

services:
	bash scripts/ensure-services.sh

# Debian's chromium and sipp: the real peers of the end-to-end tests.
test-tools:
	bash scripts/ensure-test-tools.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) services test-tools lint typecheck
	TRUNKLINE_TEST_POSTGRES=postgresql://postgres@127.0.0.1:5432/test \
	TRUNKLINE_TEST_REDIS=redis://127.0.0.1:6379/0 \
	$(BIN)/pytest -q -p no:cacheprovider

test-fast: $(STAMP)
	$(BIN)/pytest -q -x -m "not slow"

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/trunkline bench routing

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .pytest_cache .ruff_cache
