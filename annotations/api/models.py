"""Model versions: list and metrics (experts, admins); retrain, promote, roll back (admins)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.exceptions import Conflict
from annotations.api.permissions import HasRole, require_perm
from annotations.api.serializers import ModelVersionDetailOutput, ModelVersionOutput, errors
from annotations.models import ModelVersion
from annotations.roles import P_RETRAIN, P_REVIEW
from annotations.selectors import get_project_for_user
from annotations.services.learning.registry import model_promote, model_rollback
from annotations.services.learning.training import TrainingAlreadyRunning, training_request


def _version_for(request: Request, version_id: int) -> ModelVersion:
    version = (
        ModelVersion.objects.select_related("project", "requested_by").filter(pk=version_id).first()
    )
    if version is None:
        raise Http404("No such model version.")
    get_project_for_user(request.user, version.project_id)
    return version


class TrainingStartedOutput(ModelVersionOutput):
    job = serializers.SerializerMethodField()

    class Meta(ModelVersionOutput.Meta):
        fields = [*ModelVersionOutput.Meta.fields, "job"]

    def get_job(self, version: ModelVersion) -> str:
        return f"training-{version.pk}"


class ProjectModelsApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        responses={200: ModelVersionOutput(many=True), **errors(404)},
        summary="A project's model versions, the newest first (experts, admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        require_perm(request.user, P_REVIEW)
        project = get_project_for_user(request.user, project_id)
        versions = project.model_versions.select_related("requested_by").order_by("-number")
        return Response(ModelVersionOutput(versions, many=True).data)


class ModelDetailApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        responses={200: ModelVersionDetailOutput, **errors(404)},
        summary="A model version with its metrics and parameters (experts, admins)",
    )
    def get(self, request: Request, version_id: int) -> Response:
        require_perm(request.user, P_REVIEW)
        return Response(ModelVersionDetailOutput(_version_for(request, version_id)).data)


class ModelPromoteApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        request=None,
        responses={200: ModelVersionOutput, **errors(404, 409)},
        summary="Promote a trained version by hand (admins)",
    )
    def post(self, request: Request, version_id: int) -> Response:
        require_perm(request.user, P_RETRAIN)
        version = _version_for(request, version_id)
        user: User = request.user  # type: ignore[assignment]
        try:
            version = model_promote(version=version, user=user)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        return Response(ModelVersionOutput(version).data)


class ProjectRollbackApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        request=None,
        responses={200: ModelVersionOutput, **errors(404, 409)},
        summary="Promote again the version promoted before the current one (admins)",
    )
    def post(self, request: Request, project_id: int) -> Response:
        require_perm(request.user, P_RETRAIN)
        project = get_project_for_user(request.user, project_id)
        user: User = request.user  # type: ignore[assignment]
        try:
            version = model_rollback(project=project, user=user)
        except ValueError as exc:
            raise Conflict(str(exc)) from None
        return Response(ModelVersionOutput(version).data)


class ProjectRetrainApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        request=None,
        responses={202: TrainingStartedOutput, **errors(404, 409)},
        summary="Start training a new version from the confirmed labels (admins)",
        description="Poll `GET /api/v1/jobs/training-<id>/`; one training per project at a time.",
    )
    def post(self, request: Request, project_id: int) -> Response:
        require_perm(request.user, P_RETRAIN)
        project = get_project_for_user(request.user, project_id)
        user: User = request.user  # type: ignore[assignment]
        try:
            version = training_request(project=project, user=user)
        except TrainingAlreadyRunning as running:
            raise Conflict(
                f"Version {running.version.number} is already training; "
                f"follow it at /api/v1/jobs/training-{running.version.pk}/."
            ) from None
        return Response(TrainingStartedOutput(version).data, status=status.HTTP_202_ACCEPTED)
