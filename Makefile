# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-packages test-sqlite test-postgres lint install install-dev bench clean

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

## make run: install, migrate, load demo data, serve on http://127.0.0.1:8000
run: install
	$(BIN)/python manage.py migrate --no-input -v 0
	$(BIN)/python manage.py seed_demo --url http://$(HOST):$(PORT)/
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## make test: install, lint, run the whole suite on SQLite and on a real PostgreSQL
test: install-dev lint test-packages test-sqlite test-postgres

# Debian packages the tests talk to (Redis, sshd, Chromium and fonts): installed once, if missing.
test-packages:
	@scripts/install-test-packages.sh

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0

test-sqlite: install-dev test-packages
	@echo "== test suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest -q

test-postgres: install-dev test-packages
	@echo "== test suite on PostgreSQL"
	scripts/with-postgres.sh $(BIN)/pytest -q

bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) db.sqlite3* .test-db.sqlite3* .pg-test bench/data test-artifacts
