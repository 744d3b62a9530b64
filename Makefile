# Two commands do everything on a fresh machine with Python >= 3.11, git and make:
#   make demo   virtualenv, install, migrate, demo data, admin login, serve on http://127.0.0.1:8000
#   make test   the whole test suite (SQLite; DATABASE_URL=postgres://... runs it on PostgreSQL)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SCALE ?= 2000
TEST_WORKERS ?= 2

.PHONY: install demo serve worker test test-postgres lint format bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: install
	$(BIN)/crm demo --scale $(SCALE) --port $(PORT)

serve: install
	$(BIN)/crm serve --port $(PORT)

worker: install
	$(BIN)/crm worker

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-postgres: install
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crm} $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/crm bench contacts-list --scale $(SCALE)
	$(BIN)/crm bench contacts-search --scale $(SCALE)
	$(BIN)/crm bench contacts-get --scale $(SCALE)
	$(BIN)/crm bench timeline --scale $(SCALE)
	$(BIN)/crm bench import --scale $(SCALE)
	$(BIN)/crm bench import-orders --scale $(SCALE)
	$(BIN)/crm bench orders --scale $(SCALE)
	$(BIN)/crm bench dedupe --scale $(SCALE)

clean:
	rm -rf $(VENV) var/test build *.egg-info
