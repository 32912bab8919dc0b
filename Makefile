# beamdesign — one command to plan, one command to test.
#
#   make planner   set up .venv, print the default plan's dose table, open the planner notebook
#   make app       serve the planner as a web app without code (Voila), http://localhost:8866
#   make cli       set up .venv and print the default plan's dose table (no JupyterLab)
#   make notebooks re-run every notebook in place and store small, stable outputs
#   make test      set up .venv (+ Chromium via apt if missing) and run the whole test suite
#   make bench     run the benchmarks
#   make docs      build the documentation site into docs/_build/html
#
# Setup is idempotent: pip runs again only when pyproject.toml is newer than the stamp file
# inside .venv. Needs python3 (>= 3.10), internet access to PyPI, and for `make test` apt
# (root, or sudo) when /usr/bin/chromium or the DejaVu fonts are missing.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP_JUPYTER := $(VENV)/.beamdesign-jupyter.stamp
STAMP_TEST := $(VENV)/.beamdesign-test.stamp
STAMP_DOCS := $(VENV)/.beamdesign-docs.stamp
# JupyterLab reads settings overrides from <sys.prefix>/share/jupyter/lab/settings/.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json
PLANNER_NOTEBOOK := notebooks/03_plan_my_beamtime.ipynb
APP_NOTEBOOK := app.ipynb
# Extra Voila options, e.g. make app APP_ARGS="--port=8870 --no-browser"
APP_ARGS ?=
NBVAL_CELL_TIMEOUT ?= 600
# Extra JupyterLab options, e.g. make planner LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=
# The browser tests drive Debian's chromium at this path.
CHROMIUM ?= /usr/bin/chromium
ALLOW_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Tools started by the tests (jupyter, beamdesign) must come from the venv, not from PATH.
RUN_ENV := env PATH="$(BIN):$$PATH" VIRTUAL_ENV="$(VENV)"

.PHONY: help planner app cli notebooks notebooks-check lint test test-python test-notebooks bench docs \
	setup setup-test browser clean-venv

help:
	@sed -n '3,9p' Makefile | sed 's/^# //'

# ---------------------------------------------------------------- setup

$(PY):
	$(PYTHON) -m venv "$(VENV)"

$(STAMP_JUPYTER): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[jupyter]"
	touch "$@"

# The test extra includes the jupyter extra, so it satisfies both stamps.
$(STAMP_TEST): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[test]"
	touch "$@"
	touch "$(STAMP_JUPYTER)"

$(LAB_OVERRIDES): binder/overrides.json | $(PY)
	mkdir -p "$(dir $@)"
	cp binder/overrides.json "$@"

setup: $(STAMP_JUPYTER) $(LAB_OVERRIDES)

setup-test: $(STAMP_TEST) $(LAB_OVERRIDES) browser

# Debian's chromium for the real-browser tests (Playwright drives it; never `playwright
# install`, which downloads its own browser).
browser:
	@if [ -x $(CHROMIUM) ] && [ -d /usr/share/fonts/truetype/dejavu ]; then \
		echo "chromium: $(CHROMIUM)"; \
	else \
		echo "installing chromium and fonts-dejavu-core with apt-get"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-dejavu-core; \
	fi

# ---------------------------------------------------------------- main job

cli: setup
	$(RUN_ENV) "$(BIN)/beamdesign" run default

# BokehJS is inlined by the planner's setup (beamdesign.widgets.setup_notebook): no internet
# needed. BOKEH_RESOURCES=cdn loads it from the CDN instead.
planner: cli
	$(RUN_ENV) "$(BIN)/jupyter" lab $(ALLOW_ROOT) $(LAB_ARGS) $(PLANNER_NOTEBOOK)

# The planner as a web app: Voila runs notebooks/app.ipynb and shows only its widgets (no code
# cells). Voila serves from notebooks/ so that widgets/ never shadows beamdesign.widgets.
app: setup
	cd notebooks && $(RUN_ENV) "$(BIN)/voila" $(APP_NOTEBOOK) --strip_sources=True $(APP_ARGS)

