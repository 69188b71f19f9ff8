# Everything starts from a fresh clone with only Python 3 installed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-pgbouncer lint audit heroku-local bench bench-smoke clean

# A virtualenv keeps the path it was made in: moved or renamed with the
# project, its scripts point at the old one. Start it afresh then.
ifneq ($(wildcard $(BIN)/pip),)
ifeq ($(shell head -n 2 $(BIN)/pip | grep -cF '$(abspath $(BIN))/python'),0)
$(info make: $(VENV) was made in another folder; making it again)
$(shell rm -rf $(VENV))
endif
endif

run: $(VENV)/.runtime  ## Serve on http://127.0.0.1:5000 with SQLite, debugger and reloader on
	$(BIN)/python manage.py db upgrade
	$(BIN)/python manage.py runserver

# The property tests' random seed, printed; HYPOTHESIS_SEED=N repeats a run's cases.
ifndef HYPOTHESIS_SEED
HYPOTHESIS_SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif
PYTEST_ARGS += --hypothesis-seed=$(HYPOTHESIS_SEED)

test: $(VENV)/.dev  ## The test suite (without the long reliability runs), with coverage
	rm -rf test-artifacts/coverage && mkdir -p test-artifacts/coverage
	@echo "make test: $(PYTEST_ARGS)"
	$(BIN)/python -m pytest -m "not reliability" --numprocesses 2 --dist loadfile --cov --cov-report=term \
	  $(PYTEST_ARGS)

test-pgbouncer: $(VENV)/.dev  ## The PostgreSQL tests again, through PgBouncer in transaction mode
	$(BIN)/python -m tests.with_pgbouncer $(BIN)/python -m pytest -m "postgres and not reliability and not slow" -q --numprocesses 2 --dist loadfile

lint: $(VENV)/.dev  ## ruff's lint rules, its formatting and mypy, as the pre-commit hooks run them
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

audit: $(VENV)/.dev  ## Known vulnerabilities in the pinned requirements (asks PyPI: not a test)
	$(BIN)/pip-audit --requirement requirements.txt --requirement requirements-traces.txt --no-deps --disable-pip --progress-spinner off

heroku-local: $(VENV)/.dev  ## The Procfile as Heroku runs it, on local PostgreSQL
	PATH="$(CURDIR)/$(BIN):$$PATH" bin/heroku-local

bench: $(VENV)/.dev  ## What the app's layers cost per request (bench/RESULTS.md); your pages: BENCH_PAGES="/ /items"
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.run

bench-smoke: $(VENV)/.dev  ## The same on tiny runs (seconds), so the harness never rots
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.run --smoke --output test-artifacts/bench-smoke

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts

# uv installs the same pins four times faster than pip (docs/development.md):
# used when it is on PATH, never required.
UV := $(shell command -v uv 2>/dev/null)
ifdef UV
INSTALL := $(UV) pip install --quiet --compile-bytecode --python $(BIN)/python
else
INSTALL := $(BIN)/python -m pip install --quiet
endif

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(INSTALL) -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-traces.txt requirements-dev.txt | $(VENV)/bin/python
	$(INSTALL) -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# >>> template
# The template's own targets: the fork step deletes them with itself.
.PHONY: fork test-fork
fork:  ## Make this clone your project: make fork NAME=Shelf KEEP=accounts (or none, or "accounts example")
	@$(PYTHON) forking/fork.py "$(NAME)" "$(SHORT)" "$(KEEP)"

test-fork: $(VENV)/.dev  ## The fork step's tests, each in a scratch clone (minutes)
	$(BIN)/python -m pytest forking/tests --numprocesses 2 --dist loadfile $(PYTEST_ARGS)
# <<< template

# >>> example
# The Wordcount example's own targets.
.PHONY: test-reliability bench-wordcount bench-wordcount-smoke bench-tools

test-reliability: $(VENV)/.dev  ## Load, faults and hostile input against real processes
	$(BIN)/python -m pytest wordcount/tests/reliability -m reliability --numprocesses 2 --dist loadfile

# make bench and make bench-smoke run the example's benchmarks too.
bench: bench-wordcount
bench-smoke: bench-wordcount-smoke

bench-wordcount: $(VENV)/.bench bench-tools  ## The example's benchmarks; writes wordcount/bench/RESULTS.md
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m wordcount.bench.run

bench-wordcount-smoke: $(VENV)/.bench bench-tools  ## The example's benchmark harness on tiny inputs
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m wordcount.bench.run --smoke --output test-artifacts/bench-smoke/wordcount

bench-tools:  # Debian's wrk and hyperfine, and Python's HTML docs as the corpus
	@command -v wrk >/dev/null && command -v hyperfine >/dev/null \
	  && test -d /usr/share/doc/python3/html \
	  || (apt-get update -qq && apt-get install -y -qq wrk hyperfine python3-doc >/dev/null)

$(VENV)/.bench: wordcount/bench/requirements.txt $(VENV)/.dev
	$(INSTALL) -r wordcount/bench/requirements.txt
	touch $@
# <<< example
