# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run stack stack-stop test test-packages test-sqlite test-postgres lint install install-dev bench clean

$(BIN)/python:
	@$(PYTHON) -c "import sys; assert sys.version_info[:2] == (3, 11), sys.version" || { echo "need Python 3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate, load demo data, serve on http://127.0.0.1:8000 (scripts/serve.sh)
run: install
	@HOST=$(HOST) PORT=$(PORT) PYTHON=$(BIN)/python scripts/serve.sh

## make stack: the production stack on loopback (scripts/stack.py): PostgreSQL, Redis, granian
## (HTTPS, DEBUG off), a Celery worker and beat, with the demo data; make stack-stop stops it.
stack: install
	@scripts/apt-install.sh postgresql=/usr/lib/postgresql redis-server=/usr/bin/redis-server openssl=/usr/bin/openssl
	@$(BIN)/python scripts/stack.py start

stack-stop:
	@$(BIN)/python scripts/stack.py stop

## make test: install, lint, run the whole suite on SQLite and on a real PostgreSQL
# Each phase prints a header ("== lint") and, when it ends, how long it took (scripts/timed.sh).
# The two suites share nothing (their own databases, servers on free ports), so they run side by
# side, one per core; each prints its output when it ends.
test:
	@start=$$(date +%s); \
	scripts/timed.sh "install (dev)" $(MAKE) --no-print-directory install-dev && \
	scripts/timed.sh "lint" $(MAKE) --no-print-directory lint && \
	scripts/timed.sh "test packages (Debian)" $(MAKE) --no-print-directory test-packages && \
	scripts/timed.sh "test suites on SQLite and PostgreSQL, side by side" \
		$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres && \
	echo "== make test: all phases passed in $$(($$(date +%s) - start)) s"

# Debian packages the tests talk to (Redis, sshd, Chromium and fonts): installed once, if missing.
test-packages:
	@scripts/install-test-packages.sh

# Style, the layering contracts (pyproject.toml [tool.importlinter]), types on the core, migrations.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0

test-sqlite: install-dev test-packages
	@scripts/timed.sh "test suite on SQLite" env -u DATABASE_URL $(BIN)/pytest -q

test-postgres: install-dev test-packages
	@scripts/timed.sh "test suite on PostgreSQL" scripts/with-postgres.sh $(BIN)/pytest -q -m "not stack"

bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var db.sqlite3* .test-db.sqlite3* .pg-test bench/data test-artifacts