# Re-run every notebook in place (the classroom copies are regenerated from
# classroom/04_classroom_exercises.source.ipynb first) and normalise them: small outputs, no
# execution counts, widget state or BokehJS. Run it after a physics change alters numbers.
notebooks: setup
	$(RUN_ENV) "$(PY)" tools/notebooks.py classroom
	$(RUN_ENV) "$(PY)" tools/notebooks.py execute

# What the tests and CI check: every notebook normalised, < 1 MB, classroom copies up to date.
notebooks-check: | $(PY)
	"$(PY)" tools/notebooks.py normalise --check
	"$(PY)" tools/notebooks.py classroom --check

# ---------------------------------------------------------------- tests

TEST_ENV = $(RUN_ENV) BOKEH_RESOURCES=inline BEAMDESIGN_ARTIFACTS="$(CURDIR)/artifacts" \
	$(if $(filter true,$(CI)),BEAMDESIGN_REQUIRE_BROWSER=1 BEAMDESIGN_REQUIRE_DOCS=1)
# A hung test (a browser waiting forever) must not eat CI's 90 minutes: each half is stopped
# with SIGINT (pytest then prints its summary and tears fixtures down) after its budget.
TESTS_TIMEOUT ?= 30m
NOTEBOOKS_TIMEOUT ?= 20m
PYTEST_PYTHON = $(TEST_ENV) timeout --signal=INT --kill-after=60s $(TESTS_TIMEOUT) \
	"$(PY)" -m pytest tests/
# nbval runs from notebooks/ (from the repo root, widgets/ would import as a top-level
# module). Kernels start in the notebook's folder and use this venv (--nbval-current-env).
PYTEST_NOTEBOOKS = cd notebooks && $(TEST_ENV) timeout --signal=INT --kill-after=60s \
	$(NOTEBOOKS_TIMEOUT) "$(PY)" -m pytest -p no:cacheprovider \
	--nbval-lax --nbval-current-env --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) .

# Both halves always run; the target fails if either failed. In CI (CI=true) the browser
# tests must run: BEAMDESIGN_REQUIRE_BROWSER=1 turns their skip into a failure.
test: setup-test
	@mkdir -p artifacts
	@rc=0; \
	echo "== lint (ruff, ruff format, mypy --strict) =="; $(MAKE) --no-print-directory lint || rc=1; \
	echo "== tests/ (pytest) =="; $(PYTEST_PYTHON) || rc=1; \
	echo "== notebooks/ (nbval) =="; ( $(PYTEST_NOTEBOOKS) ) || rc=1; \
	if [ $$rc -ne 0 ]; then echo "make test: FAILED (see above)"; else echo "make test: all passed"; fi; \
	exit $$rc

# Quality gates: ruff lint and format on the whole tree, mypy --strict on the core and on
# widgets/ (checked as the package "widgets", importing the core from src/).
lint: $(STAMP_TEST)
	"$(BIN)/ruff" check .
	"$(BIN)/ruff" format --check .
	"$(BIN)/mypy" --strict src/beamdesign
	MYPYPATH=src "$(BIN)/mypy" --strict widgets

test-python: setup-test
	@mkdir -p artifacts
	$(PYTEST_PYTHON)

test-notebooks: setup-test
	$(PYTEST_NOTEBOOKS)

bench: $(STAMP_TEST)
	@[ -d benchmarks ] || { echo "make bench: no benchmarks/ folder"; exit 0; }; \
	rc=0; $(RUN_ENV) "$(PY)" -m pytest -o addopts="" benchmarks/ --benchmark-only || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make bench: no benchmarks collected"; rc=0; fi; exit $$rc

# ---------------------------------------------------------------- documentation

# Sphinx with warnings as errors (--keep-going lists them all before failing). The notebooks
# are rendered from their stored outputs, never executed, so no kernel is needed.
DOCS_OUT := docs/_build/html

$(STAMP_DOCS): pyproject.toml | $(PY)
	$(PY) -m pip install -e ".[docs]"
	touch "$@"

docs: $(STAMP_DOCS)
	$(RUN_ENV) "$(PY)" -m sphinx -W --keep-going -b html -d docs/_build/doctrees docs $(DOCS_OUT)
	@echo "docs: open $(DOCS_OUT)/index.html"

clean-venv:
	rm -rf "$(VENV)"
