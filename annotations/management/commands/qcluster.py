"""``manage.py qcluster``: django-q2's cluster, which stops cleanly however it is asked.

Why django-q2's own command hangs on a SIGTERM sent to its whole process group (what a
supervisor does): its sentinel process puts SIGTERM back to the default action, so the
group's SIGTERM kills it at once, while it sleeps in ``stop_event.wait()`` of its guard
loop. The main process, handling the same SIGTERM, calls ``stop_event.set()``; a
multiprocessing Event's ``notify_all`` then waits, with no timeout, for every process
that sleeps on it to acknowledge the wake-up: the dead sentinel never does, and the main
process stays in a futex wait for good. Its workers, also on the default action, die in
the middle of their job. (A SIGTERM to the main process alone, or SIGINT to the group,
which the sentinel ignores, leave the sentinel alive to answer: those stop.)

Here only the main process acts on SIGTERM and SIGINT; every process under it ignores
both, and dies with its parent (Linux), so none outlives a killed worker. On a signal
the main process:

1. sets the stop flag it shares with its workers: a running job stops at its next
   checkpoint and goes back to the queue (or finishes, if it gets there first);
2. asks the sentinel to stop (from a thread, so that no wait can hold it) and gives the
   workers JOB_STOP_SECONDS to end;
3. kills whatever is still running then, and queues again the jobs those processes held.

So it exits within JOB_STOP_SECONDS and a few seconds, every job done or queued. At each
start it makes sure the schedules of the sweeper and of the search documents exist, and
sweeps once: jobs of workers that died while none ran are queued again now rather than at
the next minute.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import threading
import time
import uuid
from multiprocessing import Process
from typing import Any

import django_q.cluster
from django import db
from django.conf import settings
from django_q.cluster import Cluster, Sentinel, get_mp_context
from django_q.conf import Conf
from django_q.management.commands.qcluster import Command as DjangoQCommand
from django_q.worker import worker

from annotations.management.processes import process_stats
from annotations.services.jobs.control import jobs_release_workers, jobs_sweep
from annotations.services.jobs.lifecycle import stop_flag_share, stop_request, worker_name
from annotations.services.jobs.schedules import (
    search_documents_schedule_ensure,
    sweeper_schedule_ensure,
)

logger = logging.getLogger("annotations.worker")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when the one that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _child(target: Any, *args: Any) -> None:
    _die_with_parent()
    target(*args)


class _Sentinel(Sentinel):
    """django-q2's sentinel, ignoring SIGTERM like SIGINT: the main process coordinates."""

    def __init__(
        self,
        stop_event: Any,
        start_event: Any,
        cluster_id: Any,
        broker: Any = None,
        timeout: Any = None,
        start: bool = True,
    ) -> None:
        _die_with_parent()
        super().__init__(stop_event, start_event, cluster_id, broker, timeout, start=False)
        # After the parent's __init__, which puts SIGTERM back to its default action; the
        # processes it starts inherit both signals ignored.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        if start:
            self.start()

    def spawn_process(self, target: Any, *args: Any) -> Process:
        # As django-q2's, with each process dying with the sentinel.
        process = get_mp_context().Process(
            target=_child, args=(target, *args), name=f"Process-{uuid.uuid4().hex}"
        )
        process.daemon = True
        if target == worker:
            process.daemon = Conf.DAEMONIZE_WORKERS
            process.timer = args[2]
            self.pool.append(process)
        process.start()
        return process


class _Cluster(Cluster):
    def start(self) -> int:
        # Cluster.start names the sentinel's class through the module.
        original, django_q.cluster.Sentinel = django_q.cluster.Sentinel, _Sentinel
        try:
            return int(super().start())
        finally:
            django_q.cluster.Sentinel = original


def _descendants(root: int) -> list[int]:
    """Every process under ``root``, read from /proc (Linux); children before their own."""
    parents: dict[int, list[int]] = {}
    for pid, fields in process_stats():
        parents.setdefault(int(fields[1]), []).append(pid)
    found: list[int] = []
    pending = [root]
    while pending:
        for child in parents.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


class Command(DjangoQCommand):
    help = (
        "Starts the background workers (a django-q2 cluster). SIGTERM or SIGINT, to the "
        "main process or its whole group, stops it within JOB_STOP_SECONDS and a few "
        "seconds; running jobs finish or go back to the queue."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # Signing needs it: fail now rather than in the first task.
        settings.SECRET_KEY  # noqa: B018
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        stop_flag_share()
        sweeper_schedule_ensure()
        search_documents_schedule_ensure()
        # Logged by the sweep itself when it did something.
        jobs_sweep()
        # No connection may be shared with the processes about to be forked.
        db.connections.close_all()

        stopping = threading.Event()
        cluster = _Cluster()

        def on_signal(signum: int, frame: object) -> None:
            stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        cluster.start()
        if options.get("run_once", False):
            stopping.set()
        crashed = False
        while not stopping.wait(0.5):
            if not cluster.sentinel.is_alive():
                logger.error("the sentinel process ended by itself; stopping")
                crashed = True
                break
        self._stop(cluster)
        if crashed:
            # Non-zero, so that a supervisor starts the worker again.
            raise SystemExit(1)

    def _stop(self, cluster: Cluster) -> None:
        began = time.monotonic()
        logger.info("stopping: running jobs finish or go back to the queue")
        stop_request()
        sentinel = cluster.sentinel
        if sentinel.is_alive() and cluster.stop_event is not None:
            # Event.set() waits for every sleeper to wake; a thread, so that a sentinel
            # killed from outside cannot hold this process.
            threading.Thread(target=cluster.stop_event.set, daemon=True).start()
        sentinel.join(timeout=settings.JOB_STOP_SECONDS)
        left = _descendants(os.getpid())
        if left:
            logger.warning("killing %s processes that did not stop in time", len(left))
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            sentinel.join(timeout=5)
        released = jobs_release_workers([worker_name(pid) for pid in left]) if left else 0
        db.connections.close_all()
        logger.info(
            "stopped in %.1f s%s",
            time.monotonic() - began,
            f"; {released} jobs queued again" if released else "",
        )
