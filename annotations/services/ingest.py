"""The ingest job for one video: run each processing step, record how it went.

A video is claimed with a conditional UPDATE (pending or failed -> processing),
so two workers handed the same job never process one video. Each step records
its state, duration and error; a failing step does not stop the steps that do
not depend on it, and derived data is replaced, never appended, so running the
job twice gives the same result. Labels and annotations are never touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from annotations.models import ProcessingStep, TranscriptSegment, Video, VideoStatus
from ml.media import MediaError, probe_media
from ml.subtitles import SubtitleError, read_subtitles

logger = logging.getLogger(__name__)


class StepSkipped(Exception):  # it is an outcome, not an error: hence no "Error" suffix
    """A step that has nothing to do for this video; the message says why."""


def _probe(video: Video) -> str:
    if not video.source_file:
        raise StepSkipped("no media file: this video is labeled from its text alone")
    info = probe_media(Path(video.source_file.path))
    video.apply_media_info(info)
    video.save(update_fields=[*Video.MEDIA_INFO_FIELDS, "metadata"])
    return f"{info.duration_seconds:.1f} s, {info.width or 0}x{info.height or 0}"


def _transcript(video: Video) -> str:
    if not video.subtitles_file:
        raise StepSkipped("no subtitle file came with this video")
    segments = read_subtitles(Path(video.subtitles_file.path))
    with transaction.atomic():
        TranscriptSegment.objects.filter(video=video).delete()
        TranscriptSegment.objects.bulk_create(
            TranscriptSegment(
                video=video,
                index=index,
                start_seconds=segment.start,
                end_seconds=segment.end,
                text=segment.text,
                source=TranscriptSegment.Source.SIDECAR,
                producer={"file": Path(str(video.subtitles_file.name)).name},
            )
            for index, segment in enumerate(segments)
        )
    return f"{len(segments)} segments from the subtitle file"


# Steps whose failure means the video itself is unusable, as opposed to a
# missing extra (a failed transcript still leaves a video to label).
ESSENTIAL_STEPS = {"probe"}
STEPS: list[tuple[str, Callable[[Video], str]]] = [("probe", _probe), ("transcript", _transcript)]
_EXPECTED_ERRORS = (MediaError, SubtitleError, OSError, ValueError)


def video_claim(*, video_id: int) -> bool:
    return bool(
        Video.objects.filter(
            pk=video_id, status__in=[VideoStatus.PENDING, VideoStatus.FAILED]
        ).update(status=VideoStatus.PROCESSING, status_error="")
    )


def video_ingest(*, video_id: int) -> VideoStatus | None:
    """Process one video; returns its final status, or None when it was not claimable."""
    if not video_claim(video_id=video_id):
        logger.info("video %s is not waiting for processing; nothing to do", video_id)
        return None
    try:
        status, errors = _run_steps(Video.objects.get(pk=video_id))
    except Exception as exc:
        # Even a failure outside the steps (the database, say) must not leave the video
        # stuck in "processing": mark it failed so it can be retried.
        logger.exception("ingest of video %s failed", video_id)
        Video.objects.filter(pk=video_id).update(
            status=VideoStatus.FAILED, status_error=f"processing stopped: {exc}"
        )
        return VideoStatus.FAILED
    Video.objects.filter(pk=video_id).update(status=status, status_error="; ".join(errors))
    return status


def _run_steps(video: Video) -> tuple[VideoStatus, list[str]]:
    errors: list[str] = []
    for name, run in STEPS:
        step, _ = ProcessingStep.objects.update_or_create(
            video=video,
            name=name,
            defaults={
                "state": ProcessingStep.State.RUNNING,
                "progress": 0.0,
                "message": "",
                "started_at": timezone.now(),
                "finished_at": None,
            },
        )
        began = time.monotonic()
        try:
            step.message = run(video)
            step.state = ProcessingStep.State.DONE
        except StepSkipped as skipped:
            step.state, step.message = ProcessingStep.State.SKIPPED, str(skipped)
        except _EXPECTED_ERRORS as exc:
            step.state, step.message = ProcessingStep.State.FAILED, str(exc)
        except Exception as exc:  # a bug in one step must not take the worker down
            logger.exception("step %s failed for video %s", name, video.pk)
            step.state, step.message = ProcessingStep.State.FAILED, f"unexpected error: {exc}"
        if step.state == ProcessingStep.State.FAILED and name in ESSENTIAL_STEPS:
            errors.append(f"{name}: {step.message}")
        step.progress = 1.0
        step.finished_at = timezone.now()
        step.details = {**step.details, "seconds": round(time.monotonic() - began, 3)}
        step.save()
        if errors:
            break
    return (VideoStatus.FAILED if errors else VideoStatus.READY), errors
