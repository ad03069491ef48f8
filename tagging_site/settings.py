"""Settings for the video-tagging workbench.

Everything that differs between a laptop, CI and production comes from the
environment (see README, "Configuration"). The defaults give a zero-setup
development site: SQLite in ./var, the django-q2 ORM broker on that database.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from tagging_site.env import (
    env_bool,
    env_bytes,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_path,
    env_paths,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

# Development is the default so that `make demo` and `make test` need no setup;
# production sets DEBUG=0, which makes SECRET_KEY and ALLOWED_HOSTS mandatory.
DEBUG = env_bool("DEBUG", True)

_secret_key = env_str("SECRET_KEY")
if not _secret_key:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    _secret_key = "insecure-development-key-only-for-debug-mode-0123456789abcdefghijklmnop"  # noqa: S105
SECRET_KEY: str = _secret_key

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the site's host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_htmx",
    "django_q",
    "annotations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tagging_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotations.context_processors.role",
            ],
        },
    },
]

WSGI_APPLICATION = "tagging_site.wsgi.application"
ASGI_APPLICATION = "tagging_site.asgi.application"

# --- Database -----------------------------------------------------------------
_database_url = env_str("DATABASE_URL") or ""
if not _database_url:
    # The zero-setup default: a SQLite file in ./var, created on first use.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _database_url = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(_database_url, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
if _database["ENGINE"] == "django.db.backends.sqlite3":
    # The web process and the workers write at once: WAL lets readers go on during a
    # write, and IMMEDIATE transactions take the write lock up front, so a busy database
    # makes a writer wait (up to the timeout) instead of failing with "database is locked".
    _database.setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    _database["CONN_MAX_AGE"] = 0
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Internationalisation -------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en") or "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC") or "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env_path("STATIC_ROOT", BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")

# Largest video accepted from an upload, a manifest row or a URL.
MAX_UPLOAD_BYTES = env_bytes("MAX_UPLOAD_BYTES", 2 * 1024**3)
# Uploads above this size are streamed to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2

# Folders that manifests and folder scans may read media from. Nothing outside
# them is ever opened, whatever a manifest says.
IMPORT_ROOTS = env_paths("IMPORT_ROOTS", [VAR_DIR / "imports"])
# Host names that URL imports may fetch from even when they resolve to a
# private address (an intranet media server, say). Public hosts need no entry.
URL_IMPORT_ALLOWLIST = env_list("URL_IMPORT_ALLOWLIST", [])
URL_IMPORT_TIMEOUT_SECONDS = env_float("URL_IMPORT_TIMEOUT_SECONDS", 30.0, minimum=1.0)

# --- Background jobs (django-q2) ----------------------------------------------------
REDIS_URL = env_str("REDIS_URL") or ""
TASK_BROKER = env_choice("TASK_BROKER", "redis" if REDIS_URL else "orm", ("orm", "redis"))
if TASK_BROKER == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("TASK_BROKER=redis needs REDIS_URL, e.g. redis://127.0.0.1:6379/0.")
_task_timeout = env_int("TASK_TIMEOUT_SECONDS", 3 * 3600, minimum=10)
Q_CLUSTER: dict[str, object] = {
    "name": "tagging",
    "workers": env_int("TASK_WORKERS", 2, minimum=1),
    "timeout": _task_timeout,
    # A task is handed to another worker only after the first had time to finish.
    "retry": _task_timeout + 300,
    "max_attempts": 2,
    "queue_limit": 20,
    "save_limit": 1000,
    "catch_up": False,
    "label": "Background jobs",
}
if TASK_BROKER == "redis":
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}

# --- Security -----------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

_LOG_LEVELS = ("debug", "info", "warning", "error")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("LOG_LEVEL", "info", _LOG_LEVELS).upper(),
    },
    "loggers": {
        # An "Enqueued" line for every video of a large import drowns what matters.
        "django-q": {"level": env_choice("TASK_LOG_LEVEL", "warning", _LOG_LEVELS).upper()},
    },
}
