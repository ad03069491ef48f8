"""The lifecycle every background job shares.

    queued ──claim──> running ──> done | failed | cancelled
      ^                 │
      └── its worker ───┘  stopped (SIGTERM), died (no heartbeat: the sweeper), or a retry

A job is asked for with ``job_request`` and handed to the broker when the transaction
commits. A worker takes it with ``job_claim``: a conditional UPDATE that succeeds for a
queued job that waits for nothing, or for a running one whose heartbeat is older than
JOB_STALE_SECONDS (its worker died) and that has attempts left. Each claim has its own
token; every write of the run names it, so a run that lost its job (cancelled, retried,
taken over) cannot write over the one that holds it now.

While it runs, ``JobRun`` beats the heartbeat from a thread every JOB_HEARTBEAT_SECONDS,
keeps the run's temporary files in a folder of its own, and gives the job's code
``progress()``: where it reports how far it got, and where it stops when the worker is
stopping (``JobInterrupted``: the job goes back to the queue) or the job is no longer
its own (``ClaimLost``). Both are BaseExceptions, like KeyboardInterrupt, so that code
which records an error and goes on (one failed ingest step) does not swallow them. A
run's last writes go through ``complete()``: they commit together with "done", only if
the claim still holds.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files import File
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Model, Q, QuerySet
from django.utils import timezone

from annotations import enqueue
from annotations.models import Job, Project
from annotations.services.bulk_copy import CopyRows, next_ids
from annotations.services.errors import StateConflict

logger = logging.getLogger(__name__)

# Seconds between two progress writes of one run, so a fast loop does not flood the database.
PROGRESS_INTERVAL = 0.5
# Jobs handed to the broker in one task by ``jobs_request_new``: enough that a bulk import
# queues few tasks, few enough that several workers share a batch.
JOB_GROUP_SIZE = 500


class JobStopped(BaseException):
    """The run must stop now for a reason outside the job; it is not one of its errors.

    A BaseException, like KeyboardInterrupt: code that records an error and goes on
    does not catch it.
    """


class JobInterrupted(JobStopped):
    """The worker is stopping: the job goes back to the queue, for this or another worker."""


class ClaimLost(JobStopped):
    """Another run holds the job now: it was cancelled, retried or taken over."""


class JobFailed(Exception):
    """An expected failure: the job ends failed, with the message as its reason."""


M = TypeVar("M", bound=Model)


def job_object(job: Job, objects: QuerySet[M], name: str) -> M:
    """The object ``job`` works on, from ``objects``; when it was deleted meanwhile, the job
    fails saying so ("the <name> was deleted")."""
    found = objects.filter(pk=job.object_pk).first()
    if found is None:
        raise JobFailed(f"the {name} was deleted")
    return found


class JobConflict(StateConflict):
    """A cancel or retry that the job's state does not allow (409)."""

    def __init__(self, message: str, job: Job, *, shown: Callable[[], str]) -> None:
        self.state = f"The job {job.public_id} is {job.state}."
        super().__init__(message, shown=shown)


@dataclass(frozen=True)
class Waiting:
    """A run's outcome: the job goes on once ``job`` has ended, and is queued until then."""

    job: Job
    stage: str


# --- The worker's stop flag ---------------------------------------------------------
# One byte of memory shared with the processes the worker command forks: set when the
# command is asked to stop, read at every checkpoint of a running job. No lock: a process
# killed while holding one could not hang the others.
_stop_flag: Any = None


def stop_flag_share() -> None:
    """Called by the worker command before it starts (and forks) its processes."""
    global _stop_flag
    _stop_flag = multiprocessing.RawValue("b", 0)


def stop_request() -> None:
    if _stop_flag is not None:
        _stop_flag.value = 1


def stop_requested() -> bool:
    return _stop_flag is not None and bool(_stop_flag.value)


def worker_name(pid: int | None = None) -> str:
    """The process running a job, as the job records it: ``host:pid``."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


# --- Asking for a job -----------------------------------------------------------------
_QUEUED_AGAIN: dict[str, Any] = {
    "state": Job.State.QUEUED,
    "stage": "queued",
    "progress": 0.0,
    "claim": "",
    "worker": "",
    "heartbeat_at": None,
    "started_at": None,
    "finished_at": None,
}


def _merged(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Two requests' parameters as one: lists are joined, and None ("all") wins."""
    merged = dict(old)
    for key, value in new.items():
        before = old.get(key, value)
        if value is None or before is None:
            merged[key] = None
        elif isinstance(value, list) and isinstance(before, list):
            merged[key] = [*before, *(item for item in value if item not in before)]
        else:
            merged[key] = value
    return merged


