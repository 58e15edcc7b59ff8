# CitySandbox: `make run` and `make test` set up everything from nothing (a .venv here).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache

.PHONY: run test test-fast gui screenshots bench lint clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all,dev]"
	@touch $(STAMP)

## run: the default scenario and a policy variant on the embedded city, compared
run: $(STAMP)
	$(PY) main.py run scenarios/default.yaml --out runs
	$(PY) main.py run scenarios/new-school.yaml --out runs
	$(PY) main.py compare default new-school --runs-folder runs --out runs/compare-default-vs-new-school.html
	@echo "Report: $(CURDIR)/runs/compare-default-vs-new-school.html"

## test: the whole suite, offscreen and without a GPU, one pytest process per core
test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n auto

test-fast: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n auto -m "not slow"

gui: $(STAMP)
	$(PY) main.py

## screenshots: refresh the README's docs/screenshots/ (tests write theirs to a temp folder)
screenshots: $(STAMP)
	CITYSANDBOX_SCREENSHOTS=$(CURDIR)/docs/screenshots QT_QPA_PLATFORM=offscreen \
		$(PY) -m pytest -q -p no:cacheprovider tests/gui/test_workflow.py -k end_to_end

bench: $(STAMP)
	$(PY) bench/run_all.py

## lint: ruff (style, numpy docstrings) and mypy (types of sim/) must both be clean
lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check . && $(PY) -m mypy sim

clean:
	rm -rf $(VENV) runs .pytest_cache .numba_cache
