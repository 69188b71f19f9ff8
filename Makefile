# Everything starts from a fresh clone with only Python 3 installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-reliability lint heroku-local bench bench-smoke bench-tools clean

run: $(VENV)/.runtime  ## Serve on http://127.0.0.1:5000 with SQLite
	$(BIN)/python manage.py db upgrade
	$(BIN)/python manage.py runserver

test: $(VENV)/.dev  ## The test suite (without the long reliability runs)
	$(BIN)/python -m pytest -m "not reliability"

test-reliability: $(VENV)/.dev  ## Load, faults and hostile input against real processes
	$(BIN)/python -m pytest tests/reliability -m reliability -s

heroku-local: $(VENV)/.dev  ## The Procfile as Heroku runs it, on local PostgreSQL
	PATH="$(CURDIR)/$(BIN):$$PATH" bin/heroku-local

bench: $(VENV)/.bench bench-tools  ## Every benchmark; writes bench/RESULTS.md and bench/results.json
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py

bench-smoke: $(VENV)/.bench bench-tools  ## The benchmark harness on tiny inputs (seconds)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/run.py --smoke --output test-artifacts/bench-smoke

bench-tools:  # Debian's wrk and hyperfine, and Python's HTML docs as the corpus
	@command -v wrk >/dev/null && command -v hyperfine >/dev/null \
	  && test -d /usr/share/doc/python3/html \
	  || (apt-get update -qq && apt-get install -y -qq wrk hyperfine python3-doc >/dev/null)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.bench: bench/requirements.txt $(VENV)/.dev
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime
