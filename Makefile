# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint format migrate worker web clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned in pyproject.toml to a release whose CPU build installs without CUDA packages.
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py setup_demo
	@echo "Starting the web server on http://$(HOST):$(PORT)/ and a background worker; Ctrl-C stops both."
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	TASK_LOG_LEVEL=info $(PY) manage.py qcluster & worker=$$!; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	TASK_LOG_LEVEL=info $(PY) manage.py qcluster

web: install
	$(PY) manage.py runserver $(HOST):$(PORT)

clean:
	rm -rf var/media var/imports/demo var/db.sqlite3