def hand_over(job: Job) -> None:
    """Give the job to the broker once the transaction commits, noting when."""
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    enqueue.job(job.pk, job.kind)


def job_request(
    *,
    kind: str,
    project: Project,
    object_id: int | None = None,
    params: dict[str, Any] | None = None,
    user: User | None = None,
    input_file: File[Any] | None = None,
    hand_over_now: bool = True,
) -> Job:
    """Queue the job of ``kind`` for the object: its row is created, or queued again.

    A job already queued keeps its place (its parameters joined with these); a running
    one is marked to run again once it ends. With ``hand_over_now`` off the job is not
    given to the broker: the caller runs it in this process.
    """
    params = params or {}
    with transaction.atomic():
        job: Job | None = None
        if object_id is not None:
            job = Job.objects.select_for_update().filter(kind=kind, object_id=object_id).first()
        if job is None:
            try:
                with transaction.atomic():
                    job = Job(
                        kind=kind,
                        project=project,
                        object_id=object_id,
                        params=params,
                        requested_by=user,
                        stage="queued",
                    )
                    if input_file is not None:
                        job.input_file.save(input_file.name or "input", input_file, save=False)
                    job.save()
            except IntegrityError:
                # Asked for at the same moment by another request, which created the row.
                job = Job.objects.select_for_update().get(kind=kind, object_id=object_id)
            else:
                if hand_over_now:
                    hand_over(job)
                return job
        if job.state == Job.State.RUNNING:
            Job.objects.filter(pk=job.pk).update(again=True, params=_merged(job.params, params))
        elif job.state == Job.State.QUEUED:
            Job.objects.filter(pk=job.pk).update(params=_merged(job.params, params))
            if hand_over_now and job.enqueued_at is None:
                hand_over(job)
        else:
            Job.objects.filter(pk=job.pk).update(
                **_QUEUED_AGAIN,
                message="",
                result={},
                params=params,
                attempts=0,
                again=False,
                after=None,
                enqueued_at=None,
                requested_by=user or job.requested_by,
            )
            if hand_over_now:
                hand_over(job)
        job.refresh_from_db()
    return job


def jobs_request_new(
    *, kind: str, project: Project, object_ids: Sequence[int], user: User | None = None
) -> list[int]:
    """A queued job for each of these new objects, inserted at once (a bulk import's batch).

    The objects were created in this transaction, so none has a job yet. The jobs are
    handed to the broker in groups of JOB_GROUP_SIZE, one task a group, each job still
    claimed on its own: a million tasks would cost the broker more than the import.
    """
    if not object_ids:
        return []
    now = timezone.now()
    prototype = Job(kind=kind, project=project, stage="queued", enqueued_at=now, requested_by=user)
    if connection.vendor == "postgresql":
        ids = next_ids(Job, len(object_ids))
        rows = CopyRows(prototype, ["id", "object_id"])
        rows.copy(rows.line(pk, object_id) for pk, object_id in zip(ids, object_ids, strict=True))
    else:
        created = Job.objects.bulk_create(
            Job(
                kind=kind,
                project=project,
                object_id=object_id,
                stage="queued",
                enqueued_at=now,
                requested_by=user,
            )
            for object_id in object_ids
        )
        ids = [job.pk for job in created]
    for start in range(0, len(ids), JOB_GROUP_SIZE):
        enqueue.jobs(ids[start : start + JOB_GROUP_SIZE], kind)
    return ids


