"""The ingest job of one video: run each processing step, record how it went.

The job (``Job`` of kind ``ingest``, one per video) is claimed, beaten and ended by the
job lifecycle (``services/jobs``); the video's status follows it: pending while it is
queued, processing while it runs, then ready or failed. Each step records its state,
progress, duration and message; a failing step does not stop the others (only a failed
probe means the file itself is unusable, and fails the job). Every step's progress is a
checkpoint of the job: where it notices that its worker is stopping or that it was
cancelled. The steps read the stored files through one ``LocalCopies`` per run: with
object storage the media is fetched once, into the run's scratch folder, and removed when
the steps end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from django.utils import timezone

from annotations.models import Job, ProcessingStep, Video, VideoStatus
from annotations.services.jobs.lifecycle import JobFailed, JobRun
from annotations.services.media.ingest import steps
from annotations.services.media.ingest.steps import StepSkipped, StepUnavailable
from annotations.services.stored_files import LocalCopies

logger = logging.getLogger(__name__)

StepFunction = Callable[[Video, LocalCopies, steps.Progress], str]

# In order; later steps read what earlier ones stored.
STEPS: list[tuple[str, StepFunction]] = [
    ("probe", steps.probe),
    ("transcript", steps.transcript),
    ("text", steps.text),
    ("summary", steps.summary),
    ("frames", steps.frames),
    ("audio", steps.audio),
    ("image_embedding", steps.image_embedding),
    ("suggestions", steps.suggest),
]
STEP_NAMES = [name for name, _ in STEPS]
# A failure here means the file itself cannot be used: the video fails.
ESSENTIAL_STEPS = {"probe"}
# Seconds between two progress writes of one step, so a fast loop does not flood the database.
PROGRESS_INTERVAL = 0.5


def check_step_names(names: Sequence[str] | None) -> None:
    unknown = set(names or ()) - set(STEP_NAMES)
    if unknown:
        raise ValueError(
            f"unknown steps: {', '.join(sorted(unknown))}; known: {', '.join(STEP_NAMES)}"
        )


def video_job_run(job: Job, run: JobRun) -> str:
    """The ingest job: every step of the video, or those the request named."""
    only: list[str] | None = job.params.get("only") or None
    try:
        check_step_names(only)
    except ValueError as exc:
        raise JobFailed(str(exc)) from None
    video = Video.objects.select_related("project").filter(pk=job.object_pk).first()
    if video is None:
        raise JobFailed("the video was deleted")
    Video.objects.filter(pk=video.pk).update(status=VideoStatus.PROCESSING, status_error="")
    errors, outcome = _run_steps(video, only, run)
    if errors:
        raise JobFailed("; ".join(errors))
    with run.complete(outcome, result={"video_id": video.pk}):
        Video.objects.filter(pk=video.pk).update(status=VideoStatus.READY, status_error="")
    return outcome


def video_job_ended(job: Job, state: str, reason: str) -> None:
    """A failed or cancelled ingest: the video fails with the reason; unrun steps say why."""
    error = reason if state == Job.State.FAILED else f"processing cancelled: {reason}"
    Video.objects.filter(pk=job.object_pk).update(status=VideoStatus.FAILED, status_error=error)
    ProcessingStep.objects.filter(
        video_id=job.object_pk,
        state__in=[ProcessingStep.State.PENDING, ProcessingStep.State.RUNNING],
    ).update(state=ProcessingStep.State.SKIPPED, message=f"not finished: {error}")


def video_job_queued(job: Job) -> None:
    Video.objects.filter(pk=job.object_pk).update(status=VideoStatus.PENDING, status_error="")


def _run_steps(video: Video, only: Sequence[str] | None, run: JobRun) -> tuple[list[str], str]:
    """Run the selected steps; returns the errors that fail the video, and an outcome."""
    selected = [(name, step) for name, step in STEPS if not only or name in only]
    if only and "probe" not in only:
        # Later steps read the media facts; a re-run of one step trusts the stored probe
        # unless the probe itself failed.
        failed_probe = video.steps.filter(name="probe", state=ProcessingStep.State.FAILED).first()
        if failed_probe is not None:
            return [f"probe: {failed_probe.message}"], ""
    for name, _ in selected:
        ProcessingStep.objects.update_or_create(
            video=video,
            name=name,
            defaults={"state": ProcessingStep.State.PENDING, "progress": 0.0, "message": ""},
        )
    errors: list[str] = []
    states: dict[str, str] = {}
    with LocalCopies() as files:
        for position, (name, step_function) in enumerate(selected):

            def overall(fraction: float, position: int = position, name: str = name) -> None:
                run.progress((position + fraction) / len(selected), stage=name)

            overall(0.0)
            step = _run_step(video, name, step_function, files, overall)
            states[name] = step.state
            if step.state == ProcessingStep.State.FAILED and name in ESSENTIAL_STEPS:
                errors.append(f"{name}: {step.message}")
                ProcessingStep.objects.filter(
                    video=video, state=ProcessingStep.State.PENDING
                ).update(
                    state=ProcessingStep.State.SKIPPED, message=f"not run: the {name} step failed"
                )
                break
    failed = [name for name, state in states.items() if state == ProcessingStep.State.FAILED]
    outcome = f"{len(states)} steps run" + (f"; failed: {', '.join(failed)}" if failed else "")
    return errors, outcome


def _run_step(
    video: Video,
    name: str,
    function: StepFunction,
    files: LocalCopies,
    overall: Callable[[float], None],
) -> ProcessingStep:
    step = ProcessingStep.objects.get(video=video, name=name)
    step.state, step.started_at, step.finished_at = (
        ProcessingStep.State.RUNNING,
        timezone.now(),
        None,
    )
    step.save(update_fields=["state", "started_at", "finished_at"])
    began, began_cpu = time.monotonic(), time.process_time()
    last_write = [0.0]

    def progress(fraction: float) -> None:
        overall(max(0.0, min(1.0, fraction)))
        now = time.monotonic()
        if now - last_write[0] >= PROGRESS_INTERVAL:
            last_write[0] = now
            ProcessingStep.objects.filter(pk=step.pk).update(progress=max(0.0, min(1.0, fraction)))

    try:
        step.message = function(video, files, progress)
        step.state = ProcessingStep.State.DONE
    except StepSkipped as skipped:
        step.state, step.message = ProcessingStep.State.SKIPPED, str(skipped)
    except StepUnavailable as unavailable:
        step.state, step.message = ProcessingStep.State.FAILED, str(unavailable)
    except Exception as exc:  # one step's failure is recorded; the worker goes on
        logger.warning("step %s failed for video %s: %s", name, video.pk, exc, exc_info=True)
        step.state, step.message = ProcessingStep.State.FAILED, _readable(exc)
    step.progress = 1.0
    step.finished_at = timezone.now()
    # CPU time of the worker process (all its threads) during the step: unlike the
    # wall-clock, barely stretched by other work on the machine.
    step.details = {
        **step.details,
        "seconds": round(time.monotonic() - began, 3),
        "cpu_seconds": round(time.process_time() - began_cpu, 3),
    }
    step.save()
    return step


def _readable(exc: Exception) -> str:
    text = str(exc).strip()
    known = (
        "MediaError",
        "SubtitleError",
        "OSError",
        "ValueError",
        "FileNotFoundError",
        "StoredFileTooLarge",
    )
    if type(exc).__name__ in known and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def video_progress(video: Video) -> float:
    """Share of the pipeline done, for the progress bar."""
    rows = list(video.steps.values_list("state", "progress"))
    if not rows:
        return 0.0
    finished = {
        ProcessingStep.State.DONE,
        ProcessingStep.State.SKIPPED,
        ProcessingStep.State.FAILED,
    }
    done = sum(1.0 if state in finished else progress for state, progress in rows)
    return done / len(rows)


__all__ = [
    "ESSENTIAL_STEPS",
    "STEPS",
    "STEP_NAMES",
    "StepSkipped",
    "StepUnavailable",
    "check_step_names",
    "video_job_ended",
    "video_job_queued",
    "video_job_run",
    "video_progress",
]
