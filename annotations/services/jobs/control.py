"""Running, cancelling, retrying and sweeping jobs of every kind.

Each kind names three functions of its service: ``run`` (the work, ending with
``JobRun.complete``, or ``Waiting`` for another job), ``ended`` (what a failed or
cancelled job means for its object: a video fails with the reason, a model version
fails and leaves no files...) and ``queued`` (the object waits again). This module is
the only one that knows them all; the task entry point, the pages and the API call it.

The sweeper (``jobs_sweep``, a django-q2 schedule every minute, and at each worker
start) is what makes a job independent of the broker: a running job whose heartbeat
went stale is queued again, or failed with the reason after JOB_MAX_ATTEMPTS runs; a
queued job that no worker started (the broker lost it with a killed worker's prefetched
tasks) is handed over again once the broker holds nothing; scratch folders of runs that
died are removed.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import Job
from annotations.services.export.build import export_job_ended, export_job_queued, export_job_run
from annotations.services.interchange import dataset_import_job_run
from annotations.services.jobs.lifecycle import (
    ClaimLost,
    JobConflict,
    JobFailed,
    JobInterrupted,
    JobRun,
    Waiting,
    end_locked,
    hand_over,
    job_claim,
    lock_job,
    requeue_locked,
)
from annotations.services.learning.prediction_jobs import (
    prediction_job_ended,
    prediction_job_queued,
    prediction_job_run,
)
from annotations.services.learning.retraining import retraining_count
from annotations.services.learning.suggestions import suggestions_job_run
from annotations.services.learning.training import (
    training_job_ended,
    training_job_queued,
    training_job_run,
)
from annotations.services.limits import Verdict, limit_release
from annotations.services.media.ingest import video_job_ended, video_job_queued, video_job_run

logger = logging.getLogger(__name__)


def _nothing_to_undo(job: Job, state: str, reason: str) -> None:
    """A kind whose object needs no change when its job fails (suggestions, imports)."""


def _nothing_waits(job: Job) -> None:
    """A kind whose object has no waiting state of its own."""


@dataclass(frozen=True)
class JobKind:
    run: Callable[[Job, JobRun], str | Waiting]
    ended: Callable[[Job, str, str], None] = _nothing_to_undo
    queued: Callable[[Job], None] = _nothing_waits


KINDS: dict[str, JobKind] = {
    Job.Kind.INGEST: JobKind(video_job_run, video_job_ended, video_job_queued),
    Job.Kind.TRAINING: JobKind(training_job_run, training_job_ended, training_job_queued),
    Job.Kind.SUGGESTIONS: JobKind(suggestions_job_run),
    Job.Kind.PREDICT: JobKind(prediction_job_run, prediction_job_ended, prediction_job_queued),
    Job.Kind.EXPORT: JobKind(export_job_run, export_job_ended, export_job_queued),
    Job.Kind.IMPORT: JobKind(dataset_import_job_run),
}


def _readable(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def job_run(job_id: int) -> str:
    """Claim the job and run it in this process; never raises for the job's own errors.

    The task entry point of every job. A job that is not waiting (done, cancelled,
    or held by a live run) is left alone, so a task delivered twice runs once.
    """
    job = job_claim(job_id)
    if job is None:
        return f"job {job_id}: nothing to do (not queued, or held by a live run)"
    kind = KINDS[job.kind]
    run = JobRun(job)
    try:
        with run:
            try:
                outcome = kind.run(job, run)
            except JobFailed as exc:
                _fail(run, str(exc))
            except Exception as exc:
                logger.exception("%s failed", job.public_id)
                _fail(run, _readable(exc))
            else:
                if isinstance(outcome, Waiting):
                    run.wait_for(outcome.job, outcome.stage)
                elif not run.ended:
                    with run.complete(outcome):
                        pass
    except JobInterrupted:
        _release(job, run.claim)
        return f"{job.public_id}: interrupted, queued again"
    except ClaimLost:
        logger.info("%s: stopped, another run holds it now", job.public_id)
        return f"{job.public_id}: stopped, another run holds it now"
    job.refresh_from_db()
    return f"{job.public_id}: {job.state}" + (f", {job.message}" if job.message else "")


def _fail(run: JobRun, reason: str) -> None:
    run.stop_beating()
    with transaction.atomic():
        job = lock_job(run.job.pk, claim=run.claim)
        if job is None:
            raise ClaimLost(f"{run.job.public_id} is no longer this run's")
        KINDS[job.kind].ended(job, Job.State.FAILED, reason)
        end_locked(job, Job.State.FAILED, reason)
    run.ended = True


def _requeue_interrupted(locked: Job, how: str) -> None:
    """Back to the queue at once: its worker stopped (``how``), which is not the job's fault."""
    KINDS[locked.kind].queued(locked)
    requeue_locked(
        locked,
        f"queued again: the worker {locked.worker} {how} before it finished",
        count_attempt=False,
    )


def _release(job: Job, claim: str) -> None:
    """A run stopped by its worker's shutdown: the job goes back to the queue at once."""
    with transaction.atomic():
        locked = lock_job(job.pk, claim=claim)
        if locked is None:
            return
        _requeue_interrupted(locked, "stopped")


def jobs_release_workers(workers: list[str]) -> int:
    """Queue again the jobs these worker processes (``host:pid``, now killed) were running."""
    released = 0
    for job_id in Job.objects.filter(state=Job.State.RUNNING, worker__in=workers).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            locked = (
                Job.objects.select_for_update()
                .filter(pk=job_id, state=Job.State.RUNNING, worker__in=workers)
                .first()
            )
            if locked is None:
                continue
            _requeue_interrupted(locked, "was stopped")
            released += 1
    return released


def job_run_now(job: Job) -> Job:
    """Run a queued job here (a command, a test) rather than in a worker."""
    job_run(job.pk)
    job.refresh_from_db()
    return job


# --- Admins: cancel and retry -------------------------------------------------------------
def job_cancel(*, job: Job, user: User | None) -> Job:
    """Stop a queued or running job now; a run still going stops at its next checkpoint."""
    who = user.get_username() if user is not None else "an admin"
    with transaction.atomic():
        locked = lock_job(job.pk)
        if locked is None or locked.is_final:
            current = locked or job
            raise JobConflict(
                f"The job {current.public_id} is already {current.state}.",
                current,
                shown=lambda: (
                    _("The job %(job)s has already ended (%(state)s).")
                    % {"job": current.public_id, "state": current.get_state_display()}
                ),
            )
        reason = f"cancelled by {who}"
        KINDS[locked.kind].ended(locked, Job.State.CANCELLED, reason)
        end_locked(locked, Job.State.CANCELLED, reason)
    job.refresh_from_db()
    return job


def job_retry(*, job: Job, user: User | None) -> Job:
    """Run the job again now: a failed or cancelled one, or a running one taken from its
    worker (which stops at its next checkpoint), or a queued one handed to the broker again.

    A job that is done is not run again: re-processing a video or training a new
    version are their own requests. A training run again is a training started: it counts
    against the project's hourly limit like "Retrain now" (``RetrainingLimited`` over it),
    so cancelling and retrying cannot start trainings without end.
    """
    who = user.get_username() if user is not None else "an admin"
    with transaction.atomic():
        locked = lock_job(job.pk)
        if locked is None or locked.state == Job.State.DONE:
            current = locked or job
            raise JobConflict(
                f"The job {current.public_id} is done: nothing to retry.",
                current,
                shown=lambda: (
                    _("The job %(job)s is done: nothing to retry.") % {"job": current.public_id}
                ),
            )
        if locked.state == Job.State.QUEUED:
            Job.objects.filter(pk=locked.pk).update(message=f"handed to the workers again by {who}")
            hand_over(locked)
        else:
            counted = _count_training(locked)
            try:
                KINDS[locked.kind].queued(locked)
            except BaseException:
                if counted is not None:
                    limit_release(counted)  # refused: nothing started
                raise
            requeue_locked(locked, f"retried by {who}")
            Job.objects.filter(pk=locked.pk).update(attempts=0, after=None)
    job.refresh_from_db()
    return job


def _count_training(job: Job) -> Verdict | None:
    """A training retried counts against the project's hourly limit; other kinds do not."""
    if job.kind != Job.Kind.TRAINING:
        return None
    return retraining_count(project=job.project)


# --- The sweeper -----------------------------------------------------------------------
@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    scratch_removed: int = 0

    def describe(self) -> str:
        parts = [
            f"{len(self.requeued)} queued again",
            f"{len(self.failed)} failed",
            f"{len(self.resent)} handed to the broker again",
            f"{self.scratch_removed} scratch folders removed",
        ]
        named = self.requeued + self.failed + self.resent
        return ", ".join(parts) + (f" ({', '.join(named[:20])})" if named else "")


def _silent_since(job: Job) -> str:
    when = f"{job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if job.heartbeat_at else "its start"
    return f"its worker ({job.worker or 'unknown'}) stopped responding (last heartbeat {when})"


def _sweep_stale(report: SweepReport) -> None:
    for job_id in Job.objects.stale().values_list("pk", flat=True):
        with transaction.atomic():
            job = Job.objects.stale().select_for_update().filter(pk=job_id).first()
            if job is None:
                continue  # it beat, or ended, meanwhile
            silent = _silent_since(job)
            if job.attempts >= settings.JOB_MAX_ATTEMPTS:
                reason = f"{silent}; given up after {job.attempts} attempts"
                KINDS[job.kind].ended(job, Job.State.FAILED, reason)
                end_locked(job, Job.State.FAILED, reason)
                report.failed.append(job.public_id)
            else:
                KINDS[job.kind].queued(job)
                requeue_locked(
                    job,
                    f"queued again: {silent} (attempt {job.attempts} of "
                    f"{settings.JOB_MAX_ATTEMPTS})",
                )
                report.requeued.append(job.public_id)


def _broker_holds_nothing() -> bool:
    from django_q.brokers import get_broker

    try:
        return get_broker().queue_size() == 0
    except Exception as exc:  # a broker that cannot answer holds what it holds
        logger.warning("the broker's queue could not be read: %s", exc)
        return False


def _resend_lost(report: SweepReport) -> None:
    cutoff = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_SECONDS)
    lost = Job.objects.ready_to_run().filter(
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=cutoff)
    )
    if not lost.exists() or not _broker_holds_nothing():
        return
    for job in lost:
        with transaction.atomic():
            hand_over(job)
        report.resent.append(job.public_id)


def scratch_sweep() -> int:
    """Remove the scratch folders of runs that no longer hold their job (they died)."""
    root = Path(settings.JOB_SCRATCH_DIR)
    if not root.is_dir():
        return 0
    removed = 0
    for folder in root.iterdir():
        if not folder.name.startswith("job-"):
            continue  # not a run's: left alone
        job_id, _sep, claim = folder.name.removeprefix("job-").partition("-")
        held = Job.objects.filter(state=Job.State.RUNNING, claim=claim)
        if job_id.isdigit() and claim and held.filter(pk=int(job_id)).exists():
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def jobs_sweep() -> SweepReport:
    """Queue again or fail the jobs of dead workers; hand over queued jobs the broker lost."""
    report = SweepReport()
    _sweep_stale(report)
    _resend_lost(report)
    report.scratch_removed = scratch_sweep()
    if report.requeued or report.failed or report.resent:
        logger.warning("job sweep: %s", report.describe())
    return report