# --- Claiming -------------------------------------------------------------------------
def job_claim(job_id: int) -> Job | None:
    """Take the job for this process; None when it is not waiting or a live run holds it.

    Takes over a running job whose heartbeat is stale (its worker died), while it has
    attempts left; the sweeper fails the others.
    """
    now = timezone.now()
    before = (
        Job.objects.filter(pk=job_id).values("state", "worker", "heartbeat_at", "after").first()
    )
    if before is None:
        return None
    # Only the job's own columns in the UPDATE's condition: PostgreSQL re-checks those on
    # the row a concurrent claim just changed, so of two claims at once one wins.
    cutoff = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    claimable = Q(state=Job.State.RUNNING, attempts__lt=settings.JOB_MAX_ATTEMPTS) & (
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
    )
    follows = before["after"]
    if follows is None or Job.objects.filter(pk=follows, state__in=Job.FINAL_STATES).exists():
        claimable |= Q(state=Job.State.QUEUED)
    claim = uuid.uuid4().hex
    claimed = Job.objects.filter(claimable, pk=job_id).update(
        state=Job.State.RUNNING,
        claim=claim,
        worker=worker_name(),
        heartbeat_at=now,
        started_at=now,
        finished_at=None,
        attempts=F("attempts") + 1,
        stage="starting",
        again=False,
    )
    if not claimed:
        return None
    if before["state"] == Job.State.RUNNING:
        Job.objects.filter(pk=job_id, claim=claim).update(
            message=f"taken over from {before['worker'] or 'a worker'}, silent since "
            f"{before['heartbeat_at']:%Y-%m-%d %H:%M:%S}"
            if before["heartbeat_at"]
            else f"taken over from {before['worker'] or 'a worker'}"
        )
    return Job.objects.select_related("project", "requested_by").get(pk=job_id)


# --- Ending ---------------------------------------------------------------------------
def end_locked(job: Job, state: str, message: str, *, result: dict[str, Any] | None = None) -> None:
    """Write the end of ``job``, whose row this transaction holds; go on with what waited.

    Jobs that waited for this one are handed over; a job asked for again while it ran
    is queued again (unless cancelled); its input file goes once it is no longer needed
    (a failed job keeps it, for a retry).
    """
    fields: dict[str, Any] = {
        "state": state,
        "message": message[:10_000],
        "claim": "",
        "worker": "",
        "finished_at": timezone.now(),
    }
    if state == Job.State.DONE:
        fields |= {"stage": "done", "progress": 1.0}
    if result is not None:
        fields["result"] = result
    Job.objects.filter(pk=job.pk).update(**fields)
    for follower in Job.objects.filter(after=job, state=Job.State.QUEUED):
        hand_over(follower)
    if job.again and state != Job.State.CANCELLED:
        Job.objects.filter(pk=job.pk).update(**_QUEUED_AGAIN, attempts=0, again=False)
        hand_over(job)
    elif state in (Job.State.DONE, Job.State.CANCELLED) and job.input_file:
        name, storage = str(job.input_file.name), job.input_file.storage
        Job.objects.filter(pk=job.pk).update(input_file="")
        transaction.on_commit(lambda: storage.delete(name))


def requeue_locked(job: Job, message: str, *, count_attempt: bool = True) -> None:
    """Put ``job``, whose row this transaction holds, back in the queue and hand it over.

    ``count_attempt`` off: the run that stopped was not the job's fault (its worker was
    asked to stop), so it does not use up an attempt.
    """
    fields: dict[str, Any] = {**_QUEUED_AGAIN, "message": message, "stage": "queued again"}
    if not count_attempt:
        fields["attempts"] = max(job.attempts - 1, 0)
    Job.objects.filter(pk=job.pk).update(**fields)
    hand_over(job)


def lock_job(job_id: int, *, claim: str | None = None) -> Job | None:
    """The job's row, locked for this transaction; with ``claim``, only while that run holds it."""
    jobs = Job.objects.select_for_update().filter(pk=job_id)
    if claim is not None:
        jobs = jobs.filter(claim=claim, state=Job.State.RUNNING)
    return jobs.first()


def scratch_path(job: Job) -> Path:
    return Path(settings.JOB_SCRATCH_DIR) / f"job-{job.pk}-{job.claim}"


