# lmreview: `make demo` and `make test` work on a fresh clone (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
DEMO_DB ?= workspace/demo.db

.PHONY: demo demo-data test lint typecheck browser-deps clean bench

$(BIN)/lmreview: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/lmreview  ## load the sample portfolios into workspace/demo.db and serve the web UI
	$(BIN)/lmreview --db $(DEMO_DB) demo

demo-data: $(BIN)/lmreview  ## the same, without serving
	$(BIN)/lmreview --db $(DEMO_DB) demo --no-serve

lint: $(BIN)/lmreview
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(BIN)/lmreview
	$(BIN)/mypy

browser-deps:  ## Debian's Chromium for the browser tests (never `playwright install`)
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || echo "could not install chromium: the browser tests will be skipped"; \
	else \
	  echo "chromium is not installed and cannot be installed here: the browser tests will be skipped"; \
	fi

PYTEST_PARALLEL ?= -n auto --maxprocesses=4  # pytest-xdist: one worker per core, at most four
test: $(BIN)/lmreview browser-deps lint typecheck  ## the whole suite: SQLite always, PostgreSQL when a server answers
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "PostgreSQL answers at $(PG_URL): the store tests run on SQLite and PostgreSQL"; \
	  LMREVIEW_TEST_POSTGRES_URL=$(PG_URL) $(BIN)/pytest $(PYTEST_PARALLEL); \
	else \
	  echo "no PostgreSQL server answers at $(PG_URL): the store tests run on SQLite only"; \
	  $(BIN)/pytest $(PYTEST_PARALLEL); \
	fi

BENCH_ARGS ?=
bench: $(BIN)/lmreview  ## every benchmarks/bench_*.py at its default size (minutes); BENCH_ARGS=--scale for 100,000 projects
	@for script in benchmarks/bench_*.py; do \
	  echo "== $$script $(BENCH_ARGS)"; \
	  PYTHONPATH=src $(BIN)/python $$script $(BENCH_ARGS) || exit 1; \
	done

clean:
	rm -rf $(VENV) workspace .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
