"""Real worker processes (``manage.py qcluster``) running against the test database.

They need PostgreSQL: the workers open the test database from their own processes, and
pytest-django's SQLite test database lives in the test's memory; on SQLite these tests
are skipped, saying so. The Redis ones need a Redis at TEST_REDIS_URL
(``redis://127.0.0.1:6379/5`` by default); each test queues under a name of its own, so
that nothing else using that Redis can take or leave its tasks. Without one they are
skipped, unless REQUIRE_REDIS=1 (CI), where they fail.

The workers run with a short heartbeat (JOB_HEARTBEAT_SECONDS=0.5, stale after 3 s) so
that a killed worker's jobs are taken up in seconds, and with ``tests.workers.settings``,
which can hold each job at its first checkpoint (see ``tests.workers.apps``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django_q.conf import Conf
from pytest_django.fixtures import Settings

from annotations.management.processes import process_stats

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")
# How long a test waits for a worker to come up, and for a job to end.
START_TIMEOUT = 90.0
JOB_TIMEOUT = 300.0

needs_postgresql = pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="worker processes need the test database on PostgreSQL (set DATABASE_URL to a "
    "postgres:// URL): another process cannot open pytest's in-memory SQLite database",
)


def redis_or_skip() -> None:
    import redis

    try:
        redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis answers at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL} (TEST_REDIS_URL): {exc}")


@pytest.fixture(autouse=True)
def _tasks_run_inline() -> None:
    """Overrides the suite's: here the jobs go through a broker to real workers."""


def wait_until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something true; fail saying ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:.0f} s for {what}")
        time.sleep(every)


def _group_members(pgid: int) -> list[int]:
    """Live processes of the process group (zombies waiting for a reaper do not count)."""
    return [pid for pid, fields in process_stats() if int(fields[2]) == pgid and fields[0] != "Z"]


def _signals_as_from_a_terminal() -> None:
    """SIGINT and SIGTERM at their default action, as a terminal or a supervisor starts a
    process. A test run started in the background has SIGINT ignored, which every child
    inherits: a Ctrl-C sent to the group would then reach nothing that did not ask for it."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)


class Worker:
    """One ``manage.py qcluster`` in a session (and process group) of its own."""

    def __init__(self, env: dict[str, str], log: Path, command: list[str] | None = None) -> None:
        self.env = env
        self.log_path = log
        self.command = command or [sys.executable, "manage.py", "qcluster"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **env: str) -> Worker:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_signals_as_from_a_terminal,
            )
        return self

    @property
    def pgid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_running(self) -> Worker:
        """Until the cluster says it runs: its workers take tasks from now on."""
        assert self.process is not None
        process = self.process
        wait_until(
            lambda: " running." in self.output() or process.poll() is not None,
            START_TIMEOUT,
            "the worker to start",
        )
        assert process.poll() is None, f"the worker exited at start:\n{self.output()}"
        return self

    def signal_group(self, signum: int) -> float:
        """Send ``signum`` to the whole process group, as a supervisor does; when it was sent."""
        os.killpg(self.pgid, signum)
        return time.monotonic()

    def wait_gone(self, timeout: float) -> None:
        """Until no process of the group is left, or fail after ``timeout``."""
        assert self.process is not None
        process = self.process
        try:
            wait_until(
                lambda: process.poll() is not None and not _group_members(self.pgid),
                timeout,
                "the worker's processes to exit",
                every=0.1,
            )
        except AssertionError as exc:
            raise AssertionError(
                f"{exc} (left: {_group_members(self.pgid)})\n"
                f"--- worker output ---\n{self.output()[-6000:]}"
            ) from None

    def kill(self) -> None:
        """kill -9 the whole group: the machine or container went away."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.signal_group(signal.SIGKILL)
        self.wait_gone(10)


@pytest.fixture
def worker_env(transactional_db: None, settings: Settings, tmp_path: Path) -> dict[str, str]:
    """The environment of a worker process: this test's database, folders and settings."""
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@"
        f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    settings.MODEL_DIR = tmp_path / "models"
    # What this process reads about the jobs matches what the workers do with them.
    settings.JOB_HEARTBEAT_SECONDS = 0.5
    settings.JOB_STALE_SECONDS = 3.0
    settings.JOB_REQUEUE_SECONDS = 3.0
    settings.EMBEDDING_MODEL = ""
    settings.MODEL_SEARCH = "none"
    settings.MIN_TRAINING_VIDEOS = 10
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.workers.settings",
        "DATABASE_URL": url,
        "DB_CONN_MAX_AGE": "0",
        "TASK_BROKER": "orm",
        "REDIS_URL": "",
        "VAR_DIR": str(tmp_path / "var"),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "IMPORT_ROOTS": ",".join(str(root) for root in settings.IMPORT_ROOTS),
        "JOB_SCRATCH_DIR": str(settings.JOB_SCRATCH_DIR),
        "MODEL_DIR": str(settings.MODEL_DIR),
        "JOB_HEARTBEAT_SECONDS": "0.5",
        "JOB_STALE_SECONDS": "3",
        "JOB_REQUEUE_SECONDS": "3",
        "JOB_STOP_SECONDS": "8",
        "TASK_WORKERS": "2",
        "TASK_LOG_LEVEL": "info",
        "LOG_LEVEL": "info",
        "EMBEDDING_MODEL": "",
        "WHISPER_MODEL": str(tmp_path / "no-whisper-here"),
        "WHISPER_LOCAL_FILES_ONLY": "1",
        "MODEL_SEARCH": "none",
        "MIN_TRAINING_VIDEOS": "10",
        "SLOW_JOB_MARKS": str(tmp_path / "held"),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """Starts workers (``workers(**env)``); whatever is left is killed at the end."""
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(worker_env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(worker)
        return worker.start(**env)

    yield start
    for worker in started:
        worker.kill()


@pytest.fixture
def redis_broker(monkeypatch: pytest.MonkeyPatch, worker_env: dict[str, str]) -> Iterator[str]:
    """Jobs go through Redis: the test queues to it, its workers take from it.

    The queue has a name of this test's own (django-q2's cluster name, which is also the
    Redis list key and the salt its payloads are signed with), so that no other client of
    that Redis, nor a task left by an earlier run, can take or feed this test's workers.
    """
    import redis

    redis_or_skip()
    queue = f"tagging-test-{uuid.uuid4().hex[:12]}"
    # Conf was read from the settings at start-up: point this process's broker at Redis.
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", REDIS_URL)
    monkeypatch.setattr(Conf, "PREFIX", queue)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", queue)
    worker_env.update(TASK_BROKER="redis", REDIS_URL=REDIS_URL, TASK_QUEUE_NAME=queue)
    yield REDIS_URL
    client = redis.from_url(REDIS_URL)
    client.delete(queue, *client.keys(f"django_q:{queue}:*"))
