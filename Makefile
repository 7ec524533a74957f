# `make run` serves the gateway with no setup; `make test` is what CI runs.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python

.PHONY: run test lint bench help

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

run: $(VENV)/.installed  ## serve the gateway in sandbox mode on :8000, SHA sandbox on :8001
	$(PY) app.py

lint: $(VENV)/.installed  ## ruff, as configured in pyproject.toml
	$(PY) -m ruff check .

test: lint  ## lint, then the whole suite against Redis on 127.0.0.1:6379
	$(PY) -m pytest

bench: $(VENV)/.installed  ## USSD throughput and latency under gunicorn, with a bare baseline
	$(PY) bench/ussd_bench.py
