"""Re-running the processing of videos: all steps, failed steps only, or named steps."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet

from annotations import enqueue
from annotations.models import ProcessingStep, Video, VideoStatus
from annotations.services.media.ingest import STEP_NAMES


def failed_steps(video: Video) -> list[str]:
    return list(
        video.steps.filter(state=ProcessingStep.State.FAILED)
        .order_by("id")
        .values_list("name", flat=True)
    )


def videos_reprocess(
    *, videos: QuerySet[Video], only: Sequence[str] | None = None, failed_only: bool = False
) -> int:
    """Queue the ingest job again for each video; returns how many were queued.

    With ``failed_only`` each video re-runs just its failed steps (all steps when the
    video failed before any step ran). Videos being processed right now are left alone.
    """
    unknown = set(only or ()) - set(STEP_NAMES)
    if unknown:
        raise ValueError(
            f"unknown steps: {', '.join(sorted(unknown))}; known: {', '.join(STEP_NAMES)}"
        )
    queued = 0
    for video in videos.exclude(status=VideoStatus.PROCESSING).iterator():
        steps = list(only or ())
        if failed_only:
            steps = failed_steps(video)
            if not steps and video.status != VideoStatus.FAILED:
                continue
        video_schedule(video=video, only=steps or None)
        queued += 1
    return queued


def video_schedule(*, video: Video, only: Sequence[str] | None = None) -> None:
    """Mark the video as waiting and queue its job once the transaction commits."""
    with transaction.atomic():
        Video.objects.filter(pk=video.pk).exclude(status=VideoStatus.PROCESSING).update(
            status=VideoStatus.PENDING
        )
        enqueue.ingest(video.pk, only)
