"""REST endpoints: thin views with nested input/output serializers, calling services."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.permissions import HasRole
from annotations.models import Project, Video
from annotations.roles import P_IMPORT_VIDEOS
from annotations.selectors import (
    get_project_for_user,
    get_video_for_user,
    projects_for_user,
    videos_for_user,
)
from annotations.services.video_import import VideoImportError, video_import_upload
from ml.taxonomy import split_tag_list


class ProjectOutput(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "taxonomy_name",
            "labeling_mode",
            "annotators_per_video",
            "created_at",
        ]


class VideoOutput(serializers.ModelSerializer):
    class Meta:
        model = Video
        fields = [
            "id",
            "project",
            "title",
            "description",
            "external_id",
            "sha256",
            "size_bytes",
            "duration_seconds",
            "fps",
            "width",
            "height",
            "status",
            "status_error",
            "metadata",
            "created_at",
        ]


class ProjectListApi(APIView):
    permission_classes = [HasRole]

    def get(self, request: Request) -> Response:
        projects = projects_for_user(request.user)
        return Response(ProjectOutput(projects, many=True).data)


class ProjectVideosApi(APIView):
    permission_classes = [HasRole]
    parser_classes = [MultiPartParser, FormParser]

    class UploadInput(serializers.Serializer):
        file = serializers.FileField()
        title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        description = serializers.CharField(required=False, allow_blank=True, default="")
        tags = serializers.CharField(required=False, allow_blank=True, default="")

    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for_user(request.user, project_id)
        videos = videos_for_user(request.user, project).order_by("id")
        return Response(VideoOutput(videos[:500], many=True).data)

    def post(self, request: Request, project_id: int) -> Response:
        if not request.user.has_perm(P_IMPORT_VIDEOS):
            raise PermissionDenied("Your role cannot import videos.")
        project = get_project_for_user(request.user, project_id)
        given = self.UploadInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            video, warnings = video_import_upload(
                project=project,
                upload=data["file"],
                title=data["title"],
                description=data["description"],
                tag_paths=split_tag_list(data["tags"]),
                user=request.user,  # type: ignore[arg-type]
            )
        except VideoImportError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {**VideoOutput(video).data, "warnings": warnings}, status=status.HTTP_201_CREATED
        )


class VideoDetailApi(APIView):
    permission_classes = [HasRole]

    def get(self, request: Request, video_id: int) -> Response:
        return Response(VideoOutput(get_video_for_user(request.user, video_id)).data)
