# `make run` and `make test` set up everything they need themselves, then do their job.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: run test test-fast setup

setup: $(INSTALLED) $(FASHION_MNIST) $(CHROMEDRIVER)

# Real Fashion-MNIST for the image pipeline, from Debian (as root, else through sudo);
# the package index is refreshed only if the first try cannot find the package.
$(FASHION_MNIST):
	$(SUDO) apt-get install -y -q dataset-fashion-mnist || \
	  { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q dataset-fashion-mnist; }

# Chromium and its WebDriver for the serving page's browser test, from Debian as the dataset is.
$(CHROMEDRIVER):
	$(SUDO) apt-get install -y -q chromium chromium-driver || \
	  { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium chromium-driver; }

$(INSTALLED): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

run: setup
	$(VENV)/bin/toolkit run sentiment

# Two workers, one a core, each TensorFlow process with one thread: TensorFlow's pools, sized for every
# core, would spin waiting for the cores the other worker holds (measured: 13 % less time, 13 % less CPU).
# tests/conftest.py says which tests share a worker.
PYTEST := TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 $(PY) -m pytest -q -n 2 --dist loadscope

# The whole suite, as CI runs it.
test: setup
	$(PYTEST) $(PYTEST_ARGS)

# Everything but the tests marked slow (training to a quality, other processes, default configs): for iterating.
test-fast: setup
	$(PYTEST) -m "not slow" $(PYTEST_ARGS)
