"""Settings for the video-tagging workbench.

Everything that differs between a laptop, CI and production comes from the
environment (see README, "Configuration"). The defaults give a zero-setup
development site: SQLite in ./var, the django-q2 ORM broker on that database.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
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
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    # Failed logins, lockouts and the login log (in the admin under "Axes").
    "axes",
    "csp",
    # Before django_q, so that `manage.py qcluster` is ours: the same cluster, stopped
    # cleanly on a SIGTERM to its whole process group (see the command).
    "annotations",
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the app server, compressed and cached forever once hashed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a login refused for a lockout into its answer.
    "axes.middleware.AxesMiddleware",
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
elif _database["ENGINE"] == "django.db.backends.postgresql" and not env_bool("DATABASE_JIT", False):
    # PostgreSQL compiles a query with LLVM once the planner's estimate of its cost is
    # high, and it prices the review queue's correlated permission checks in the millions:
    # about 3 s of compiling for a query that runs in 0.3 ms (PostgreSQL 15, measured).
    # This app runs no analytic scan long enough to repay a compilation.
    _options = _database.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The lockout backend comes first: a locked-out account or address is refused before
# its password is even hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
# "local" keeps media under MEDIA_ROOT; "s3" stores it in an S3-compatible bucket (needs the
# optional extra: pip install '.[s3]'), so web and worker machines share one store.
MEDIA_STORAGE = env_choice("MEDIA_STORAGE", "local", ("local", "s3"))
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# In development static files are found in the app folders on each request (no
# collectstatic needed); in production from STATIC_ROOT, hashed and compressed.
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
if MEDIA_STORAGE == "s3":
    _bucket = env_str("AWS_STORAGE_BUCKET_NAME") or ""
    if not _bucket:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "location": env_str("AWS_LOCATION", "") or "",
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }

# Largest video accepted from an upload, a manifest row or a URL.
MAX_UPLOAD_BYTES = env_bytes("MAX_UPLOAD_BYTES", 2 * 1024**3)
# Uploads above this size are streamed to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024**2
# Largest request body read into memory (JSON and form fields; uploaded files stream to
# disk whatever their size). Django's 2.5 MB by default: the one endpoint that takes more,
# the bulk import API (5,000 rows, up to tens of MB of escaped Russian text), reads its
# body with a limit of its own (annotations/api/parsers.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_bytes("MAX_REQUEST_BODY_BYTES", 2621440)

# Folders that manifests and folder scans may read media from. Nothing outside
# them is ever opened, whatever a manifest says.
IMPORT_ROOTS = env_paths("IMPORT_ROOTS", [VAR_DIR / "imports"])
# Host names that URL imports may fetch from even when they resolve to a
# private address (an intranet media server, say). Public hosts need no entry.
URL_IMPORT_ALLOWLIST = env_list("URL_IMPORT_ALLOWLIST", [])
URL_IMPORT_TIMEOUT_SECONDS = env_float("URL_IMPORT_TIMEOUT_SECONDS", 30.0, minimum=1.0)

# --- Media pipeline ---------------------------------------------------------------
# faster-whisper: a model name (downloaded into WHISPER_DOWNLOAD_ROOT on first use, when
# the machine is online) or a local directory holding a converted model.
WHISPER_MODEL = env_str("WHISPER_MODEL", "small") or "small"
WHISPER_DEVICE = env_choice("WHISPER_DEVICE", "auto", ("auto", "cpu", "cuda"))
WHISPER_COMPUTE_TYPE = env_str("WHISPER_COMPUTE_TYPE", "auto") or "auto"
# "detect" lets Whisper pick the language of each video.
WHISPER_LANGUAGE = env_str("WHISPER_LANGUAGE", "ru") or "ru"
WHISPER_VAD_FILTER = env_bool("WHISPER_VAD_FILTER", True)
WHISPER_BEAM_SIZE = env_int("WHISPER_BEAM_SIZE", 5, minimum=1)
# Pieces of speech faster-whisper's BatchedInferencePipeline decodes at once; 0: sequential.
# Batching cuts the audio at the pauses the voice-activity filter finds, so it needs it.
WHISPER_BATCH_SIZE = env_int("WHISPER_BATCH_SIZE", 0, minimum=0)
if WHISPER_BATCH_SIZE and not WHISPER_VAD_FILTER:
    raise ImproperlyConfigured(
        "WHISPER_BATCH_SIZE needs WHISPER_VAD_FILTER=1: batched recognition cuts the audio "
        "where the voice-activity filter hears pauses. Set WHISPER_BATCH_SIZE=0 for "
        "sequential recognition without the filter."
    )
WHISPER_DOWNLOAD_ROOT = env_str("WHISPER_DOWNLOAD_ROOT") or str(VAR_DIR / "models" / "whisper")
WHISPER_LOCAL_FILES_ONLY = env_bool("WHISPER_LOCAL_FILES_ONLY", False)
FRAME_EVERY_NTH = env_int("FRAME_EVERY_NTH", 10, minimum=1)
MAX_KEYFRAMES = env_int("MAX_KEYFRAMES", 12, minimum=1)
SHOT_THRESHOLD = env_float("SHOT_THRESHOLD", 0.5, minimum=0.0)
FACE_DETECTION = env_bool("FACE_DETECTION", True)
# Optional image embeddings: "" (off), "clip:<sentence-transformers model or path>" or
# "onnx:<path to an .onnx image classifier>".
IMAGE_EMBEDDING_MODEL = env_str("IMAGE_EMBEDDING_MODEL", "") or ""
# Longest video accepted for processing; longer ones fail with a clear reason.
MAX_VIDEO_SECONDS = env_float("MAX_VIDEO_SECONDS", 6 * 3600.0, minimum=1.0)
TEXT_MODE = env_choice("TEXT_MODE", "lemma", ("lemma", "stem", "none"))
SUMMARY_SENTENCES = env_int("SUMMARY_SENTENCES", 3, minimum=1)

# --- Labeling -----------------------------------------------------------------------
# How long a slot handed out by "next video" stays reserved for its annotator.
LABELING_LEASE_MINUTES = env_int("LABELING_LEASE_MINUTES", 30, minimum=1)

# --- Suggestion model -------------------------------------------------------------
# Sentence-transformers model (name or local path) for text embeddings; multilingual,
# since the content is Russian. When it cannot be loaded, training goes on without it.
EMBEDDING_MODEL = (
    env_str("EMBEDDING_MODEL", "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2") or ""
)
MODEL_DIR = env_path("MODEL_DIR", VAR_DIR / "models")
MODEL_CLASSIFIER = env_choice("MODEL_CLASSIFIER", "logreg", ("logreg", "linear_svm"))
MODEL_SEARCH = env_choice("MODEL_SEARCH", "random", ("none", "grid", "random"))
MODEL_SEARCH_BUDGET = env_int("MODEL_SEARCH_BUDGET", 6, minimum=1)
MODEL_CV_FOLDS = env_int("MODEL_CV_FOLDS", 3, minimum=2)
# One-vs-rest classifiers fitted at once while training, each in a process of its own; the
# model is the same whatever the number, only the time changes.
MODEL_N_JOBS = env_int("MODEL_N_JOBS", 1, minimum=1)
# A candidate is promoted only if PROMOTION_METRIC > the current model's + PROMOTION_MARGIN
# on the same evaluation data (a tie stays a candidate).
PROMOTION_METRIC = env_choice(
    "PROMOTION_METRIC",
    "hierarchical_iou",
    ("hierarchical_iou", "f1_micro", "f1_macro", "f1_samples", "precision_at_3"),
)
PROMOTION_MARGIN = env_float("PROMOTION_MARGIN", 0.0)
MIN_TRAINING_VIDEOS = env_int("MIN_TRAINING_VIDEOS", 10, minimum=2)
# The scheduled retraining runs on this cron and trains only when this many confirmed
# labels arrived since the last version.
RETRAIN_CRON = env_str("RETRAIN_CRON", "0 3 * * *") or "0 3 * * *"
RETRAIN_MIN_NEW_LABELS = env_int("RETRAIN_MIN_NEW_LABELS", 50, minimum=1)
SUGGESTIONS_SHOWN = env_int("SUGGESTIONS_SHOWN", 8, minimum=1)
# Candidates below the threshold shown after the confident ones.
SUGGESTIONS_EXTRA = env_int("SUGGESTIONS_EXTRA", 3, minimum=0)
# Whether labels the model confirmed itself (auto-confirmation) are training data too;
# off: the model learns only from people's labels.
TRAIN_ON_MODEL_LABELS = env_bool("TRAIN_ON_MODEL_LABELS", False)

# --- Background jobs (django-q2) ----------------------------------------------------
REDIS_URL = env_str("REDIS_URL") or ""
TASK_BROKER = env_choice("TASK_BROKER", "redis" if REDIS_URL else "orm", ("orm", "redis"))
if TASK_BROKER == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("TASK_BROKER=redis needs REDIS_URL, e.g. redis://127.0.0.1:6379/0.")
_task_timeout = env_int("TASK_TIMEOUT_SECONDS", 3 * 3600, minimum=10)
_task_workers = env_int("TASK_WORKERS", 2, minimum=1)
# Threads a worker process decodes a video's frames with, beside the thread that analyses
# them. By default its share of the cores, which TASK_WORKERS processes share, less the
# one the analysis runs on: a full house of workers does not pay for threads no core is
# free to run.
FRAME_DECODE_THREADS = env_int(
    "FRAME_DECODE_THREADS", max(1, (os.cpu_count() or 1) // _task_workers - 1), minimum=1
)
Q_CLUSTER: dict[str, object] = {
    # The queue's name (the Redis list key, and the salt task payloads are signed with):
    # every web process and worker of one site must use the same.
    "name": env_str("TASK_QUEUE_NAME") or "tagging",
    "workers": _task_workers,
    "timeout": _task_timeout,
    # A task is handed to another worker only after the first had time to finish.
    "retry": _task_timeout + 300,
    "max_attempts": 2,
    # Tasks a cluster takes from the broker ahead of its free workers: few, so that a
    # busy machine does not sit on jobs another could run (and a killed one loses few).
    "queue_limit": _task_workers,
    "save_limit": 1000,
    "catch_up": False,
    "label": "Background jobs",
    # A daemonic worker may not start processes, and training would fit one classifier at
    # a time whatever MODEL_N_JOBS says.
    "daemonize_workers": MODEL_N_JOBS == 1,
}
if TASK_BROKER == "redis":
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# The job lifecycle (annotations.services.jobs). A running job writes a heartbeat every
# JOB_HEARTBEAT_SECONDS; one silent for JOB_STALE_SECONDS belongs to a worker that died
# and is queued again by the sweeper (a schedule run every minute, and at each worker
# start), or failed with the reason after JOB_MAX_ATTEMPTS runs. A queued job that no
# worker started JOB_REQUEUE_SECONDS after it was handed to the broker, while the broker
# holds nothing, was lost with a worker's prefetched tasks and is handed over again.
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 10.0, minimum=0.1)
JOB_STALE_SECONDS = env_float("JOB_STALE_SECONDS", 60.0, minimum=0.5)
if JOB_STALE_SECONDS < 3 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        "JOB_STALE_SECONDS must be at least three heartbeats (3 x JOB_HEARTBEAT_SECONDS), "
        f"so that one late heartbeat does not give a live job away; got {JOB_STALE_SECONDS}."
    )
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
JOB_REQUEUE_SECONDS = env_float("JOB_REQUEUE_SECONDS", 120.0, minimum=0.5)
# On SIGTERM or SIGINT a worker gives its running jobs this long to reach a checkpoint
# and go back to the queue, then stops its processes; the whole stop stays under 30 s.
JOB_STOP_SECONDS = env_float("JOB_STOP_SECONDS", 15.0, minimum=0.5)
if JOB_STOP_SECONDS > 25:
    raise ImproperlyConfigured(f"JOB_STOP_SECONDS must be at most 25; got {JOB_STOP_SECONDS}.")
# Each running job's temporary files live in a folder of its own here, removed when the
# run ends and, for a run whose worker died, by the sweeper.
JOB_SCRATCH_DIR = env_path("JOB_SCRATCH_DIR", VAR_DIR / "scratch")

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first, so an anonymous request is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "annotations.api.exceptions.api_exception_handler",
}
# Requests per minute and user on the expensive endpoints (over it: 429 with Retry-After),
# counted in RATE_LIMIT_STORE, which every web process shares.
API_THROTTLE_RATES = {
    "predict": f"{env_int('API_PREDICT_PER_MINUTE', 120, minimum=1)}/min",
    "exports": f"{env_int('API_EXPORTS_PER_MINUTE', 10, minimum=1)}/min",
    "uploads": f"{env_int('API_UPLOADS_PER_MINUTE', 30, minimum=1)}/min",
}
# Retraining requests started by people (page or API) per project and hour; the nightly
# schedule is not counted. A second request while one trains is refused whatever this says.
RETRAIN_REQUESTS_PER_HOUR = env_int("RETRAIN_REQUESTS_PER_HOUR", 6, minimum=1)
# Where the limits above are counted, shared by every web process: Redis when REDIS_URL is
# set, else a table in the database (atomic increments, so concurrent requests from
# several processes cannot slip past a limit).
RATE_LIMIT_STORE = env_choice(
    "RATE_LIMIT_STORE", "redis" if REDIS_URL else "database", ("redis", "database")
)
if RATE_LIMIT_STORE == "redis" and not REDIS_URL:
    raise ImproperlyConfigured("RATE_LIMIT_STORE=redis needs REDIS_URL.")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        },
        "limits": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "limits",
        },
    }
SPECTACULAR_SETTINGS = {
    "TITLE": "Video tagging workbench API",
    "DESCRIPTION": (
        "Projects, taxonomies, videos, annotations, reviews, model versions, predictions and "
        "dataset exports. Authenticate with `Authorization: Token <key>` (from "
        "`POST /api/v1/auth/token/`) or a browser session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PATH_CONVERTER_OVERRIDES": {"id": int},
    "ENUM_NAME_OVERRIDES": {
        "AnnotationStateEnum": "annotations.models.labels.Annotation.State",
        "ModelVersionStateEnum": "annotations.models.learning.ModelVersion.State",
        "ExportStateEnum": "annotations.models.learning.ExportSnapshot.State",
        "JobStateEnum": ["queued", "running", "done", "failed", "cancelled"],
        "JobKindEnum": ["ingest", "training", "suggestions", "predict", "export", "import", "task"],
    },
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

# Login throttling (django-axes) on the login page, the admin login and the API token
# endpoint. LOGIN_FAILURE_LIMIT wrong passwords for one account, or from one address, within
# LOGIN_LOCKOUT_MINUTES lock that account or address until enough of them are older than
# that to leave fewer than the limit; the answer (429) says until when. Attempts while
# locked are refused without being counted, so the time shown holds. Admins see attempts
# and lockouts in the admin ("Axes") and unlock with `manage.py axes_reset_username NAME`
# or `axes_reset_ip ADDRESS`.
AXES_ENABLED = env_bool("LOGIN_THROTTLING", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = dt.timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "annotations.views.login.lockout_response"
AXES_CLIENT_IP_CALLABLE = "annotations.views.login.client_address"
# Every failure is kept for the admins, not only the running count.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The log says which account and address were locked (passwords are never logged).
AXES_SENSITIVE_PARAMETERS: list[str] = []
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For;
# 0 (the default) reads the connection's address, which a client cannot forge.
PROXY_COUNT = env_int("PROXY_COUNT", 0, minimum=0)

# Content-Security-Policy: pages run only the site's own script files and style sheets;
# no inline script, inline style attribute or eval anywhere (htmx is configured so in
# base.html). Media from object storage comes from the bucket's origin.
_media_origins: list[str] = []
if MEDIA_STORAGE == "s3":
    _endpoint = env_str("AWS_S3_ENDPOINT_URL") or ""
    _media_origins = [_endpoint.rstrip("/")] if _endpoint else ["https://*.amazonaws.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF, *_media_origins],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

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
