"""Videos: list with filters, create by upload, URL or text, read one with all it has."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.pagination import page_response, page_schema
from annotations.api.parsers import MB, LargeJSONParser, too_large
from annotations.api.permissions import RoleApiView, acting_user, acting_user_in_project
from annotations.api.serializers import errors, optional_text
from annotations.api.throttles import UploadThrottle
from annotations.api.video_outputs import VideoCreatedOutput, VideoDetailOutput, VideoListOutput
from annotations.manifest import row_from_mapping
from annotations.models import Tag, VideoStatus
from annotations.roles import P_IMPORT_VIDEOS
from annotations.selectors import (
    VideoFilters,
    get_project_for_user,
    get_video_detail_for_user,
    tags_by_path,
    video_in_full,
    videos_filtered,
    with_shown_labels,
)
from annotations.services.media.video_import import (
    media_prepare,
    video_create,
    video_import_upload,
    videos_import_rows,
)
from ml.taxonomy import normalize_path, split_tag_list

MAX_BULK_ROWS = 5000
# Room for MAX_BULK_ROWS rows of about a thousand Cyrillic characters each (title,
# description, tags, metadata), even with every letter escaped as \uXXXX (6 bytes).
MAX_BULK_BYTES = 32 * MB


class BulkJSONParser(LargeJSONParser):
    limit = MAX_BULK_BYTES
    rows = MAX_BULK_ROWS


def _bool_param(name: str, help_text: str) -> OpenApiParameter:
    return OpenApiParameter(name, bool, required=False, description=help_text)


class ProjectVideosApi(RoleApiView):
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [UploadThrottle]

    class FilterInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=VideoStatus.choices, required=False)
        tag = serializers.CharField(max_length=1000, required=False)
        confirmed = serializers.BooleanField(required=False, allow_null=True, default=None)
        has_suggestions = serializers.BooleanField(required=False, allow_null=True, default=None)
        search = serializers.CharField(max_length=200, required=False)

        def validate_tag(self, path: str) -> Tag:
            return tags_by_path(self.context["project"], [path])[path]

        def filters(self) -> VideoFilters:
            data = self.validated_data
            tag = data.get("tag")
            return VideoFilters(
                status=data.get("status", ""),
                tag_id=tag.pk if tag is not None else None,
                confirmed=data["confirmed"],
                has_suggestions=data["has_suggestions"],
                query=data.get("search", "").strip(),
            )

    class UploadInput(serializers.Serializer):
        file = serializers.FileField(help_text="The video (or audio) file.")
        title = optional_text(500)
        description = optional_text()
        tags = optional_text(help_text="Comma-separated tag paths.")

    class CreateInput(serializers.Serializer):
        url = optional_text(
            2000,
            "An http(s) URL to fetch the video from; leave out for a text-only video.",
            field=serializers.URLField,
        )
        title = optional_text(500)
        description = optional_text()
        external_id = optional_text(255)
        tags = serializers.ListField(
            child=serializers.CharField(max_length=1000), required=False, default=list
        )
        metadata = serializers.DictField(required=False, default=dict)

        def validate(self, attrs: dict[str, object]) -> dict[str, object]:
            url = str(attrs.get("url") or "")
            if url and not url.lower().startswith(("http://", "https://")):
                raise ValidationError({"url": ["Only http and https URLs can be imported."]})
            if not url and not str(attrs.get("title") or "").strip():
                raise ValidationError({"title": ["A video without a file or url needs a title."]})
            return attrs

    @page_schema(
        "projects_videos_list",
        "VideoPage",
        VideoListOutput,
        "The project's videos the caller may see, oldest first, a page at a time",
        parameters=[
            OpenApiParameter("status", str, enum=VideoStatus.values, required=False),
            OpenApiParameter(
                "tag",
                str,
                required=False,
                description="A tag path; its subtags match too. Matches the confirmed tags "
                "and every annotator's chosen tags (your own chosen tags, for crowd workers).",
            ),
            _bool_param(
                "confirmed",
                "Only videos with (true) or without (false) confirmed tags "
                "(your own chosen tags, for crowd workers).",
            ),
            _bool_param(
                "has_suggestions", "Only videos with (true) or without (false) suggestions."
            ),
            OpenApiParameter(
                "search",
                str,
                required=False,
                description="Words in the title, description or transcript, or an external id.",
            ),
        ],
        description=(
            "What a caller may see decides what every field and parameter looks at. Those "
            "who may see all annotations (experts, admins) see the confirmed tags and "
            "everyone's decisions. Crowd workers see their assigned videos with their own "
            "decisions only: `confirmed_tags` is empty, and `tag` and `confirmed` filter on "
            "their own chosen tags, so no filter reveals a label they may not see. `search` "
            "never looks at metadata. An unknown tag, status or boolean is a 400 naming "
            "the parameter."
        ),
    )
    def get(self, request: Request, project_id: int) -> Response:
        user = acting_user(request)
        project = get_project_for_user(user, project_id)
        given = self.FilterInput(data=request.query_params, context={"project": project})
        given.is_valid(raise_exception=True)
        videos = with_shown_labels(user, videos_filtered(user, project, given.filters()))
        return page_response(request, self, videos, VideoListOutput)

    @extend_schema(
        request={"multipart/form-data": UploadInput, "application/json": CreateInput},
        responses={201: VideoCreatedOutput, **errors(400, 404, 413, 429)},
        summary="Add a video: upload a file, give a URL to fetch, or text only (experts, admins)",
        description=(
            "The file is checked (a playable video or audio stream, within MAX_UPLOAD_BYTES) "
            "and then processed in the background: poll the video, or the job "
            "`ingest-<video id>`. URLs must be public http(s) addresses."
        ),
    )
    def post(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_IMPORT_VIDEOS)
        if "file" in request.FILES:
            upload = self.UploadInput(data=request.data)
            upload.is_valid(raise_exception=True)
            data = upload.validated_data
            video, warnings = video_import_upload(
                project=project,
                upload=data["file"],
                title=data["title"],
                description=data["description"],
                tag_paths=split_tag_list(data["tags"]),
                user=user,
            )
        else:
            given = self.CreateInput(data=request.data)
            given.is_valid(raise_exception=True)
            data = given.validated_data
            media = media_prepare(source=data["url"], base_dir=None) if data["url"] else None
            try:
                video, warnings = video_create(
                    project=project,
                    title=data["title"],
                    description=data["description"],
                    external_id=data["external_id"],
                    tag_paths=[normalize_path(tag) for tag in data["tags"]],
                    metadata=data["metadata"],
                    media=media,
                    user=user,
                )
            finally:
                if media is not None:
                    media.discard()
        return Response(
            VideoCreatedOutput(video_in_full(user, video), context={"warnings": warnings}).data,
            status=status.HTTP_201_CREATED,
        )


class VideoBulkApi(RoleApiView):
    throttle_classes = [UploadThrottle]
    parser_classes = [BulkJSONParser]

    class BulkInput(serializers.Serializer):
        rows = serializers.ListField(
            child=serializers.DictField(),
            min_length=1,
            max_length=MAX_BULK_ROWS,
            error_messages={
                "max_length": f"At most {MAX_BULK_ROWS:,} rows per request; send the others "
                "in another request (rows already imported are skipped).",
            },
            help_text=(
                "Manifest rows: video_id, title, description, tags (comma-separated paths), "
                "url (optional, http/https); other keys are kept as metadata."
            ),
        )

    class BulkOutput(serializers.Serializer):
        summary = serializers.CharField()
        imported = serializers.IntegerField()
        skipped = serializers.IntegerField()
        failed = serializers.IntegerField()
        rows = inline_serializer(
            "BulkRowOutcome",
            {
                "line": serializers.IntegerField(),
                "status": serializers.CharField(),
                "message": serializers.CharField(),
                "external_id": serializers.CharField(),
                "video_id": serializers.IntegerField(allow_null=True),
                "warnings": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
        )

    @extend_schema(
        request=BulkInput,
        responses={200: BulkOutput, **errors(400, 404, 413, 429)},
        summary="Import manifest rows (experts, admins); rows already there are skipped",
        description=(
            f"At most {MAX_BULK_ROWS:,} rows and {MAX_BULK_BYTES // MB} MB per request; "
            "larger batches answer 413: split them."
        ),
    )
    def post(self, request: Request, project_id: int) -> Response:
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > MAX_BULK_BYTES:
            # Said before the body is read: nothing of it is held in memory.
            raise too_large(MAX_BULK_BYTES, MAX_BULK_ROWS)
        user, project = acting_user_in_project(request, project_id, P_IMPORT_VIDEOS)
        given = self.BulkInput(data=request.data)
        given.is_valid(raise_exception=True)
        rows = []
        for line, raw in enumerate(given.validated_data["rows"], start=1):
            row = row_from_mapping(line, raw)
            if row.source and not row.source.lower().startswith(("http://", "https://")):
                # Server paths are for the command line, which runs with the server's rights.
                row.error = "only http(s) URLs can be imported through the API"
            rows.append(row)
        report = videos_import_rows(project=project, rows=rows, base_dir=None, user=user)
        counts = report.counts
        return Response(
            self.BulkOutput(
                {
                    "summary": report.summary(),
                    "imported": counts["imported"],
                    "skipped": counts["skipped"],
                    "failed": counts["failed"],
                    "rows": [vars(outcome) for outcome in report.outcomes],
                }
            ).data
        )


class VideoDetailApi(RoleApiView):
    @extend_schema(
        responses={200: VideoDetailOutput, **errors(404)},
        summary="A video with its transcript, summary, keyframes, suggestions and labels",
    )
    def get(self, request: Request, video_id: int) -> Response:
        user = acting_user(request)
        video = get_video_detail_for_user(user, video_id)
        return Response(VideoDetailOutput(video, context={"user": user}).data)
