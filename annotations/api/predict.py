"""The prediction service: tags for a new video's text now, or for its file in the background."""

from __future__ import annotations

import logging

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.exceptions import ServiceUnavailable
from annotations.api.permissions import RoleApiView, acting_user, require_in_project
from annotations.api.serializers import errors, optional_text
from annotations.api.throttles import PredictThrottle
from annotations.roles import P_IMPORT_VIDEOS, P_VIEW_SUGGESTIONS
from annotations.selectors import get_project_for_user
from annotations.services.learning.prediction import predict_for_text
from annotations.services.learning.prediction_jobs import (
    PredictionRequestError,
    prediction_job_create,
)
from ml.errors import ModelUnavailable

logger = logging.getLogger(__name__)


class ScoredTagOutput(serializers.Serializer):
    tag = serializers.CharField()
    score = serializers.FloatField()


class PredictionOutput(serializers.Serializer):
    tags = ScoredTagOutput(
        many=True,
        help_text="The tags the model chooses, best first, with calibrated probabilities "
        "(zero-shot: similarities, at least the best tag).",
    )
    model_version = serializers.IntegerField(
        allow_null=True, help_text="The promoted version's number; null for zero-shot."
    )
    zero_shot = serializers.BooleanField(
        help_text="True before any model is trained: tags ranked by similarity to their names."
    )


class PredictionJobOutput(serializers.Serializer):
    job = serializers.CharField(
        help_text="Poll GET /api/v1/jobs/{job}/; its result holds the tags."
    )
    status_url = serializers.CharField()


class PredictApi(RoleApiView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [PredictThrottle]

    class TextInput(serializers.Serializer):
        project = serializers.IntegerField(min_value=1, max_value=2**53)
        title = optional_text(500)
        description = optional_text(100_000)
        transcript = optional_text(1_000_000)
        url = optional_text(
            2000,
            "A video to fetch and process instead of the text (answered with a job).",
            field=serializers.URLField,
        )
        keep_video = serializers.BooleanField(
            default=True, help_text="Keep a video sent for prediction as a video of the project."
        )

        def validate(self, attrs: dict[str, object]) -> dict[str, object]:
            if not attrs.get("url") and not any(
                str(attrs.get(name) or "").strip()
                for name in ("title", "description", "transcript")
            ):
                raise serializers.ValidationError(
                    "Send a title, a description or a transcript (or a video url or file)."
                )
            return attrs

    class FileInput(serializers.Serializer):
        project = serializers.IntegerField(min_value=1, max_value=2**53)
        file = serializers.FileField()
        title = optional_text(500)
        description = optional_text()
        keep_video = serializers.BooleanField(default=True)

    @extend_schema(
        request={"application/json": TextInput, "multipart/form-data": FileInput},
        responses={
            200: PredictionOutput,
            202: PredictionJobOutput,
            **errors(400, 404, 413, 429, 503),
        },
        summary="Tags for a new video: from its text (200), or its file or URL (202, a job)",
        description=(
            "Text is answered at once by the promoted model (zero-shot before there is one). "
            "A file or URL is processed like an import, in the background: the answer names "
            "a job whose result holds the tags. Text needs any role; a file or URL stores a "
            "video, so it needs an expert or admin."
        ),
    )
    def post(self, request: Request) -> Response:
        user = acting_user(request, P_VIEW_SUGGESTIONS)
        if "file" in request.FILES:
            given: serializers.Serializer = self.FileInput(data=request.data)
        else:
            given = self.TextInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        project = get_project_for_user(user, data["project"])
        if data.get("file") or data.get("url"):
            require_in_project(user, project, P_IMPORT_VIDEOS)
            try:
                job = prediction_job_create(
                    project=project,
                    user=user,
                    upload=data.get("file"),
                    url=data.get("url", ""),
                    title=data["title"],
                    description=data["description"],
                    keep_video=data["keep_video"],
                )
            except PredictionRequestError as exc:
                raise serializers.ValidationError(str(exc)) from None
            job_id = f"predict-{job.pk}"
            return Response(
                PredictionJobOutput({"job": job_id, "status_url": f"/api/v1/jobs/{job_id}/"}).data,
                status=status.HTTP_202_ACCEPTED,
            )
        try:
            prediction = predict_for_text(
                project=project,
                title=data["title"],
                description=data["description"],
                transcript=data["transcript"],
            )
        except (ModelUnavailable, FileNotFoundError) as exc:
            logger.warning("prediction for project %s failed: %s", project.pk, exc)
            raise ServiceUnavailable(f"The model cannot be used right now: {exc}") from None
        return Response(
            PredictionOutput(
                {
                    "tags": [{"tag": tag, "score": score} for tag, score in prediction.tags],
                    "model_version": (
                        prediction.model_version.number if prediction.model_version else None
                    ),
                    "zero_shot": prediction.zero_shot,
                }
            ).data
        )


class PredictNoSlashApi(PredictApi):
    """``POST /api/v1/predict`` as other services call it; the schema lists the slash form."""

    schema = None
