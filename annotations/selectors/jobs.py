"""Background jobs of every kind, read the same way, each through the access rules.

A job id is ``<kind>-<key>``: ``predict-<id>`` (a prediction on a file), ``export-<id>``
(a dataset snapshot), ``training-<id>`` (a model version), ``ingest-<video id>`` (a
video's processing) and ``task-<django-q task id>`` (any queued or finished task, for
those who may retrain). Each kind reads its object with the same ``get_*_for_user``
as its own endpoints, so a job is visible exactly when its object is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Model
from django.http import Http404
from django_q.models import OrmQ, Task

from annotations.models import (
    ExportSnapshot,
    ModelVersion,
    PredictionJob,
    ProcessingStep,
    Project,
    Video,
    VideoStatus,
)
from annotations.roles import P_RETRAIN
from annotations.selectors.access import (
    AnyUser,
    get_export_for_user,
    get_for_user,
    get_prediction_job_for_user,
    get_version_for_user,
    get_video_for_user,
    projects_for_user,
)
from annotations.services.media.ingest import video_progress

JOB_KINDS = ("predict", "export", "training", "ingest", "task")
# Queued tasks are looked through up to this many; the queue is short when workers run.
QUEUE_SCAN = 1000


@dataclass
class JobStatus:
    id: str
    kind: str
    state: str
    progress: float | None
    stage: str = ""
    error: str = ""
    result: dict[str, object] = field(default_factory=dict)
    created_at: datetime | None = None
    finished_at: datetime | None = None


def _predict(user: AnyUser, pk: int) -> JobStatus:
    job = get_prediction_job_for_user(user, pk)
    return JobStatus(
        f"predict-{pk}",
        "predict",
        job.state,
        job.progress,
        job.stage,
        job.error,
        job.result,
        job.created_at,
        job.finished_at,
    )


_EXPORT_STATES = {"building": "running", "ready": "done", "failed": "failed"}


def _export(user: AnyUser, pk: int) -> JobStatus:
    snapshot = get_export_for_user(user, pk)
    state = _EXPORT_STATES[snapshot.state]
    result: dict[str, object] = {"snapshot": snapshot.pk, "rows": snapshot.row_count}
    if state == "done":
        result |= {
            "sha256": snapshot.sha256,
            "download_url": f"/api/v1/exports/{snapshot.pk}/download/",
        }
    return JobStatus(
        f"export-{pk}",
        "export",
        state,
        1.0 if state == "done" else None,
        f"{snapshot.row_count} rows written" if state == "running" else snapshot.state,
        snapshot.error,
        result,
        snapshot.created_at,
        None,
    )


def _training(user: AnyUser, pk: int) -> JobStatus:
    version = get_version_for_user(user, pk)
    if version.state == ModelVersion.State.TRAINING:
        state = "queued" if version.stage == "queued" else "running"
    else:
        state = "failed" if version.state == ModelVersion.State.FAILED else "done"
    return JobStatus(
        f"training-{pk}",
        "training",
        state,
        1.0 if state == "done" else version.progress,
        version.stage,
        version.note if state == "failed" else "",
        {"version": version.number, "state": version.state, "note": version.note},
        version.created_at,
        version.finished_at,
    )


_VIDEO_STATES = {
    VideoStatus.PENDING: "queued",
    VideoStatus.PROCESSING: "running",
    VideoStatus.READY: "done",
    VideoStatus.FAILED: "failed",
}


def _ingest(user: AnyUser, pk: int) -> JobStatus:
    video = get_video_for_user(user, pk)
    running = video.steps.filter(state=ProcessingStep.State.RUNNING).first()
    return JobStatus(
        f"ingest-{pk}",
        "ingest",
        _VIDEO_STATES[VideoStatus(video.status)],
        video_progress(video),
        running.name if running else video.status,
        video.status_error,
        {"video_id": video.pk},
        video.created_at,
        None,
    )


# The object each task entry point works on, named by its first argument.
_TASK_OBJECTS: dict[str, type[Model]] = {
    "annotations.tasks.ingest_video": Video,
    "annotations.tasks.train_model": ModelVersion,
    "annotations.tasks.refresh_suggestions": Project,
    "annotations.tasks.build_export": ExportSnapshot,
    "annotations.tasks.run_prediction": PredictionJob,
}


def _task_visible(user: AnyUser, func: str, args: object) -> bool:
    """Whether the project a task works on is one ``user`` may see.

    A task of no single project (the scheduled retraining) is visible to those who
    see every project.
    """
    model = _TASK_OBJECTS.get(func)
    key = args[0] if isinstance(args, list | tuple) and args else None
    if model is None or not isinstance(key, int):
        return not Project.objects.exclude(pk__in=projects_for_user(user)).exists()
    project_field = "pk" if model is Project else "project"
    try:
        get_for_user(
            user, model._default_manager.all(), key, missing="", project_field=project_field
        )
    except Http404:
        return False
    return True


def _task(user: AnyUser, task_id: str) -> JobStatus:
    missing = Http404("No such job (finished tasks are kept only for a while).")
    if not user.has_perm(P_RETRAIN):
        raise missing
    task = Task.objects.filter(id=task_id).first()
    if task is not None:
        if not _task_visible(user, task.func, task.args):
            raise missing
        return JobStatus(
            f"task-{task_id}",
            "task",
            "done" if task.success else "failed",
            1.0 if task.success else None,
            task.name or task.func,
            "" if task.success else str(task.result),
            {"result": str(task.result)[:2000]} if task.success else {},
            task.started,
            task.stopped,
        )
    for queued in OrmQ.objects.all()[:QUEUE_SCAN]:
        payload = queued.task()
        if isinstance(payload, dict) and payload.get("id") == task_id:
            if not _task_visible(user, str(payload.get("func", "")), payload.get("args")):
                raise missing
            return JobStatus(f"task-{task_id}", "task", "queued", 0.0, str(payload.get("name", "")))
    raise missing


_BY_KIND = {"predict": _predict, "export": _export, "training": _training, "ingest": _ingest}


def job_kind(job_id: str) -> str:
    """The kind a job id names, or Http404 when it names none."""
    kind, _sep, key = job_id.partition("-")
    if kind == "task" and key:
        return kind
    if kind not in _BY_KIND or not key.isdigit() or len(key) > 18:
        raise Http404("No such job: job ids look like predict-12, export-3, training-5, ingest-40.")
    return kind


def get_job_for_user(user: AnyUser, job_id: str) -> JobStatus:
    kind = job_kind(job_id)
    key = job_id.partition("-")[2]
    if kind == "task":
        return _task(user, key)
    return _BY_KIND[kind](user, int(key))
