"""Model versions: list and metrics (experts, admins); retrain, promote, roll back (admins)."""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.pagination import page_response, page_schema
from annotations.api.permissions import (
    RoleApiView,
    acting_user,
    acting_user_in_project,
    require_in_project,
)
from annotations.api.serializers import (
    Decorated,
    ModelVersionDetailOutput,
    ModelVersionOutput,
    errors,
    optional_text,
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


class ProjectModelsApi(RoleApiView):
    @page_schema(
        "projects_models_list",
        "ModelVersionPage",
        ModelVersionOutput,
        "A project's model versions, the newest first (experts, admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_REVIEW)
        versions = versions_for_user(user, project)
        return page_response(request, self, versions, ModelVersionOutput, newest_first=True)


class ModelDetailApi(RoleApiView):
    @extend_schema(
        responses={200: ModelVersionDetailOutput, **errors(404)},
        summary="A model version with its metrics and parameters (experts, admins)",
    )
    def get(self, request: Request, version_id: int) -> Response:
        user = acting_user(request, P_REVIEW)
        return Response(ModelVersionDetailOutput(get_version_for_user(user, version_id)).data)


class RegistryChangeInput(serializers.Serializer):
    reason = optional_text(500, "Why; kept with the change in the model's history.")


def _reason(request: Request) -> str:
    given = RegistryChangeInput(data=request.data)
    given.is_valid(raise_exception=True)
    return str(given.validated_data["reason"]).strip()


def _registry_change_schema(
    summary: str, description: str | None = None
) -> Callable[[Decorated], Decorated]:
    """A change to which version is promoted: its reason in, the promoted version out."""
    return extend_schema(
        request=RegistryChangeInput,
        responses={200: ModelVersionOutput, **errors(400, 404, 409)},
        summary=summary,
        description=description,
    )


class ModelPromoteApi(RoleApiView):
    @_registry_change_schema(
        "Promote a trained version by hand (admins); recorded with who and why"
    )
    def post(self, request: Request, version_id: int) -> Response:
        user = acting_user(request, P_RETRAIN)
        version = get_version_for_user(user, version_id)
        require_in_project(user, version.project, P_RETRAIN)
        return Response(
            ModelVersionOutput(
                model_promote(version=version, user=user, reason=_reason(request))
            ).data
        )


class ProjectRollbackApi(RoleApiView):
    @_registry_change_schema(
        "Promote again the version promoted before the current one (admins)",
        "Each rollback walks one step back through the promotion history.",
    )
    def post(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_RETRAIN)
        version = model_rollback(project=project, user=user, reason=_reason(request))
        return Response(ModelVersionOutput(version).data)


class ProjectRetrainApi(RoleApiView):
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
        user, project = acting_user_in_project(request, project_id, P_RETRAIN)
        version = retraining_request(project=project, user=user)
        return Response(TrainingStartedOutput(version).data, status=status.HTTP_202_ACCEPTED)
