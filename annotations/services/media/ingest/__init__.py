"""The ingest job for one video: run each processing step, record how it went.

A video is claimed with a conditional UPDATE, so two workers handed the same job
never process one video; a claim older than the job timeout belongs to a worker that
died, and may be taken over. Each step records its state, progress, duration and
message; a failing step does not stop the others (only a failed probe means the file
itself is unusable), and the job never raises, so a bad video cannot take a worker down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from annotations.models import ProcessingStep, Video, VideoStatus
from annotations.services.media.ingest import steps
from annotations.services.media.ingest.steps import StepSkipped, StepUnavailable

logger = logging.getLogger(__name__)

StepFunction = Callable[[Video, steps.Progress], str]

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


def _stale_claim_cutoff() -> datetime:
    return timezone.now() - timedelta(seconds=settings.Q_CLUSTER["timeout"])  # type: ignore[arg-type]


def video_claim(*, video_id: int, include_ready: bool = False) -> bool:
    """Take the video for processing; False when another worker holds a live claim."""
    claimable = Q(status__in=[VideoStatus.PENDING, VideoStatus.FAILED]) | Q(
        status=VideoStatus.PROCESSING, processing_started_at__lt=_stale_claim_cutoff()
    )
    if include_ready:
        claimable |= Q(status=VideoStatus.READY)
    return bool(
        Video.objects.filter(claimable, pk=video_id).update(
            status=VideoStatus.PROCESSING, status_error="", processing_started_at=timezone.now()
        )
    )


def video_ingest(
    *, video_id: int, only: Sequence[str] | None = None, include_ready: bool = False
) -> VideoStatus | None:
    """Process one video (or only the named steps); returns its final status.

    Returns None when the video could not be claimed (being processed, or deleted).
    """
    unknown = set(only or ()) - set(STEP_NAMES)
    if unknown:
        raise ValueError(
            f"unknown steps: {', '.join(sorted(unknown))}; known: {', '.join(STEP_NAMES)}"
        )
    if not video_claim(video_id=video_id, include_ready=include_ready or bool(only)):
        logger.info("video %s is not waiting for processing; nothing to do", video_id)
        return None
    try:
        video = Video.objects.select_related("project").get(pk=video_id)
        errors = _run_steps(video, only)
    except Exception as exc:
        # Even a failure outside the steps (the database, say) must not leave the video
        # stuck in "processing": mark it failed so it can be retried.
        logger.exception("ingest of video %s failed", video_id)
        errors = [f"processing stopped: {exc}"]
    status = VideoStatus.FAILED if errors else VideoStatus.READY
    Video.objects.filter(pk=video_id).update(
        status=status, status_error="; ".join(errors), processing_started_at=None
    )
    return status


def _run_steps(video: Video, only: Sequence[str] | None) -> list[str]:
    selected = [(name, run) for name, run in STEPS if not only or name in only]
    if only and "probe" not in only:
        # Later steps read the media facts; a re-run of one step trusts the stored probe
        # unless the probe itself failed.
        failed_probe = video.steps.filter(name="probe", state=ProcessingStep.State.FAILED).first()
        if failed_probe is not None:
            return [f"probe: {failed_probe.message}"]
    for name, _ in selected:
        ProcessingStep.objects.update_or_create(
            video=video,
            name=name,
            defaults={"state": ProcessingStep.State.PENDING, "progress": 0.0, "message": ""},
        )
    errors: list[str] = []
    for name, run in selected:
        step = _run_step(video, name, run)
        if step.state == ProcessingStep.State.FAILED and name in ESSENTIAL_STEPS:
            errors.append(f"{name}: {step.message}")
            ProcessingStep.objects.filter(video=video, state=ProcessingStep.State.PENDING).update(
                state=ProcessingStep.State.SKIPPED, message=f"not run: the {name} step failed"
            )
            break
    return errors


def _run_step(video: Video, name: str, run: StepFunction) -> ProcessingStep:
    step = ProcessingStep.objects.get(video=video, name=name)
    step.state, step.started_at, step.finished_at = (
        ProcessingStep.State.RUNNING,
        timezone.now(),
        None,
    )
    step.save(update_fields=["state", "started_at", "finished_at"])
    began = time.monotonic()
    last_write = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last_write[0] >= PROGRESS_INTERVAL:
            last_write[0] = now
            ProcessingStep.objects.filter(pk=step.pk).update(progress=max(0.0, min(1.0, fraction)))

    try:
        step.message = run(video, progress)
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
    step.details = {**step.details, "seconds": round(time.monotonic() - began, 3)}
    step.save()
    return step


def _readable(exc: Exception) -> str:
    text = str(exc).strip()
    known = ("MediaError", "SubtitleError", "OSError", "ValueError", "FileNotFoundError")
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
    "video_claim",
    "video_ingest",
    "video_progress",
]
