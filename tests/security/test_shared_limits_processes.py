"""Two real web processes share one rate limit: the count is not kept per process.

Two ``manage.py runserver --noreload`` processes on two ports serve the same database
(and, for the Redis store, the same Redis); requests are fired at both at once. With
counts kept per process each would admit the limit, twice the limit in all.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from tests.security.test_rate_limits import TEST_REDIS_URL, _redis_reachable

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 7
REQUESTS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _base_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "REDIS_", "RATE_LIMIT_", "API_", "TASK_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DEBUG="0",
        SECRET_KEY="a-test-secret-key-that-is-long-enough-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="error",
        API_EXPORTS_PER_MINUTE=str(LIMIT),
    )
    return env


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, made once; each test works on a copy."""
    path = tmp_path_factory.mktemp("limits-db") / "db.sqlite3"
    env = {**_base_env(), "VAR_DIR": str(path.parent), "DATABASE_URL": f"sqlite:///{path}"}
    _manage(env, "migrate", "--noinput", "-v0")
    return path


@pytest.fixture
def server_env(tmp_path: Path, migrated_sqlite: Path) -> dict[str, str]:
    """The test's own PostgreSQL database when it runs on one, else a fresh SQLite file."""
    env = {**_base_env(), "VAR_DIR": str(tmp_path)}
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}"
            f":{s['PORT'] or 5432}/{s['NAME']}"
        )
    else:
        shutil.copy(migrated_sqlite, tmp_path / "db.sqlite3")
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    return env


def _token(env: dict[str, str]) -> str:
    script = (
        "from django.contrib.auth.models import Group, User; "
        "from rest_framework.authtoken.models import Token; "
        "from annotations.roles import roles_bootstrap; "
        "roles_bootstrap(); "
        "user = User.objects.create_user('limited', password='x' * 12); "
        "user.groups.add(Group.objects.get(name='admin')); "
        "print(Token.objects.create(user=user).key)"
    )
    return _manage(env, "shell", "-c", script).strip().splitlines()[-1]


@pytest.fixture
def two_servers(server_env: dict[str, str]) -> Iterator[tuple[dict[str, str], list[str]]]:
    servers: list[tuple[subprocess.Popen[bytes], str]] = []

    def start(env: dict[str, str]) -> list[str]:
        for _ in range(2):
            port = _free_port()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "runserver",
                    "--noreload",
                    "--skip-checks",
                    f"127.0.0.1:{port}",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append((process, f"http://127.0.0.1:{port}"))
        for process, base in servers:
            _wait_until_up(process, base)
        return [base for _, base in servers]

    yield server_env, start  # type: ignore[misc]
    for process, _ in servers:
        process.terminate()
    for process, _ in servers:
        process.wait(timeout=30)


def _wait_until_up(process: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "the web process exited on start"
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=2).close()  # noqa: S310
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not answer within 90 s")


def _post(url: str, token: str) -> int:
    request = urllib.request.Request(  # noqa: S310
        url, data=b"{}", method="POST", headers={"Authorization": f"Token {token}"}
    )
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as refused:
        return int(refused.code)


@pytest.mark.parametrize("store", ["database", "redis"])
def test_two_web_processes_admit_the_limit_once_between_them(
    store: str, two_servers: tuple[dict[str, str], object]
) -> None:
    env, start = two_servers
    if store == "redis":
        if not _redis_reachable():
            pytest.skip(f"no Redis at {TEST_REDIS_URL} (set TEST_REDIS_URL)")
        import redis

        client = redis.Redis.from_url(TEST_REDIS_URL)
        for key in client.scan_iter("limits:*"):
            client.delete(key)
        env = {**env, "REDIS_URL": TEST_REDIS_URL, "RATE_LIMIT_STORE": "redis"}
    token = _token(env)
    bases = start(env)  # type: ignore[operator]
    # A project that does not exist: past the limit 429, under it the view's 404.
    urls = [f"{bases[n % 2]}/api/v1/projects/999999/exports/" for n in range(REQUESTS)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(lambda url: _post(url, token), urls))

    assert set(codes) <= {404, 429}, codes
    assert codes.count(404) == LIMIT
