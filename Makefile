# Everything starts from a fresh clone with only Python 3 installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint heroku-local clean

run: $(VENV)/.runtime  ## Serve on http://127.0.0.1:5000 with SQLite
	$(BIN)/python manage.py db upgrade
	$(BIN)/python manage.py runserver

test: $(VENV)/.dev  ## The whole test suite
	$(BIN)/python -m pytest

heroku-local: $(VENV)/.dev  ## The Procfile as Heroku runs it, on local PostgreSQL
	PATH="$(CURDIR)/$(BIN):$$PATH" bin/heroku-local

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

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime
