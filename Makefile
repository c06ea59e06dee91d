# Two commands on a fresh machine with only python3: `make demo` and `make test`.
# Each creates .venv and installs the pinned dependencies (constraints.txt) itself.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Test workers: one per core (2 on the reference machine); override with `make test WORKERS=1`.
WORKERS ?= auto

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/socialcredit demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/python -m pytest -n $(WORKERS) -q

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python bench/ingest_and_score.py

clean:
	rm -rf $(VENV) socialcredit-demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
