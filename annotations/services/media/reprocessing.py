"""Re-running the processing of videos: all steps, failed steps only, or named steps."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import QuerySet

from annotations.models import Job, ProcessingStep, Video, VideoStatus
from annotations.services.jobs.control import job_retry, job_run
from annotations.services.jobs.lifecycle import job_request
from annotations.services.media.ingest import check_step_names


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
    check_step_names(only)
    queued = 0
    busy = Job.objects.filter(kind=Job.Kind.INGEST).alive().values("object_id")
    for video in videos.exclude(pk__in=busy).iterator():
        steps = list(only or ())
        if failed_only:
            steps = failed_steps(video)
            if not steps and video.status != VideoStatus.FAILED:
                continue
        video_schedule(video=video, only=steps or None)
        queued += 1
    return queued


def video_schedule(
    *, video: Video, only: Sequence[str] | None = None, hand_over_now: bool = True
) -> Job:
    """Mark the video as waiting and queue its job once the transaction commits."""
    with transaction.atomic():
        stale = Job.objects.of(Job.Kind.INGEST, video.pk).stale().first()
        if stale is not None:
            # Its worker died: the job is taken over now rather than at the next sweep.
            job_retry(job=stale, user=None)
        job = job_request(
            kind=Job.Kind.INGEST,
            project=video.project,
            object_id=video.pk,
            params={"only": list(only) if only else None},
            hand_over_now=hand_over_now,
        )
        if job.state == Job.State.QUEUED:
            Video.objects.filter(pk=video.pk).update(status=VideoStatus.PENDING, status_error="")
    return job


def video_ingest(*, video_id: int, only: Sequence[str] | None = None) -> VideoStatus | None:
    """Process the video here and now, through its job; returns its status.

    None when another run holds the video's job (a worker is processing it).
    """
    check_step_names(only)
    video = Video.objects.select_related("project").get(pk=video_id)
    if Job.objects.of(Job.Kind.INGEST, video.pk).alive().exists():
        return None
    job = video_schedule(video=video, only=only, hand_over_now=False)
    if job.state != Job.State.QUEUED:
        return None
    job_run(job.pk)
    video.refresh_from_db()
    return VideoStatus(video.status)
