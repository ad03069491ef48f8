"""Output serializers shared by several endpoints; inputs live with their views."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from annotations.models import ExportSnapshot, Job, ModelVersion, Project, Tag
from annotations.services.projects import EDITABLE_FIELDS

# A view method that a schema decorator returns as it was given.
Decorated = TypeVar("Decorated", bound=Callable[..., Any])


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="What went wrong, in one sentence.")
    code = serializers.CharField(help_text="A stable, machine-readable error code.")

    def get_fields(self) -> dict[str, serializers.Field]:
        # Added here rather than declared: a declared "errors" would hide Serializer.errors.
        fields = super().get_fields()
        fields["errors"] = serializers.DictField(
            child=serializers.JSONField(),
            required=False,
            help_text="For invalid input: the messages of each field.",
        )
        return fields


_ERROR_TEXTS = {
    400: "Invalid input; `errors` says which field and why.",
    401: "Not authenticated: send `Authorization: Token <key>` or log in.",
    403: "Your role does not allow this.",
    404: "No such object, or not one you may see.",
    409: "Conflicts with the current state (a newer revision, a job already running...).",
    413: "The request body is too large.",
    428: "Say which revision the change was based on (the `revision` field).",
    429: "Too many requests; retry after the number of seconds in `Retry-After`.",
    503: "A model this needs is not available on the server.",
}


def base_revision(help_text: str) -> serializers.IntegerField:
    """The revision a change that replaces a whole set was based on.

    Optional in the schema so that a request without it reaches the view, which answers
    428 (``PreconditionRequired``) rather than a 400 about a missing field.
    """
    return serializers.IntegerField(
        min_value=0, required=False, allow_null=True, default=None, help_text=help_text
    )


def optional_text(
    max_length: int | None = None,
    help_text: str | None = None,
    *,
    field: type[serializers.CharField] = serializers.CharField,
) -> serializers.CharField:
    """A text input that may be left out or blank, and is then empty."""
    return field(
        max_length=max_length,
        required=False,
        allow_blank=True,
        default="",
        help_text=help_text,
    )


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The error responses of an operation, for the schema: 401 and 403 always apply."""
    return {
        code: OpenApiResponse(ErrorOutput, description=_ERROR_TEXTS[code])
        for code in sorted({401, 403, *codes})
    }


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", *EDITABLE_FIELDS, "created_at"]


class TagOutput(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "path", "name", "depth", "parent", "active", "hotkey"]


class TaxonomyTagOutput(TagOutput):
    """A tag of the taxonomy with its count; ``context["labeled"]`` holds the counts by tag
    id (``selectors.labeled_video_counts``)."""

    labeled_videos = serializers.SerializerMethodField(
        help_text="Videos with this tag confirmed (for those who may not see labels: "
        "videos they chose it on themselves)."
    )

    class Meta(TagOutput.Meta):
        fields = [*TagOutput.Meta.fields, "labeled_videos"]

    def get_labeled_videos(self, tag: Tag) -> int:
        labeled: dict[int, int] = self.context["labeled"]
        return labeled.get(tag.pk, 0)


class ModelVersionOutput(serializers.ModelSerializer):
    requested_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    stage = serializers.SerializerMethodField(
        help_text="What its training job does now (or did last); follow training-<id>."
    )
    progress = serializers.SerializerMethodField(help_text="Of its training job, 0 to 1.")

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "project",
            "number",
            "state",
            "stage",
            "progress",
            "note",
            "requested_by",
            "created_at",
            "promoted_at",
            "finished_at",
        ]

    def _job(self, version: ModelVersion) -> tuple[str, float]:
        # Lists annotate them (versions_for_user); a single version reads its job.
        if hasattr(version, "job_stage"):
            return getattr(version, "job_stage", "") or "", getattr(
                version, "job_progress", 0.0
            ) or 0.0
        found = Job.objects.of(Job.Kind.TRAINING, version.pk).values_list("stage", "progress")
        return found.first() or ("", 0.0)

    def get_stage(self, version: ModelVersion) -> str:
        return self._job(version)[0]

    def get_progress(self, version: ModelVersion) -> float:
        return self._job(version)[1]


class ModelVersionDetailOutput(ModelVersionOutput):
    class Meta(ModelVersionOutput.Meta):
        fields = [
            *ModelVersionOutput.Meta.fields,
            "metrics",
            "parameters",
            "library_versions",
            "training_data_size",
        ]

    training_data_size = serializers.SerializerMethodField()

    def get_training_data_size(self, version: ModelVersion) -> dict[str, int]:
        data = version.training_data or {}
        return {key: len(value) for key, value in data.items() if isinstance(value, list | tuple)}


class ExportOutput(serializers.ModelSerializer):
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    model_version = serializers.SerializerMethodField()
    job = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportSnapshot
        fields = [
            "id",
            "project",
            "format",
            "filters",
            "state",
            "row_count",
            "sha256",
            "error",
            "model_version",
            "created_by",
            "created_at",
            "job",
            "download_url",
        ]

    def get_model_version(self, snapshot: ExportSnapshot) -> int | None:
        """The number of the model version promoted when the snapshot was asked for."""
        version = snapshot.model_version
        return version.number if version is not None else None

    def get_job(self, snapshot: ExportSnapshot) -> str:
        return f"export-{snapshot.pk}"

    def get_download_url(self, snapshot: ExportSnapshot) -> str | None:
        if snapshot.state != ExportSnapshot.State.READY:
            return None
        return f"/api/v1/exports/{snapshot.pk}/download/"


class JobOutput(serializers.Serializer):
    id = serializers.CharField(
        help_text="<kind>-<id of its object> (import-<n> for an import); pass it to "
        "GET /api/v1/jobs/{id}/."
    )
    kind = serializers.ChoiceField(
        choices=["ingest", "training", "suggestions", "predict", "export", "import", "task"]
    )
    state = serializers.ChoiceField(
        choices=["queued", "running", "done", "failed", "cancelled"],
        help_text="done, failed and cancelled are final; a failed or cancelled job can be "
        "retried (POST .../retry/).",
    )
    progress = serializers.FloatField(allow_null=True, help_text="From 0 to 1, when known.")
    stage = serializers.CharField(help_text="What the job is doing now, in words.")
    error = serializers.CharField(help_text="Why it failed or was cancelled, empty otherwise.")
    message = serializers.CharField(
        help_text="The last word about it: why it failed, why it was queued again, or what it did."
    )
    result = serializers.JSONField(help_text="What the job produced, once done.")
    attempts = serializers.IntegerField(
        help_text="Runs started for the current request (a run lost with its worker counts)."
    )
    project = serializers.IntegerField(allow_null=True)
    waits_for = serializers.CharField(
        allow_null=True, help_text="The job this one waits for (a prediction, its video's)."
    )
    heartbeat_at = serializers.DateTimeField(
        allow_null=True, help_text="The running job's last sign of life."
    )
    created_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def cursor_page(name: str, item: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of one page of a cursor-paginated list of ``item``."""
    return inline_serializer(
        name,
        {
            "next": serializers.URLField(allow_null=True, help_text="The next page, if any."),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )
