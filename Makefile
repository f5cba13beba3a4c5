# The two commands of the README, and the checks CI runs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,deep]"
	touch $(STAMP)

## Set up, migrate the embedded SQLite database, load the demo workspace, serve on :8000.
demo: $(STAMP)
	$(BIN)/dialoga db upgrade
	$(BIN)/dialoga demo
	$(BIN)/dialoga serve

## Set up and run the whole test suite (set DIALOGA_TEST_DATABASE_URL for PostgreSQL).
test: $(STAMP)
	$(BIN)/pytest -n auto -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
