"""django-q2 entry points: each takes ids, loads what it needs and calls a service.

They are queued by ``annotations.enqueue``, which names them by dotted path; a
service never imports this module.
"""

from __future__ import annotations

from collections import Counter

from annotations.models import Project
from annotations.services.export import export_build
from annotations.services.learning.prediction_jobs import prediction_job_run
from annotations.services.learning.suggestions import suggestions_refresh_project
from annotations.services.learning.training import model_train, scheduled_retraining
from annotations.services.media.ingest import video_ingest


def ingest_video(video_id: int, only: list[str] | None = None) -> str:
    status = video_ingest(video_id=video_id, only=only)
    return f"video {video_id}: {status or 'not claimed'}"


def ingest_videos(video_ids: list[int]) -> str:
    """A bulk import's batch: each video is claimed and processed as by ``ingest_video``."""
    statuses = Counter(
        str(video_ingest(video_id=video_id) or "not claimed") for video_id in video_ids
    )
    return f"{len(video_ids)} videos: " + ", ".join(
        f"{count} {status}" for status, count in sorted(statuses.items())
    )


def train_model(version_id: int) -> str:
    version = model_train(version_id=version_id)
    return f"{version}: {version.note}"


def refresh_suggestions(project_id: int) -> str:
    run = suggestions_refresh_project(project=Project.objects.get(pk=project_id))
    return f"{run.videos} videos: {run.describe()}"


def retrain_if_needed() -> str:
    """The scheduled job: retrain each project that has enough new confirmed labels."""
    return scheduled_retraining()


def build_export(snapshot_id: int) -> str:
    snapshot = export_build(snapshot_id=snapshot_id)
    return f"{snapshot}: {snapshot.state}, {snapshot.row_count} rows"


def run_prediction(job_id: int) -> str:
    job = prediction_job_run(job_id=job_id)
    return f"{job}: {job.error or job.stage}"
