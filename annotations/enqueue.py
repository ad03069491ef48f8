"""Queueing background jobs: one function per kind of job.

Each names its entry point in ``annotations.tasks`` by dotted path and imports
nothing of this project, so any service can import this module at the top without
pulling in the workers' code. A job is handed to django-q2 when the current
transaction commits (at once outside one): the worker never looks for rows that
are not there yet, and a rolled-back request queues nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django_q.tasks import async_task


def _on_commit(entry_point: str, *args: object, group: str, name: str) -> None:
    transaction.on_commit(
        lambda: async_task(f"annotations.tasks.{entry_point}", *args, group=group, task_name=name)
    )


def ingest(video_id: int, steps: Sequence[str] | None = None) -> None:
    """Process a video: all steps, or only ``steps``."""
    _on_commit(
        "ingest_video",
        video_id,
        list(steps) if steps else None,
        group="ingest",
        name=f"ingest video {video_id}",
    )


def ingest_videos(video_ids: Sequence[int]) -> None:
    """Process many new videos in one job (part of an import's batch), each claimed alone."""
    if not video_ids:
        return
    _on_commit(
        "ingest_videos",
        list(video_ids),
        group="ingest",
        name=f"ingest {len(video_ids)} videos from {min(video_ids)}",
    )


def training(version_id: int) -> None:
    _on_commit("train_model", version_id, group="training", name=f"train model {version_id}")


def suggestions_refresh(project_id: int) -> None:
    _on_commit(
        "refresh_suggestions",
        project_id,
        group="suggestions",
        name=f"refresh suggestions of project {project_id}",
    )


def export(snapshot_id: int) -> None:
    _on_commit("build_export", snapshot_id, group="exports", name=f"export snapshot {snapshot_id}")


def prediction(job_id: int) -> None:
    _on_commit("run_prediction", job_id, group="predict", name=f"prediction job {job_id}")
