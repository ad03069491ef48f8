"""Background jobs of every kind, read the same way, with one visibility rule.

A job's id is ``<kind>-<key>``: the key is the id of the object the job is about —
``ingest-<video id>``, ``training-<model version id>``, ``suggestions-<project id>``,
``predict-<prediction id>``, ``export-<snapshot id>`` — or, for a dataset import, which
has no object of its own, the job's number (``import-<n>``). ``task-<django-q task id>``
names any queued or finished django-q task, for those who may retrain.

``jobs_for_user`` is the rule: a job is visible when its project is, and its kind's
object would be to this user (a crowd worker sees the processing of the videos assigned
to them, experts also trainings and suggestion refreshes, admins everything; anyone
their own predictions). The list and the lookup by id both go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django_q.models import OrmQ, Task

from annotations.models import ExportSnapshot, Job, ModelVersion, PredictionJob
from annotations.roles import (
    P_EXPORT,
    P_LABEL_ANY,
    P_PROCESS_VIDEOS,
    P_RETRAIN,
    P_REVIEW,
    P_VIEW_ALL_ANNOTATIONS,
)
from annotations.selectors.access import (
    AnyUser,
    may,
    openable_videos,
    projects_for_user,
    projects_with_perm,
    sees_every_project,
)

JOB_KINDS = (*Job.Kind.values, "task")
# Who may follow each kind by id at all: the others are refused before any lookup.
FOLLOW_PERMISSIONS: dict[str, str] = {
    Job.Kind.TRAINING: P_REVIEW,
    Job.Kind.SUGGESTIONS: P_REVIEW,
    Job.Kind.EXPORT: P_EXPORT,
    Job.Kind.IMPORT: P_EXPORT,
    "task": P_RETRAIN,
}
# Who may retry or cancel a job of each kind (admins, as the permissions stand).
CONTROL_PERMISSIONS: dict[str, str] = {
    Job.Kind.INGEST: P_PROCESS_VIDEOS,
    Job.Kind.TRAINING: P_RETRAIN,
    Job.Kind.SUGGESTIONS: P_RETRAIN,
    Job.Kind.PREDICT: P_RETRAIN,
    Job.Kind.EXPORT: P_EXPORT,
    Job.Kind.IMPORT: P_EXPORT,
}
# Queued tasks are looked through up to this many; the queue is short when workers run.
QUEUE_SCAN = 1000
MISSING = "No such job."


@dataclass
class JobStatus:
    id: str
    kind: str
    state: str
    progress: float | None
    stage: str = ""
    error: str = ""
    message: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    project: int | None = None
    waits_for: str | None = None
    heartbeat_at: datetime | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


def jobs_for_user(user: AnyUser) -> QuerySet[Job]:
    """The jobs ``user`` may follow, of every kind; the newest first.

    Each kind by the rule of its object's own lookup (``selectors.access``): a video's
    processing where they may open the video, trainings and refreshes where their role
    in the project lets them see the models, exports and imports where it lets them
    export, every prediction where it lets them retrain, and their own predictions.
    """
    if sees_every_project(user) and user.has_perm(P_LABEL_ANY):
        visible = Q(kind=Job.Kind.INGEST)
    else:
        visible = Q(kind=Job.Kind.INGEST, object_id__in=openable_videos(user).values("pk"))
    visible |= Q(
        kind__in=[Job.Kind.TRAINING, Job.Kind.SUGGESTIONS],
        project__in=projects_with_perm(user, P_VIEW_ALL_ANNOTATIONS),
    )
    visible |= Q(
        kind__in=[Job.Kind.EXPORT, Job.Kind.IMPORT],
        project__in=projects_with_perm(user, P_EXPORT),
    )
    visible |= Q(kind=Job.Kind.PREDICT, project__in=projects_with_perm(user, P_RETRAIN))
    if user.is_authenticated:
        visible |= Q(kind=Job.Kind.PREDICT, requested_by=user.pk)
    return (
        Job.objects.filter(visible, project__in=projects_for_user(user))
        .select_related("after", "project")
        .order_by("-id")
    )


def job_kind(job_id: str) -> str:
    """The kind a job id names, or Http404 when it names none."""
    kind, _sep, key = job_id.partition("-")
    if kind == "task" and key:
        return kind
    if kind not in Job.Kind.values or not key.isdigit() or len(key) > 18:
        raise Http404(
            "No such job: job ids look like ingest-40, training-5, suggestions-2, "
            "predict-12, export-3 or import-7."
        )
    return kind


def get_job_for_user(user: AnyUser, job_id: str) -> Job:
    """The job a ``<kind>-<key>`` id names, when ``user`` may see it; else Http404."""
    kind = job_kind(job_id)
    if kind == "task":
        raise Http404(MISSING)
    key = int(job_id.partition("-")[2])
    found = (
        jobs_for_user(user)
        .filter(Q(object_id=key) | Q(object_id__isnull=True, pk=key), kind=kind)
        .first()
    )
    if found is None:
        raise Http404(MISSING)
    return found


def may_control_job(user: AnyUser, job: Job) -> bool:
    """Whether ``user`` may retry or cancel ``job``: their role in its project says."""
    return may(user, job.project, CONTROL_PERMISSIONS[job.kind])


def job_of(kind: str, object_id: int) -> Job | None:
    """The job about one object (a video's processing, a version's training), if any."""
    return Job.objects.of(kind, object_id).first()


def job_statuses(jobs: list[Job]) -> list[JobStatus]:
    """The jobs as the API shows them, with what each produced read from its object."""
    ids: dict[str, list[int]] = {}
    for job in jobs:
        if job.object_id is not None:
            ids.setdefault(job.kind, []).append(job.object_id)
    versions = ModelVersion.objects.in_bulk(ids.get(Job.Kind.TRAINING, []))
    snapshots = ExportSnapshot.objects.in_bulk(ids.get(Job.Kind.EXPORT, []))
    predictions = PredictionJob.objects.in_bulk(ids.get(Job.Kind.PREDICT, []))
    statuses = []
    for job in jobs:
        if job.kind == Job.Kind.TRAINING:
            result = _training_result(versions.get(job.object_id or 0))
        elif job.kind == Job.Kind.EXPORT:
            result = _export_result(snapshots.get(job.object_id or 0))
        elif job.kind == Job.Kind.PREDICT:
            prediction = predictions.get(job.object_id or 0)
            result = dict(prediction.result) if prediction is not None else {}
        elif job.kind == Job.Kind.INGEST:
            result = {"video_id": job.object_id}
        else:
            result = dict(job.result)
        statuses.append(_status(job, result))
    return statuses


def job_status(job: Job) -> JobStatus:
    return job_statuses([job])[0]


def _status(job: Job, result: dict[str, Any]) -> JobStatus:
    ended_badly = job.state in (Job.State.FAILED, Job.State.CANCELLED)
    return JobStatus(
        id=job.public_id,
        kind=job.kind,
        state=job.state,
        progress=1.0 if job.state == Job.State.DONE else job.progress,
        stage=job.stage,
        error=job.message if ended_badly else "",
        message=job.message,
        result=result,
        attempts=job.attempts,
        project=job.project_id,
        waits_for=job.after.public_id if job.after is not None and job.is_active else None,
        heartbeat_at=job.heartbeat_at,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def _training_result(version: ModelVersion | None) -> dict[str, Any]:
    if version is None:
        return {}
    return {"version": version.number, "state": version.state, "note": version.note}


def _export_result(snapshot: ExportSnapshot | None) -> dict[str, Any]:
    if snapshot is None:
        return {}
    result: dict[str, Any] = {"snapshot": snapshot.pk, "rows": snapshot.row_count}
    if snapshot.state == ExportSnapshot.State.READY:
        result |= {
            "sha256": snapshot.sha256,
            "download_url": f"/api/v1/exports/{snapshot.pk}/download/",
        }
    return result


# --- django-q tasks by id (admins) -----------------------------------------------------
def _task_visible(user: AnyUser, func: str, args: object) -> bool:
    """Whether the job a task runs is one ``user`` may see.

    A task of no job (the scheduled retraining, the sweeper) is visible to those who
    see every project.
    """
    key = args[0] if isinstance(args, list | tuple) and args else None
    if func == "annotations.tasks.run_job" and isinstance(key, int):
        return jobs_for_user(user).filter(pk=key).exists()
    return sees_every_project(user)


def get_task_for_user(user: AnyUser, task_id: str) -> JobStatus:
    """A django-q task, queued or finished, for those who may retrain."""
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
            "",
            {"result": str(task.result)[:2000]} if task.success else {},
            created_at=task.started,
            started_at=task.started,
            finished_at=task.stopped,
        )
    for queued in OrmQ.objects.all()[:QUEUE_SCAN]:
        payload = queued.task()
        if isinstance(payload, dict) and payload.get("id") == task_id:
            if not _task_visible(user, str(payload.get("func", "")), payload.get("args")):
                raise missing
            return JobStatus(f"task-{task_id}", "task", "queued", 0.0, str(payload.get("name", "")))
    raise missing
