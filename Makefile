# ballotbook: the project's verbs. `make reports` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: reports test bench lab lint format venv lock clean

reports: $(STAMP)             ## build every report of reports.yml into reports/ (opens nothing)
	$(BIN)/ballotbook build

test: $(STAMP)                ## the whole test suite (unit, property, notebooks, browser), two workers
	$(BIN)/python -m pytest -n 2 --durations=15

bench: $(STAMP)               ## benchmarks: ratios against baselines run in the same process
	$(BIN)/python benchmarks/run.py

# JupyterLab at the project root, so data/, reports.yml and reports/ are in its file browser (it opens on
# notebooks/). Extra options: make lab LAB_ARGS="--no-browser --port 8899".
LAB_ARGS ?=
lab: $(STAMP)                 ## JupyterLab at the project root (opens on notebooks/)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks

venv: $(STAMP)

# The venv holds exactly the versions pinned in requirements.lock (the same numbers from the same inputs), then
# the kit itself, editable, built by the pinned setuptools; pip check fails if a pin no longer fits pyproject.toml.
LOCK   := requirements.lock
EXTRAS := test,bench,dev

$(STAMP): pyproject.toml setup.py $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

# Re-pin requirements.lock: pyproject.toml's dependencies and extras ($(EXTRAS)) and everything they pull in, at
# the versions .venv has (a package .venv lacks gets the newest that fits). To upgrade one: .venv/bin/pip install
# -U NAME, then make lock, then make test, and commit requirements.lock.
lock:                         ## re-pin requirements.lock from what .venv has
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip freeze --all --exclude-editable > $(VENV)/lock-constraints.txt
	$(BIN)/python -m pip install --quiet --dry-run --ignore-installed -c $(VENV)/lock-constraints.txt \
		--report $(VENV)/lock-report.json ".[$(EXTRAS)]"
	$(BIN)/python -c "$$WRITE_LOCK" $(VENV)/lock-report.json > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)

define WRITE_LOCK
import json, platform, sys
report = json.load(open(sys.argv[1], encoding="utf-8"))
pins = [(i["metadata"]["name"], i["metadata"]["version"]) for i in report["install"]
        if i["metadata"]["name"].lower() != "ballotbook"]
print("# Every package `make venv` installs, pinned: pyproject.toml's dependencies and its extras (test, bench, dev)")
print("# with everything they pull in. Made by `make lock`, on Python %d.%d, %s %s. Do not edit by hand."
      % (sys.version_info[0], sys.version_info[1], platform.system(), platform.machine()))
for name, version in sorted(pins, key=lambda p: p[0].lower()):
    print(f"{name}=={version}")
endef
export WRITE_LOCK

clean:                        ## remove built reports (keeps .venv)
	rm -rf reports/
