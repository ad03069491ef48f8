"""Gunicorn settings for the web process, read from the environment.

WEB_CONCURRENCY      worker processes (default: 2 x CPUs + 1, at most 8)
GUNICORN_THREADS     threads per worker (default 4): uploads and downloads wait on I/O
GUNICORN_BIND        address to listen on (default 127.0.0.1:8000; 0.0.0.0:8000 behind a proxy)
GUNICORN_TIMEOUT     seconds a request may take (default 300: large uploads)
FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-* headers (default 127.0.0.1)
LOG_LEVEL            debug, info, warning or error (default info)
"""

from __future__ import annotations

import os

from tagging_site.env import env_choice, env_int, env_str

wsgi_app = "tagging_site.wsgi:application"
bind = env_str("GUNICORN_BIND", "127.0.0.1:8000") or "127.0.0.1:8000"
workers = env_int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, 8), minimum=1)
worker_class = "gthread"
threads = env_int("GUNICORN_THREADS", 4, minimum=1)
timeout = env_int("GUNICORN_TIMEOUT", 300, minimum=10)
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests, so a slow leak cannot grow forever.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = env_str("FORWARDED_ALLOW_IPS", "127.0.0.1") or "127.0.0.1"
accesslog = "-"
errorlog = "-"
loglevel = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error"))
