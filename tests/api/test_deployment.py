"""Deployment settings: S3 media, static files, gunicorn, read from the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.core.management import call_command
from pytest_django.fixtures import Settings

ROOT = Path(__file__).resolve().parent.parent.parent

PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "example.org"}


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MEDIA_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "tagging_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


STORAGE_CLASSES = (
    "import django; django.setup(); "
    "from django.core.files.storage import storages; "
    "print(type(storages['default']).__name__, type(storages['staticfiles']).__name__)"
)


def test_media_goes_to_s3_when_configured_and_static_files_are_hashed_in_production() -> None:
    done = _python(
        STORAGE_CLASSES,
        **PRODUCTION,
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME="media",
        AWS_S3_ENDPOINT_URL="http://minio.internal:9000",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["S3Storage", "CompressedManifestStaticFilesStorage"]


def test_local_media_and_plain_static_files_by_default() -> None:
    done = _python(STORAGE_CLASSES)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["FileSystemStorage", "StaticFilesStorage"]


def test_s3_without_a_bucket_stops_the_start_naming_the_variable() -> None:
    done = _python(STORAGE_CLASSES, MEDIA_STORAGE="s3")
    assert done.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME" in done.stderr


def test_gunicorn_reads_its_settings_from_the_environment() -> None:
    code = (
        "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "print(c['workers'], c['threads'], c['bind'], c['wsgi_app'])"
    )
    done = _python(code, WEB_CONCURRENCY="3", GUNICORN_BIND="0.0.0.0:9000")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "4", "0.0.0.0:9000", "tagging_site.wsgi:application"]
    refused = _python(code, WEB_CONCURRENCY="many")
    assert refused.returncode != 0
    assert "WEB_CONCURRENCY must be a whole number" in refused.stderr


def test_collectstatic_hashes_every_static_file_as_production_serves_them(
    tmp_path: Path, settings: Settings
) -> None:
    """A file that names one which is not there (a source map) stops a deployment."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    assert "vendor/chartjs/chart.umd.min.js" in manifest["paths"]
    assert "js/player.js" in manifest["paths"]
