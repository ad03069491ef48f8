"""Model versions: list and metrics (experts, admins); retrain, promote, roll back (admins)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.pagination import PAGE_PARAMETERS, page_response
from annotations.api.permissions import HasRole, acting_user, project_for
from annotations.api.serializers import (
    ModelVersionDetailOutput,
    ModelVersionOutput,
    cursor_page,
    errors,
)
from annotations.models import ModelVersion
from annotations.roles import P_RETRAIN, P_REVIEW
from annotations.selectors import get_version_for_user, versions_for_user
from annotations.services.learning.registry import model_promote, model_rollback
from annotations.services.learning.retraining import retraining_request


class TrainingStartedOutput(ModelVersionOutput):
    job = serializers.SerializerMethodField()

    class Meta(ModelVersionOutput.Meta):
        fields = [*ModelVersionOutput.Meta.fields, "job"]

    def get_job(self, version: ModelVersion) -> str:
        return f"training-{version.pk}"


class ProjectModelsApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        operation_id="projects_models_list",
        parameters=PAGE_PARAMETERS,
        responses={200: cursor_page("ModelVersionPage", ModelVersionOutput), **errors(400, 404)},
        summary="A project's model versions, the newest first (experts, admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        user = acting_user(request, P_REVIEW)
        project = project_for(user, project_id, P_REVIEW)
        versions = versions_for_user(user, project)
        return page_response(request, self, versions, ModelVersionOutput, newest_first=True)


class ModelDetailApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        responses={200: ModelVersionDetailOutput, **errors(404)},
        summary="A model version with its metrics and parameters (experts, admins)",
    )
    def get(self, request: Request, version_id: int) -> Response:
        user = acting_user(request, P_REVIEW)
        return Response(ModelVersionDetailOutput(get_version_for_user(user, version_id)).data)


class RegistryChangeInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why; kept with the change in the model's history.",
    )


def _reason(request: Request) -> str:
    given = RegistryChangeInput(data=request.data)
    given.is_valid(raise_exception=True)
    return str(given.validated_data["reason"]).strip()


class ModelPromoteApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        request=RegistryChangeInput,
        responses={200: ModelVersionOutput, **errors(400, 404, 409)},
        summary="Promote a trained version by hand (admins); recorded with who and why",
    )
    def post(self, request: Request, version_id: int) -> Response:
        user = acting_user(request, P_RETRAIN)
        version = get_version_for_user(user, version_id)
        return Response(
            ModelVersionOutput(
                model_promote(version=version, user=user, reason=_reason(request))
            ).data
        )


class ProjectRollbackApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        request=RegistryChangeInput,
        responses={200: ModelVersionOutput, **errors(400, 404, 409)},
        summary="Promote again the version promoted before the current one (admins)",
        description="Each rollback walks one step back through the promotion history.",
    )
    def post(self, request: Request, project_id: int) -> Response:
        user = acting_user(request, P_RETRAIN)
        project = project_for(user, project_id, P_RETRAIN)
        version = model_rollback(project=project, user=user, reason=_reason(request))
        return Response(ModelVersionOutput(version).data)


class ProjectRetrainApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        request=None,
        responses={202: TrainingStartedOutput, **errors(404, 409, 429)},
        summary="Start training a new version from the confirmed labels (admins)",
        description=(
            "Poll `GET /api/v1/jobs/training-<id>/`; one training per project at a time (409 "
            "while one runs), and at most `RETRAIN_REQUESTS_PER_HOUR` started per project and "
            "hour (429 with `Retry-After`)."
        ),
    )
    def post(self, request: Request, project_id: int) -> Response:
        user = acting_user(request, P_RETRAIN)
        version = retraining_request(project=project_for(user, project_id, P_RETRAIN), user=user)
        return Response(TrainingStartedOutput(version).data, status=status.HTTP_202_ACCEPTED)
