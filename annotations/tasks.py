"""django-q2 entry points: take ids, call a service. Queue them with transaction.on_commit."""

from __future__ import annotations

from collections.abc import Sequence

from django_q.tasks import async_task

from annotations.services.ingest import video_ingest


def enqueue_ingest(video_id: int, only: Sequence[str] | None = None) -> None:
    async_task(
        "annotations.tasks.ingest_video",
        video_id,
        list(only) if only else None,
        group="ingest",
        task_name=f"ingest video {video_id}",
    )


def ingest_video(video_id: int, only: list[str] | None = None) -> str:
    status = video_ingest(video_id=video_id, only=only)
    return f"video {video_id}: {status or 'not claimed'}"


def enqueue_training(version_id: int) -> None:
    async_task(
        "annotations.tasks.train_model",
        version_id,
        group="training",
        task_name=f"train model {version_id}",
    )


def train_model(version_id: int) -> str:
    from annotations.services.training import model_train

    version = model_train(version_id=version_id)
    return f"{version}: {version.note}"


def enqueue_suggestions_refresh(project_id: int) -> None:
    async_task(
        "annotations.tasks.refresh_suggestions",
        project_id,
        group="suggestions",
        task_name=f"refresh suggestions of project {project_id}",
    )


def refresh_suggestions(project_id: int) -> str:
    from annotations.models import Project
    from annotations.services.suggestions import suggestions_refresh_project

    run = suggestions_refresh_project(project=Project.objects.get(pk=project_id))
    return f"{run.videos} videos: {run.describe()}"


def retrain_if_needed() -> str:
    """The scheduled job: retrain each project that has enough new confirmed labels."""
    from annotations.services.training import scheduled_retraining

    return scheduled_retraining()
