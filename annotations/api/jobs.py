"""Background jobs of every kind, read and controlled the same way.

``GET /api/v1/jobs/`` lists the jobs the caller may follow (every kind, the newest
first, paginated, filtered by kind, state or project); ``GET /api/v1/jobs/<id>/`` reads
one; ``POST /api/v1/jobs/<id>/retry/`` and ``.../cancel/`` act on it at once (admins).
``task-<django-q task id>`` ids read any django-q task (admins).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.pagination import NewestFirstPagination, page_schema
from annotations.api.permissions import RoleApiView, acting_user, require_in_project, require_perm
from annotations.api.serializers import Decorated, JobOutput, errors
from annotations.models import Job
from annotations.selectors import (
    get_job_for_user,
    get_task_for_user,
    job_kind,
    job_status,
    job_statuses,
    jobs_for_user,
)
from annotations.selectors.jobs import CONTROL_PERMISSIONS, FOLLOW_PERMISSIONS
from annotations.services.jobs.control import job_cancel, job_retry

JOB_ID = OpenApiParameter(
    "job_id",
    str,
    OpenApiParameter.PATH,
    description="ingest-<video id>, training-<version id>, suggestions-<project id>, "
    "predict-<prediction id>, export-<snapshot id>, import-<n>, or task-<django-q task id>.",
)


def _output(status: object) -> dict[str, object]:
    return dict(JobOutput(asdict(status)).data)  # type: ignore[call-overload]


class JobListApi(RoleApiView):
    class Filters(serializers.Serializer):
        kind = serializers.ChoiceField(choices=Job.Kind.values, required=False)
        state = serializers.ChoiceField(choices=Job.State.values, required=False)
        project = serializers.IntegerField(min_value=1, max_value=2**53, required=False)

    @page_schema(
        "jobs_list",
        "JobPage",
        JobOutput,
        "Background jobs of every kind the caller may follow, the newest first",
        parameters=[Filters],
        error_codes=(),
    )
    def get(self, request: Request) -> Response:
        user = acting_user(request)
        given = self.Filters(data=request.query_params)
        given.is_valid(raise_exception=True)
        jobs = jobs_for_user(user)
        for name in ("kind", "state"):
            if name in given.validated_data:
                jobs = jobs.filter(**{name: given.validated_data[name]})
        if "project" in given.validated_data:
            jobs = jobs.filter(project_id=given.validated_data["project"])
        paginator = NewestFirstPagination()
        page = paginator.paginate_queryset(jobs, request, view=self) or []
        return paginator.get_paginated_response([_output(s) for s in job_statuses(list(page))])


def _job_for(request: Request, job_id: str) -> Job:
    user = acting_user(request)
    permission = FOLLOW_PERMISSIONS.get(job_kind(job_id))
    if permission is not None:
        require_perm(user, permission)
    return get_job_for_user(user, job_id)


class JobDetailApi(RoleApiView):
    @extend_schema(
        parameters=[JOB_ID],
        responses={200: JobOutput, **errors(404)},
        summary="A background job's state and progress",
    )
    def get(self, request: Request, job_id: str) -> Response:
        if job_kind(job_id) == "task":
            user = acting_user(request)
            require_perm(user, FOLLOW_PERMISSIONS["task"])
            return Response(_output(get_task_for_user(user, job_id.partition("-")[2])))
        return Response(_output(job_status(_job_for(request, job_id))))


def _control_schema(
    summary: str, description: str, *codes: int
) -> Callable[[Decorated], Decorated]:
    """An action on a job (admins): nothing in, the job's new status out."""
    return extend_schema(
        parameters=[JOB_ID],
        request=None,
        responses={200: JobOutput, **errors(403, 404, 409, *codes)},
        summary=summary,
        description=description,
    )


def _control(request: Request, job_id: str, action: Callable[..., Job]) -> Response:
    """``action(job=, user=)`` on the job, for a caller whose role in its project may
    control jobs of its kind; the job's status after it."""
    job = _job_for(request, job_id)
    user = acting_user(request)
    require_in_project(user, job.project, CONTROL_PERMISSIONS[job.kind])
    return Response(_output(job_status(action(job=job, user=user))))


class JobRetryApi(RoleApiView):
    @_control_schema(
        "Run a job again now (admins)",
        "A failed or cancelled job is queued again; a running one is taken from its worker "
        "(which stops at its next checkpoint) and queued again; a queued one is handed to "
        "the workers again. A job that is done answers 409. Running a training again counts "
        "against the project's retraining limit (RETRAIN_REQUESTS_PER_HOUR) like a new one: "
        "over it, 429 with Retry-After.",
        429,
    )
    def post(self, request: Request, job_id: str) -> Response:
        return _control(request, job_id, job_retry)


class JobCancelApi(RoleApiView):
    @_control_schema(
        "Cancel a queued or running job (admins)",
        "It is cancelled at once; a run still going stops at its next checkpoint and its "
        "work is not kept. A job already over answers 409.",
    )
    def post(self, request: Request, job_id: str) -> Response:
        return _control(request, job_id, job_cancel)
