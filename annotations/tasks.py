"""django-q2 entry points: take ids, call a service. Queue them with transaction.on_commit."""

from __future__ import annotations

from django_q.tasks import async_task

from annotations.services.ingest import video_ingest


def enqueue_ingest(video_id: int) -> None:
    async_task(
        "annotations.tasks.ingest_video",
        video_id,
        group="ingest",
        task_name=f"ingest video {video_id}",
    )


def ingest_video(video_id: int) -> str:
    status = video_ingest(video_id=video_id)
    return f"video {video_id}: {status or 'not claimed'}"
