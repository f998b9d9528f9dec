# Two commands for a new user: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo lint test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools

# PyTorch first and exactly 2.13.0: that resolves to the local CPU build; any
# other spec would pull gigabytes of CUDA packages.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test,lint]'
	# anonymeter (disclosure risks) pins numpy<2, but runs on numpy 2 (checked by its
	# cross-check test): install it without its pins, plus what it imports.
	$(BIN)/pip install --quiet --no-deps 'anonymeter==1.1.0'
	$(BIN)/pip install --quiet numba polars
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/govern demo

# ruff (style, docstrings, imports), mypy (strict on core, policy, audit and api) and
# import-linter (the layers contract in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# One worker per core (pytest-xdist); a module's tests stay on one worker, so the
# module-scoped worlds (trained runs, server processes) are built once.
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto --dist loadscope

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .governance
