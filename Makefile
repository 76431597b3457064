# Two commands for a fresh machine: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_STAMP := instance/.system-packages
export FLASK_APP := wsgi:app

.PHONY: run test layers test-sqlite test-postgres install system-packages migrate bench lint lock clean

# System packages from Debian: PostgreSQL 15 for the tests, CJK fonts for gate posters and pages, wrk for
# bench, Chromium for tests/browser; rerun when the script changes.
system-packages: $(SYSTEM_STAMP)
$(SYSTEM_STAMP): scripts/system-packages.sh
	@bash scripts/system-packages.sh
	@mkdir -p instance && touch $@

# Installs exactly the versions pinned in requirements.lock; setup.cfg keeps the ranges.
$(STAMP): setup.cfg pyproject.toml requirements.lock $(SYSTEM_STAMP)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,postgres,redis]'
	@touch $@

# Regenerates requirements.lock from setup.cfg's ranges (the package with its dev, postgres and
# redis extras; Python 3.11 on Linux x86_64). uv goes into the venv for this target only. Pins
# already in the file are kept; `make lock LOCK_ARGS=--upgrade` moves everything to the newest.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile setup.cfg --extra dev --extra postgres --extra redis \
		--python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
		--custom-compile-command "make lock" $(LOCK_ARGS) -o requirements.lock

install: $(STAMP) $(SYSTEM_STAMP)

migrate: install
	WUYE_ENV=$${WUYE_ENV:-development} $(BIN)/flask db upgrade

run: install
	@mkdir -p instance
	WUYE_ENV=$${WUYE_ENV:-development} $(BIN)/flask db upgrade
	WUYE_ENV=$${WUYE_ENV:-development} $(BIN)/flask wuye demo-data --if-empty
	@echo "Wuye API:    http://127.0.0.1:8000/api/v1/  (docs: http://127.0.0.1:8000/api/v1/docs)"
	WUYE_ENV=$${WUYE_ENV:-development} $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

test: install
	$(MAKE) --no-print-directory layers
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite: install
	@echo "== test suite on SQLite =="
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: install
	@echo "== test suite on a throwaway PostgreSQL 15 =="
	bash scripts/with-postgres.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

# The import layers of server/ (.importlinter): a forbidden import fails `make test` and CI.
layers: install
	@echo "== import layers (.importlinter) =="
	$(BIN)/lint-imports --no-cache

bench: install
	bash bench/run.sh

lint: install
	$(BIN)/ruff check server tests bench

clean:
	rm -rf $(VENV) instance/*.db instance/*.db-* .pytest_cache
