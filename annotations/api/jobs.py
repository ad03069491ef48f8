"""Background jobs, whatever they are, read the same way: ``GET /api/v1/jobs/<kind>-<id>/``.

Kinds: ``predict`` (a prediction on a video file), ``export`` (a dataset snapshot),
``training`` (a model version), ``ingest`` (a video's processing) and ``task`` (any
django-q2 task by its id, for admins).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.http import Http404
from django_q.models import OrmQ, Task
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.permissions import HasRole, require_perm
from annotations.api.serializers import JobOutput, errors
from annotations.models import (
    ExportSnapshot,
    ModelVersion,
    PredictionJob,
    ProcessingStep,
    VideoStatus,
)
from annotations.roles import P_EXPORT, P_RETRAIN, P_REVIEW
from annotations.selectors import get_project_for_user, get_video_for_user
from annotations.services.media.ingest import video_progress


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


def _predict(request: Request, pk: int) -> JobStatus:
    job = PredictionJob.objects.filter(pk=pk).first()
    if job is None or (
        job.created_by_id != request.user.pk and not request.user.has_perm(P_RETRAIN)
    ):
        raise Http404("No such job.")
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


def _export(request: Request, pk: int) -> JobStatus:
    require_perm(request.user, P_EXPORT)
    snapshot = ExportSnapshot.objects.filter(pk=pk).first()
    if snapshot is None:
        raise Http404("No such job.")
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


def _training(request: Request, pk: int) -> JobStatus:
    require_perm(request.user, P_REVIEW)
    version = ModelVersion.objects.filter(pk=pk).first()
    if version is None:
        raise Http404("No such job.")
    get_project_for_user(request.user, version.project_id)
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


def _ingest(request: Request, pk: int) -> JobStatus:
    video = get_video_for_user(request.user, pk)
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


def _task(request: Request, task_id: str) -> JobStatus:
    require_perm(request.user, P_RETRAIN)
    task = Task.objects.filter(id=task_id).first()
    if task is not None:
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
    for queued in OrmQ.objects.all()[:1000]:
        payload = queued.task()
        if isinstance(payload, dict) and payload.get("id") == task_id:
            return JobStatus(
                f"task-{task_id}",
                "task",
                "queued",
                0.0,
                str(payload.get("name", "")),
            )
    raise Http404("No such job (finished tasks are kept only for a while).")


_BY_KIND = {"predict": _predict, "export": _export, "training": _training, "ingest": _ingest}


def job_status(request: Request, job_id: str) -> JobStatus:
    kind, _sep, key = job_id.partition("-")
    if kind == "task" and key:
        return _task(request, key)
    reader = _BY_KIND.get(kind)
    if reader is None or not key.isdigit() or len(key) > 18:
        raise Http404("No such job: job ids look like predict-12, export-3, training-5, ingest-40.")
    return reader(request, int(key))


class JobDetailApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "job_id",
                str,
                OpenApiParameter.PATH,
                description="predict-<id>, export-<id>, training-<id>, ingest-<video id>, "
                "or task-<django-q task id>.",
            )
        ],
        responses={200: JobOutput, **errors(404)},
        summary="A background job's state and progress",
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobOutput(asdict(job_status(request, job_id))).data)
