"""Videos: list with filters, create by upload, URL or text, read one with all it has."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.urls import reverse
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.pagination import IdCursorPagination
from annotations.api.permissions import HasRole, require_perm
from annotations.api.serializers import cursor_page, errors
from annotations.api.throttles import UploadThrottle
from annotations.manifest import row_from_mapping
from annotations.models import ConfirmedLabel, Keyframe, Suggestion, Video, VideoStatus
from annotations.roles import P_IMPORT_VIDEOS, P_VIEW_ALL_ANNOTATIONS, P_VIEW_SUGGESTIONS
from annotations.selectors import (
    LABEL_METADATA_KEYS,
    get_project_for_user,
    get_video_for_user,
    videos_for_user,
)
from annotations.services.media.video_import import (
    media_prepare,
    video_create,
    video_import_upload,
    videos_import_rows,
)
from ml.taxonomy import PATH_SEPARATOR, normalize_path, split_tag_list

MAX_BULK_ROWS = 5000


class _HidesLabels:
    """Leaves out a video's known tags for those who may not see other people's labels
    (crowd workers), as the pages do; pass ``show_labels`` in the serializer context."""

    context: dict[str, Any]

    def to_representation(self, instance: Video) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)  # type: ignore[misc]
        if not self.context.get("show_labels", False):
            for key in ("confirmed_tags", "confirmed_labels"):
                if key in data:
                    data[key] = []
            if "metadata" in data:
                data["metadata"] = {
                    k: v for k, v in data["metadata"].items() if k not in LABEL_METADATA_KEYS
                }
        return data


class VideoListOutput(_HidesLabels, serializers.ModelSerializer):
    confirmed_tags = serializers.SerializerMethodField()

    class Meta:
        model = Video
        fields = [
            "id",
            "project",
            "external_id",
            "title",
            "status",
            "duration_seconds",
            "created_at",
            "confirmed_tags",
        ]

    def get_confirmed_tags(self, video: Video) -> list[str]:
        return sorted(label.tag.path for label in video.confirmed_labels.all())


class VideoCreatedOutput(VideoListOutput):
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta(VideoListOutput.Meta):
        fields = [*VideoListOutput.Meta.fields, "description", "sha256", "warnings"]


class SegmentOutput(serializers.Serializer):
    start = serializers.FloatField(source="start_seconds")
    end = serializers.FloatField(source="end_seconds")
    text = serializers.CharField()


class KeyframeOutput(serializers.Serializer):
    timestamp = serializers.FloatField(source="timestamp_seconds")
    shot_index = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()

    def get_image_url(self, keyframe: Keyframe) -> str:
        """The thumbnail (a page URL: it needs a browser session)."""
        return reverse("keyframe_image", args=[keyframe.video_id, keyframe.pk])


class SuggestionOutput(serializers.Serializer):
    tag = serializers.CharField(source="tag.path")
    score = serializers.FloatField()
    rank = serializers.IntegerField()
    above_threshold = serializers.BooleanField()
    model_version = serializers.IntegerField(source="model_version.number", allow_null=True)


class ConfirmedLabelOutput(serializers.Serializer):
    tag = serializers.CharField(source="tag.path")
    # DRF takes declared fields off the class, so this does not replace Field.source.
    source = serializers.CharField()  # type: ignore[assignment]
    confirmed_by = serializers.CharField(source="confirmed_by.username", allow_null=True)
    confirmed_at = serializers.DateTimeField()


class StepOutput(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    progress = serializers.FloatField()
    message = serializers.CharField()


class VideoDetailOutput(_HidesLabels, serializers.ModelSerializer):
    transcript = serializers.SerializerMethodField()
    segments = SegmentOutput(many=True, source="transcript_segments")
    keyframes = KeyframeOutput(many=True)
    suggestions = serializers.SerializerMethodField()
    confirmed_labels = ConfirmedLabelOutput(many=True)
    steps = StepOutput(many=True)

    class Meta:
        model = Video
        fields = [
            "id",
            "project",
            "external_id",
            "title",
            "description",
            "summary",
            "status",
            "status_error",
            "sha256",
            "size_bytes",
            "duration_seconds",
            "fps",
            "width",
            "height",
            "has_video_stream",
            "has_audio_stream",
            "metadata",
            "created_at",
            "transcript",
            "segments",
            "keyframes",
            "suggestions",
            "confirmed_labels",
            "steps",
        ]

    def get_transcript(self, video: Video) -> str:
        return " ".join(segment.text for segment in video.transcript_segments.all())

    @extend_schema_field(SuggestionOutput(many=True))
    def get_suggestions(self, video: Video) -> list[dict[str, object]]:
        if not self.context.get("show_suggestions"):
            return []
        return SuggestionOutput(video.suggestions.all(), many=True).data  # type: ignore[return-value]


def _bool_param(name: str, help_text: str) -> OpenApiParameter:
    return OpenApiParameter(name, bool, required=False, description=help_text)


class ProjectVideosApi(APIView):
    permission_classes = [HasRole]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [UploadThrottle]

    class FilterInput(serializers.Serializer):
        status = serializers.ChoiceField(choices=VideoStatus.choices, required=False)
        tag = serializers.CharField(max_length=1000, required=False)
        confirmed = serializers.BooleanField(required=False, allow_null=True, default=None)
        has_suggestions = serializers.BooleanField(required=False, allow_null=True, default=None)
        search = serializers.CharField(max_length=200, required=False)

    class UploadInput(serializers.Serializer):
        file = serializers.FileField(help_text="The video (or audio) file.")
        title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        description = serializers.CharField(required=False, allow_blank=True, default="")
        tags = serializers.CharField(
            required=False, allow_blank=True, default="", help_text="Comma-separated tag paths."
        )

    class CreateInput(serializers.Serializer):
        url = serializers.URLField(
            max_length=2000,
            required=False,
            allow_blank=True,
            default="",
            help_text="An http(s) URL to fetch the video from; leave out for a text-only video.",
        )
        title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        description = serializers.CharField(required=False, allow_blank=True, default="")
        external_id = serializers.CharField(
            max_length=255, required=False, allow_blank=True, default=""
        )
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

    def _filtered(self, request: Request, videos: QuerySet[Video]) -> QuerySet[Video]:
        given = self.FilterInput(data=request.query_params)
        given.is_valid(raise_exception=True)
        filters = given.validated_data
        if filters.get("status"):
            videos = videos.filter(status=filters["status"])
        if filters.get("tag"):
            path = normalize_path(filters["tag"])
            videos = videos.filter(
                Exists(
                    ConfirmedLabel.objects.filter(video=OuterRef("pk")).filter(
                        Q(tag__path=path) | Q(tag__path__startswith=path + PATH_SEPARATOR)
                    )
                )
            )
        confirmed = Exists(ConfirmedLabel.objects.filter(video=OuterRef("pk")))
        if filters["confirmed"] is not None:
            videos = videos.filter(confirmed if filters["confirmed"] else ~confirmed)
        suggested = Exists(Suggestion.objects.filter(video=OuterRef("pk")))
        if filters["has_suggestions"] is not None:
            videos = videos.filter(suggested if filters["has_suggestions"] else ~suggested)
        if filters.get("search"):
            term = filters["search"]
            videos = videos.filter(
                Q(title__icontains=term)
                | Q(description__icontains=term)
                | Q(external_id__iexact=term)
            )
        return videos

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=VideoStatus.values, required=False),
            OpenApiParameter(
                "tag", str, required=False, description="A tag path; its subtags match too."
            ),
            _bool_param("confirmed", "Only videos with (true) or without (false) confirmed tags."),
            _bool_param(
                "has_suggestions", "Only videos with (true) or without (false) suggestions."
            ),
            OpenApiParameter(
                "search", str, required=False, description="In title and description."
            ),
            OpenApiParameter("cursor", str, required=False, description="From a next link."),
            OpenApiParameter("page_size", int, required=False, description="1 to 500; 50."),
        ],
        responses={200: cursor_page("VideoPage", VideoListOutput), **errors(400, 404)},
        summary="The project's videos the caller may see, oldest first, a page at a time",
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for_user(request.user, project_id)
        videos = self._filtered(request, videos_for_user(request.user, project)).prefetch_related(
            Prefetch(
                "confirmed_labels",
                queryset=ConfirmedLabel.objects.select_related("tag").only("video_id", "tag__path"),
            )
        )
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(videos, request, view=self)
        context = {"show_labels": request.user.has_perm(P_VIEW_ALL_ANNOTATIONS)}
        return paginator.get_paginated_response(
            VideoListOutput(page, many=True, context=context).data
        )

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
        require_perm(request.user, P_IMPORT_VIDEOS)
        project = get_project_for_user(request.user, project_id)
        user: User = request.user  # type: ignore[assignment]
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
        video.warnings = warnings  # type: ignore[attr-defined]
        context = {"show_labels": request.user.has_perm(P_VIEW_ALL_ANNOTATIONS)}
        return Response(
            VideoCreatedOutput(video, context=context).data, status=status.HTTP_201_CREATED
        )


class VideoBulkApi(APIView):
    permission_classes = [HasRole]
    throttle_classes = [UploadThrottle]

    class BulkInput(serializers.Serializer):
        rows = serializers.ListField(
            child=serializers.DictField(),
            min_length=1,
            max_length=MAX_BULK_ROWS,
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
        responses={200: BulkOutput, **errors(400, 404, 429)},
        summary="Import manifest rows (experts, admins); rows already there are skipped",
    )
    def post(self, request: Request, project_id: int) -> Response:
        require_perm(request.user, P_IMPORT_VIDEOS)
        project = get_project_for_user(request.user, project_id)
        given = self.BulkInput(data=request.data)
        given.is_valid(raise_exception=True)
        rows = []
        for line, raw in enumerate(given.validated_data["rows"], start=1):
            row = row_from_mapping(line, raw)
            if row.source and not row.source.lower().startswith(("http://", "https://")):
                # Server paths are for the command line, which runs with the server's rights.
                row.error = "only http(s) URLs can be imported through the API"
            rows.append(row)
        report = videos_import_rows(
            project=project,
            rows=rows,
            base_dir=None,
            user=request.user,  # type: ignore[arg-type]
        )
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


class VideoDetailApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        responses={200: VideoDetailOutput, **errors(404)},
        summary="A video with its transcript, summary, keyframes, suggestions and labels",
    )
    def get(self, request: Request, video_id: int) -> Response:
        video = get_video_for_user(request.user, video_id)
        video = (
            Video.objects.filter(pk=video.pk)
            .prefetch_related(
                "transcript_segments",
                "keyframes",
                "steps",
                Prefetch(
                    "suggestions",
                    queryset=Suggestion.objects.select_related("tag", "model_version"),
                ),
                Prefetch(
                    "confirmed_labels",
                    queryset=ConfirmedLabel.objects.select_related("tag", "confirmed_by"),
                ),
            )
            .get()
        )
        context = {
            "show_suggestions": request.user.has_perm(P_VIEW_SUGGESTIONS),
            "show_labels": request.user.has_perm(P_VIEW_ALL_ANNOTATIONS),
        }
        return Response(VideoDetailOutput(video, context=context).data)
