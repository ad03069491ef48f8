"""Settings come from the environment and refuse values they cannot read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tagging_site.env import env_bool, env_bytes, env_choice, env_int, env_list

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("off", False), ("0", False)]
)
def test_env_bool_reads_common_spellings(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool
) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


@pytest.mark.parametrize(
    ("reader", "raw"),
    [
        (lambda: env_bool("X_VALUE", False), "maybe"),
        (lambda: env_int("X_VALUE", 1), "ten"),
        (lambda: env_int("X_VALUE", 1, minimum=1), "0"),
        (lambda: env_bytes("X_VALUE", 1), "2 parsecs"),
        (lambda: env_choice("X_VALUE", "orm", ("orm", "redis")), "kafka"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, reader: object, raw: str
) -> None:
    monkeypatch.setenv("X_VALUE", raw)
    with pytest.raises(ImproperlyConfigured, match="X_VALUE"):
        reader()  # type: ignore[operator]


def test_sizes_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_SIZE", "500M")
    monkeypatch.setenv("X_LIST", " a.example , b.example,, ")
    assert env_bytes("X_SIZE", 0) == 500 * 1024**2
    assert env_list("X_LIST", []) == ["a.example", "b.example"]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Variables set by this test run (other tests' included) must not leak into the child.
    leaking = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in leaking}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _printed(code: str, **env: str) -> list[str]:
    """What ``code`` prints, run in ``manage.py shell`` with ``env`` added to the environment."""
    result = _manage("shell", "--no-imports", "-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def _refusal(var_dir: Path, **env: str) -> str:
    """What ``manage.py check`` stops with when ``env`` is added; it must not pass."""
    result = _manage("check", VAR_DIR=str(var_dir), **env)
    assert result.returncode != 0, result.stdout
    return result.stderr


def test_deploy_check_is_clean_with_production_settings(tmp_path: Path) -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY="x" * 20 + "-a-long-random-production-secret-key-" + "y" * 20,
        ALLOWED_HOSTS="tags.example.org",
        VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, DEBUG="0", ALLOWED_HOSTS="tags.example.org")
    assert "SECRET_KEY must be set" in refused


def test_redis_broker_needs_a_url(tmp_path: Path) -> None:
    assert "REDIS_URL" in _refusal(tmp_path, TASK_BROKER="redis", REDIS_URL="")


def test_parallel_training_fits_are_configured_and_bad_values_refused(tmp_path: Path) -> None:
    refused = _refusal(tmp_path, MODEL_N_JOBS="0")
    shown = _printed(
        "from django.conf import settings; "
        "print(settings.MODEL_N_JOBS, settings.Q_CLUSTER['daemonize_workers'])",
        MODEL_N_JOBS="2",
        VAR_DIR=str(tmp_path),
    )

    assert "MODEL_N_JOBS must be at least 1" in refused
    # Fits in processes of their own need workers that are allowed to start processes.
    assert shown == ["2", "False"]


def test_batched_speech_recognition_is_configured_and_needs_the_voice_filter(
    tmp_path: Path,
) -> None:
    refused = _refusal(tmp_path, WHISPER_BATCH_SIZE="16", WHISPER_VAD_FILTER="0")
    negative = _refusal(tmp_path, WHISPER_BATCH_SIZE="-1")
    # What the ingest step hands to ml.asr.
    shown = _printed(
        "from annotations.services.media.ingest.steps import _asr_settings; "
        "print(_asr_settings().batch_size)",
        WHISPER_BATCH_SIZE="16",
        VAR_DIR=str(tmp_path),
    )

    assert "WHISPER_BATCH_SIZE needs WHISPER_VAD_FILTER=1" in refused
    assert "WHISPER_BATCH_SIZE must be at least 0" in negative
    assert shown == ["16"]


def test_frame_decoding_threads_default_to_each_workers_share_of_the_cores_but_one(
    tmp_path: Path,
) -> None:
    cores = os.cpu_count() or 1
    code = "from django.conf import settings; print(settings.FRAME_DECODE_THREADS)"
    alone = _printed(code, TASK_WORKERS="1", VAR_DIR=str(tmp_path))
    crowded = _printed(code, TASK_WORKERS=str(cores + 1), VAR_DIR=str(tmp_path))
    chosen = _printed(code, TASK_WORKERS="1", FRAME_DECODE_THREADS="3", VAR_DIR=str(tmp_path))

    assert alone == [str(max(1, cores - 1))]  # one core analyses what the others decode
    assert crowded == ["1"]  # never fewer than one
    assert chosen == ["3"]
    assert "FRAME_DECODE_THREADS must be at least 1" in _refusal(tmp_path, FRAME_DECODE_THREADS="0")


def test_postgresql_connections_turn_the_query_compiler_off_unless_asked(tmp_path: Path) -> None:
    code = "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])"
    url = "postgres://someone@db.example.org:5432/tagging"
    default = " ".join(_printed(code, DATABASE_URL=url, VAR_DIR=str(tmp_path)))
    asked = " ".join(_printed(code, DATABASE_URL=url, DATABASE_JIT="1", VAR_DIR=str(tmp_path)))

    assert "-c jit=off" in default
    assert "jit" not in asked


@pytest.mark.django_db
def test_the_test_database_connection_runs_without_the_query_compiler() -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
