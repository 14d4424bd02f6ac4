# ballotbook: the project's verbs. `make reports` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: reports test bench lab lint format venv clean

reports: $(STAMP)             ## build every report of reports.yml into reports/ (opens nothing)
	$(BIN)/ballotbook build

test: $(STAMP)                ## the whole test suite (unit, property, notebooks, browser), two workers
	$(BIN)/python -m pytest -n 2 --durations=15

bench: $(STAMP)               ## benchmarks: ratios against baselines run in the same process
	$(BIN)/python benchmarks/run.py

lab: $(STAMP)                 ## JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,bench,dev]"
	touch $(STAMP)

clean:                        ## remove built reports (keeps .venv)
	rm -rf reports/