# --- A run ----------------------------------------------------------------------------
class JobRun:
    """One run of a claimed job: heartbeat, scratch folder, progress and checkpoints."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.claim = job.claim
        self.scratch = scratch_path(job)
        self.ended = False
        self._lost = threading.Event()
        self._stop_beating = threading.Event()
        self._beater: threading.Thread | None = None
        self._last_write = 0.0
        self._stage = job.stage
        self._tempdir: str | None = None

    def __enter__(self) -> JobRun:
        self.scratch.mkdir(parents=True, exist_ok=True)
        # Temporary files of whatever the job calls land in its scratch folder, which
        # goes with the run, and with a dead run at the next sweep.
        self._tempdir, tempfile.tempdir = tempfile.tempdir, str(self.scratch)
        # Inside a transaction (a test's), another connection could not see the row:
        # the run's own progress writes are its heartbeat then.
        if not connection.in_atomic_block:
            self._beater = threading.Thread(
                target=self._beat, name=f"heartbeat of {self.job.public_id}", daemon=True
            )
            self._beater.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_beating()
        tempfile.tempdir = self._tempdir
        shutil.rmtree(self.scratch, ignore_errors=True)

    def stop_beating(self) -> None:
        self._stop_beating.set()
        if self._beater is not None:
            self._beater.join()
            self._beater = None

    def _beat(self) -> None:
        try:
            while not self._stop_beating.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    if not self._still_ours(heartbeat_at=timezone.now()):
                        self._lost.set()
                        return
                except DatabaseError as exc:
                    # The database may come back before the job goes stale.
                    logger.warning("heartbeat of %s not written: %s", self.job.public_id, exc)
        finally:
            connection.close()

    def _still_ours(self, **fields: Any) -> bool:
        return bool(
            Job.objects.filter(pk=self.job.pk, claim=self.claim, state=Job.State.RUNNING).update(
                **fields
            )
        )

    def checkpoint(self) -> None:
        """Stop here if the worker is stopping or the job is no longer this run's."""
        if stop_requested():
            raise JobInterrupted(f"{self.job.public_id}: the worker is stopping")
        if self._lost.is_set():
            raise ClaimLost(f"{self.job.public_id} is no longer this run's")

    def progress(self, fraction: float | None = None, stage: str | None = None) -> None:
        """Report how far the job got (0 to 1) and what it does; a checkpoint too."""
        self.checkpoint()
        stage = stage[:200] if stage is not None else None
        now = time.monotonic()
        if (stage is None or stage == self._stage) and now - self._last_write < PROGRESS_INTERVAL:
            return
        self._last_write = now
        fields: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if stage is not None:
            fields["stage"] = self._stage = stage
        if fraction is not None:
            fields["progress"] = max(0.0, min(1.0, fraction))
        if not self._still_ours(**fields):
            self._lost.set()
            raise ClaimLost(f"{self.job.public_id} is no longer this run's")

    def write_checkpoint(self, result: dict[str, Any]) -> None:
        """Store how far the job got (in ``result``), in the caller's transaction.

        Raises ClaimLost, rolling the caller's transaction back, when another run holds
        the job: what it wrote with the checkpoint is then written once, by one run.
        """
        self.checkpoint()
        if not self._still_ours(result=result, heartbeat_at=timezone.now()):
            self._lost.set()
            raise ClaimLost(f"{self.job.public_id} is no longer this run's")

    @contextlib.contextmanager
    def complete(
        self, message: str = "", *, result: dict[str, Any] | None = None
    ) -> Iterator[None]:
        """The run's last writes: they commit with "done", or not at all (ClaimLost)."""
        if self._lost.is_set():
            raise ClaimLost(f"{self.job.public_id} is no longer this run's")
        self.stop_beating()
        with transaction.atomic():
            job = lock_job(self.job.pk, claim=self.claim)
            if job is None:
                raise ClaimLost(f"{self.job.public_id} is no longer this run's")
            yield
            end_locked(job, Job.State.DONE, message, result=result)
        self.ended = True

    def wait_for(self, other: Job, stage: str) -> None:
        """Queue the job again behind ``other``: it goes on once ``other`` has ended."""
        self.stop_beating()
        with transaction.atomic():
            if not self._still_ours(
                **{**_QUEUED_AGAIN, "stage": stage}, after=other, attempts=0, enqueued_at=None
            ):
                raise ClaimLost(f"{self.job.public_id} is no longer this run's")
            job = self.job
            # ``other`` may have ended before this job started to wait for it.
            transaction.on_commit(lambda: _go_on_if_over(job, other))
        self.ended = True


def _go_on_if_over(job: Job, other: Job) -> None:
    if Job.objects.filter(pk=other.pk, state__in=Job.FINAL_STATES).exists():
        with transaction.atomic():
            if Job.objects.filter(pk=job.pk, state=Job.State.QUEUED, after=other).exists():
                hand_over(job)
