"""Background jobs, whatever they are, read the same way: ``GET /api/v1/jobs/<kind>-<id>/``.

Kinds: ``predict`` (a prediction on a video file), ``export`` (a dataset snapshot),
``training`` (a model version), ``ingest`` (a video's processing) and ``task`` (any
django-q2 task by its id, for admins). A job is visible exactly when its object is.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.permissions import HasRole, acting_user, require_perm
from annotations.api.serializers import JobOutput, errors
from annotations.roles import P_EXPORT, P_RETRAIN, P_REVIEW
from annotations.selectors import get_job_for_user, job_kind

# Who may follow each kind at all; the others are refused with 403 before any lookup.
_KIND_PERMISSIONS = {"export": P_EXPORT, "training": P_REVIEW, "task": P_RETRAIN}


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
        user = acting_user(request)
        permission = _KIND_PERMISSIONS.get(job_kind(job_id))
        if permission is not None:
            require_perm(user, permission)
        return Response(JobOutput(asdict(get_job_for_user(user, job_id))).data)
