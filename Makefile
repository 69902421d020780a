# The everyday verbs. `make run` and `make test` do all set-up on a fresh machine (Python 3.11).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000
TEST_ENV := LEADPACT_SECRET_KEY=tests-only-secret LEADPACT_JOBS=sync LEADPACT_FAST_PASSWORD_HASHER=1
PYTEST_ARGS ?=

.PHONY: install run gunicorn test lint format check-migrations bench demo clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

var/secret_key:
	mkdir -p var
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key
	chmod 600 var/secret_key

run: install var/secret_key
	$(BIN)/leadpact migrate --noinput
	$(BIN)/leadpact demo --if-empty
	$(BIN)/leadpact demo_logins
	$(BIN)/leadpact serve $(HOST):$(PORT)

gunicorn: install var/secret_key
	$(BIN)/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers 2 --threads 4

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: install
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

test: install lint check-migrations
	$(TEST_ENV) $(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: install
	$(TEST_ENV) $(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .bench test-artifacts
