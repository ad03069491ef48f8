"""Dataset exports and imports (admins): snapshots, their files, the Label Studio config."""

from __future__ import annotations

import base64

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.exceptions import Conflict
from annotations.api.pagination import page_response, page_schema
from annotations.api.permissions import RoleApiView, acting_user, acting_user_in_project
from annotations.api.serializers import ExportOutput, errors
from annotations.api.throttles import ExportThrottle, UploadThrottle
from annotations.models import ExportSnapshot
from annotations.roles import P_EXPORT
from annotations.selectors import (
    exports_for_user,
    get_export_for_user,
    tags_by_path,
)
from annotations.services.export import SCOPES, ExportFilterError, ExportFilters, export_request
from annotations.services.export.formats import FORMATS, labelstudio_config
from annotations.services.interchange import FORMATS as IMPORT_FORMATS
from annotations.services.interchange import MAX_IMPORT_BYTES, dataset_import_request
from annotations.services.stored_files import open_stored


def _snapshot_for(request: Request, snapshot_id: int) -> ExportSnapshot:
    user = acting_user(request, P_EXPORT)
    return get_export_for_user(user, snapshot_id)


class ProjectExportsApi(RoleApiView):
    throttle_classes = [ExportThrottle]

    class ExportInput(serializers.Serializer):
        format = serializers.ChoiceField(choices=list(FORMATS))
        scope = serializers.ChoiceField(
            choices=SCOPES,
            default="confirmed",
            help_text="confirmed: videos with confirmed tags; all: also videos with only "
            "submitted annotations.",
        )
        date_from = serializers.DateField(required=False, allow_null=True, default=None)
        date_to = serializers.DateField(required=False, allow_null=True, default=None)
        tags = serializers.ListField(
            child=serializers.CharField(max_length=1000),
            required=False,
            default=list,
            max_length=1000,
            help_text="Keep videos with one of these tags (or a tag under one).",
        )
        min_agreement = serializers.FloatField(
            min_value=0.0,
            max_value=1.0,
            required=False,
            allow_null=True,
            default=None,
            help_text="Keep videos whose annotators agree at least this much (0 to 1).",
        )
        include_decisions = serializers.BooleanField(
            default=False, help_text="Add each annotator's decisions (JSONL, Label Studio)."
        )
        human_only = serializers.BooleanField(
            default=False,
            help_text="Leave out the labels the model confirmed by itself (auto-confirmation) "
            "in every format, and the videos only the model confirmed.",
        )

        def validate_tags(self, paths: list[str]) -> list[str]:
            return sorted(
                {tag.path for tag in tags_by_path(self.context["project"], paths).values()}
            )

    @page_schema(
        "projects_exports_list",
        "ExportPage",
        ExportOutput,
        "A project's export snapshots, the newest first (admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_EXPORT)
        snapshots = exports_for_user(user, project)
        return page_response(request, self, snapshots, ExportOutput, newest_first=True)

    @extend_schema(
        request=ExportInput,
        responses={202: ExportOutput, **errors(400, 404, 429)},
        summary="Ask for a snapshot (admins); it is built in the background",
        description="Poll `GET /api/v1/jobs/export-<id>/`, then download the file.",
    )
    def post(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_EXPORT)
        given = self.ExportInput(data=request.data, context={"project": project})
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        fmt = data.pop("format")
        try:
            filters = ExportFilters.from_dict(data)
        except ExportFilterError as exc:
            raise serializers.ValidationError(str(exc)) from None
        snapshot = export_request(project=project, user=user, fmt=fmt, filters=filters)
        return Response(ExportOutput(snapshot).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(RoleApiView):
    @extend_schema(responses={200: ExportOutput, **errors(404)}, summary="One snapshot (admins)")
    def get(self, request: Request, export_id: int) -> Response:
        return Response(ExportOutput(_snapshot_for(request, export_id)).data)


class ExportDownloadApi(RoleApiView):
    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="The file, byte for byte as built; its SHA-256 is in the "
                "X-Checksum-SHA256 and Repr-Digest headers.",
            ),
            **errors(404, 409),
        },
        summary="Download a snapshot's file (admins)",
    )
    def get(self, request: Request, export_id: int) -> FileResponse:
        snapshot = _snapshot_for(request, export_id)
        if snapshot.state != ExportSnapshot.State.READY:
            raise Conflict(f"This export is {snapshot.state}, not ready to download.")
        try:
            # Read as it is sent, from the disk or the bucket alike.
            opened = open_stored(snapshot.file)
        except FileNotFoundError:
            raise Http404("The export's file is missing from the storage.") from None
        writer = FORMATS[snapshot.format]
        filename = f"{snapshot.project.name}-{snapshot.pk}.{writer.extension}".replace("/", "_")
        response = FileResponse(
            opened.stream, as_attachment=True, filename=filename, content_type=writer.content_type
        )
        response["Content-Length"] = str(opened.size)
        digest = base64.b64encode(bytes.fromhex(snapshot.sha256)).decode("ascii")
        response["X-Checksum-SHA256"] = snapshot.sha256
        response["Repr-Digest"] = f"sha-256=:{digest}:"
        response["ETag"] = f'"{snapshot.sha256}"'
        response["Cache-Control"] = "private, max-age=31536000, immutable"
        return response


class LabelStudioConfigApi(RoleApiView):
    class ConfigOutput(serializers.Serializer):
        config = serializers.CharField(help_text="Paste into the Label Studio project settings.")

    @extend_schema(
        responses={200: ConfigOutput, **errors(404)},
        summary="The Label Studio labeling config matching this project's exports (admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        _user, project = acting_user_in_project(request, project_id, P_EXPORT)
        return Response(self.ConfigOutput({"config": labelstudio_config(project)}).data)


class DatasetImportApi(RoleApiView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [UploadThrottle]

    class ImportInput(serializers.Serializer):
        file = serializers.FileField(help_text="A Label Studio JSON export, or a JSONL export.")
        format = serializers.ChoiceField(choices=IMPORT_FORMATS)
        create_missing_tags = serializers.BooleanField(
            default=False, help_text="Add tags the file names that the taxonomy lacks."
        )

    class ImportStartedOutput(serializers.Serializer):
        job = serializers.CharField(
            help_text="Poll GET /api/v1/jobs/{job}/; its result holds the report: "
            "created, skipped, failed, tags_created, messages."
        )
        status_url = serializers.CharField()

    @extend_schema(
        request={"multipart/form-data": ImportInput},
        responses={202: ImportStartedOutput, **errors(400, 404, 413, 429)},
        summary="Import a dataset: Label Studio tasks or this app's JSONL export (admins)",
        description="The file is stored and imported in the background, item by item; a "
        "worker that stops half way is taken up after the last item stored. The job's "
        "result holds the report.",
    )
    def post(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_EXPORT)
        given = self.ImportInput(data=request.data)
        given.is_valid(raise_exception=True)
        upload = given.validated_data["file"]
        if upload.size and upload.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError(
                {"file": [f"The file is larger than {MAX_IMPORT_BYTES // 1024**2} MB."]}
            )
        job = dataset_import_request(
            project=project,
            upload=upload,
            fmt=given.validated_data["format"],
            user=user,
            create_missing_tags=given.validated_data["create_missing_tags"],
        )
        return Response(
            self.ImportStartedOutput(
                {"job": job.public_id, "status_url": f"/api/v1/jobs/{job.public_id}/"}
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )
