# `make run` and `make test` set up everything they need themselves, then do their job.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: run test setup

setup: $(INSTALLED)

$(INSTALLED): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: $(INSTALLED)
	$(VENV)/bin/toolkit run sentiment

test: $(INSTALLED)
	$(PY) -m pytest -q $(PYTEST_ARGS)
