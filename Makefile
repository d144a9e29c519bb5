# OML living report. Two commands do everything on a fresh machine with only python3:
#   make book   set up .venv, install, build the site into _build/html from the synthetic data
#   make test   set up .venv, install, lint, run the whole test suite
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Every cache stays inside the repository, so `git clean -fdx -e .venv` is a clean state.
export PIP_CACHE_DIR       := $(CURDIR)/.cache/pip
export MPLCONFIGDIR        := $(CURDIR)/.cache/matplotlib
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.cache/jupyter/runtime
export JUPYTER_DATA_DIR    := $(CURDIR)/.cache/jupyter/data
export IPYTHONDIR          := $(CURDIR)/.cache/ipython
export XDG_CACHE_HOME      := $(CURDIR)/.cache/xdg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup system axe book lint test bench clean lab strip

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-input -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-input --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# System packages from Debian: the browser tests (chromium, its driver; Debian's npm for axe-core when no npm is on the PATH), the PDF
# edition (WeasyPrint needs Pango and fonts) and its checks (poppler-utils). Installed when missing
# (as root); without root the browser and PDF checks report themselves NOT RUN instead of passing.
SYSTEM_PACKAGES := chromium chromium-driver poppler-utils libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation fonts-dejavu-core
# axe-core for the accessibility tests: pinned in tests/a11y/package-lock.json, installed into .cache/npm.
NPM_DIR := .cache/npm
AXE     := $(NPM_DIR)/node_modules/axe-core/axe.min.js
# Only where Debian's apt exists: elsewhere (macOS, other Linux) nothing is installed, and the build skips the PDF
# when Pango cannot load (README: platforms); the browser and PDF checks then report themselves NOT RUN.
system: ## Install the Debian packages the browser and PDF checks need, when missing (Debian/Ubuntu only)
	@if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then \
	  echo "note: no dpkg/apt-get here: system packages are not installed; without Pango the build skips the PDF (README: platforms)" >&2; \
	  exit 0; \
	fi; \
	missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "WARNING: cannot install$$missing (not root or no apt-get): the browser and PDF checks will be reported NOT RUN" >&2; \
	fi

$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	@mkdir -p $(NPM_DIR)
	@cp tests/a11y/package.json tests/a11y/package-lock.json $(NPM_DIR)/
	@if command -v npm >/dev/null; then \
	  npm ci --prefix $(NPM_DIR) --cache $(CURDIR)/.cache/npm-cache --ignore-scripts --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else echo "WARNING: npm is missing: the axe-core accessibility checks will be reported NOT RUN" >&2; fi

axe: system $(AXE) ## Install axe-core (pinned, from tests/a11y) for the accessibility tests

setup: $(STAMP) system axe ## Create .venv, install the pinned requirements, the oml package, system packages and axe-core

book: $(STAMP) system ## Build the site into _build/html and its PDF edition from the default synthetic data
	$(BIN)/oml build
	@echo "Site: $(CURDIR)/_build/html/index.html"
	@echo "PDF:  $$(ls $(CURDIR)/_build/html/*.pdf)"

# What the linter reads; its rules are in pyproject.toml ([tool.ruff]).
LINTED := oml tests bench book/_ext

lint: $(STAMP) ## Lint the code with ruff (pinned; pyflakes, pycodestyle errors, bugbear, pyupgrade)
	$(BIN)/ruff check $(LINTED)

# Defined before `test`, which names it as a prerequisite (make expands prerequisites as it reads them).
LAB_STAMP := $(VENV)/.lab-installed
KERNEL    := oml-living-report

# The suite installs the lab extra (about 12 s) so that tests/test_lab.py smoke-tests `make lab` for real;
# OML_REQUIRE_LAB turns that test's "not installed" skip into a failure here.
test: $(STAMP) system axe lint $(LAB_STAMP) ## Lint, then run the whole test suite (unit, statistics, notebooks, full strict site build, make lab)
	OML_REQUIRE_LAB=1 $(BIN)/python -m pytest

# JupyterLab, an optional extra pinned in requirements-lab.txt (make book never installs it; make test does), with the
# project's kernel registered inside .venv (not in the user's home). LAB_ARGS passes options, e.g. LAB_ARGS=--port=8899.
$(LAB_STAMP): $(STAMP) requirements-lab.txt
	$(BIN)/python -m pip install --quiet --no-input -r requirements-lab.txt
	$(BIN)/python -m ipykernel install --prefix $(abspath $(VENV)) --name $(KERNEL) --display-name "Python (OML living report)" >/dev/null
	@touch $(LAB_STAMP)

lab: $(LAB_STAMP) ## Start JupyterLab (pinned extra) on 127.0.0.1 in notebooks/, with the project's kernel
	$(BIN)/python -m jupyterlab --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR)/notebooks \
	  $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

strip: $(STAMP) ## Remove outputs a Jupyter run left in the notebook templates (tests/test_templates_clean.py checks)
	$(BIN)/python tests/test_templates_clean.py

bench: $(STAMP) ## Benchmark build and statistics speed; writes bench/results/
	$(BIN)/python bench/run.py

clean: ## Remove everything generated (keeps .venv)
	git clean -fdx -e .venv
