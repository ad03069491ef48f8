"""Projects and their taxonomies."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.pagination import PathOrderPagination, page_response, page_schema
from annotations.api.permissions import (
    RoleApiView,
    acting_user,
    acting_user_in_project,
    require_perm,
)
from annotations.api.serializers import ProjectOutput, TagOutput, TaxonomyTagOutput, errors
from annotations.models import LabelingMode, QueueOrder
from annotations.roles import P_MANAGE_TAXONOMY
from annotations.selectors import (
    get_project_for_user,
    labeled_video_counts,
    project_overview,
    project_tags,
    projects_for_user,
)
from annotations.services.projects import project_create, project_update
from annotations.services.taxonomy import taxonomy_import_text
from ml.taxonomy import detect_format


class ProjectFieldsInput(serializers.Serializer):
    taxonomy_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    labeling_mode = serializers.ChoiceField(choices=LabelingMode.choices, required=False)
    annotators_per_video = serializers.IntegerField(min_value=1, max_value=20, required=False)
    queue_order = serializers.ChoiceField(choices=QueueOrder.choices, required=False)
    auto_confirm_agreement = serializers.BooleanField(required=False)
    guidelines = serializers.CharField(required=False, allow_blank=True, max_length=100_000)


class ProjectListApi(RoleApiView):
    class ProjectCreateInput(ProjectFieldsInput):
        name = serializers.CharField(max_length=200)

    @page_schema(
        "projects_list",
        "ProjectPage",
        ProjectOutput,
        "The projects the caller may see, oldest first, a page at a time",
        error_codes=(),
    )
    def get(self, request: Request) -> Response:
        projects = projects_for_user(acting_user(request))
        return page_response(request, self, projects, ProjectOutput)

    @extend_schema(
        request=ProjectCreateInput,
        responses={201: ProjectOutput, **errors(400)},
        summary="Create a project (admins)",
    )
    def post(self, request: Request) -> Response:
        require_perm(acting_user(request), P_MANAGE_TAXONOMY)
        given = self.ProjectCreateInput(data=request.data)
        given.is_valid(raise_exception=True)
        project = project_create(**given.validated_data)
        return Response(ProjectOutput(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailApi(RoleApiView):
    # Written from a ProjectOverview, which reads like its project.
    class ProjectDetailOutput(ProjectOutput):
        video_counts = serializers.DictField(child=serializers.IntegerField())
        tag_count = serializers.IntegerField()
        promoted_model = serializers.IntegerField(allow_null=True)

        class Meta(ProjectOutput.Meta):
            fields = [*ProjectOutput.Meta.fields, "video_counts", "tag_count", "promoted_model"]

    class ProjectUpdateInput(ProjectFieldsInput):
        name = serializers.CharField(max_length=200, required=False)

    def _detail(self, request: Request, project_id: int) -> Response:
        user = acting_user(request)
        overview = project_overview(user, get_project_for_user(user, project_id))
        return Response(self.ProjectDetailOutput(overview).data)

    @extend_schema(
        responses={200: ProjectDetailOutput, **errors(404)},
        summary="A project with its video counts by status",
    )
    def get(self, request: Request, project_id: int) -> Response:
        return self._detail(request, project_id)

    @extend_schema(
        request=ProjectUpdateInput,
        responses={200: ProjectDetailOutput, **errors(400, 404)},
        summary="Change a project's settings (admins)",
    )
    def patch(self, request: Request, project_id: int) -> Response:
        _user, project = acting_user_in_project(request, project_id, P_MANAGE_TAXONOMY)
        given = self.ProjectUpdateInput(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        project_update(project=project, **given.validated_data)
        return self._detail(request, project_id)


class TagListApi(RoleApiView):
    class TaxonomyImportInput(serializers.Serializer):
        text = serializers.CharField(
            max_length=5_000_000,
            help_text="The taxonomy file's content: level CSV, one path per line, or JSON.",
        )
        format = serializers.ChoiceField(
            choices=["auto", "csv", "lines", "json"], default="auto", required=False
        )

    class TaxonomyImportOutput(serializers.Serializer):
        created = serializers.IntegerField()
        unchanged = serializers.IntegerField()
        hotkeys_set = serializers.IntegerField()
        tags = TagOutput(many=True)

    @page_schema(
        "projects_tags_list",
        "TagPage",
        TaxonomyTagOutput,
        "The project's taxonomy in path order, a page at a time",
        description=(
            "A parent comes before its children (`parent` names it); a page holds up to "
            "1000 tags, so a taxonomy of the usual size comes in one."
        ),
        pagination=PathOrderPagination,
    )
    def get(self, request: Request, project_id: int) -> Response:
        user = acting_user(request)
        project = get_project_for_user(user, project_id)
        return page_response(
            request,
            self,
            project_tags(project),
            TaxonomyTagOutput,
            pagination=PathOrderPagination,
            context={"labeled": labeled_video_counts(user, project)},
        )

    @extend_schema(
        request=TaxonomyImportInput,
        responses={200: TaxonomyImportOutput, **errors(400, 404)},
        summary="Add tags from a taxonomy file (admins); existing tags stay as they are",
    )
    def post(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_MANAGE_TAXONOMY)
        given = self.TaxonomyImportInput(data=request.data)
        given.is_valid(raise_exception=True)
        text, fmt = given.validated_data["text"], given.validated_data["format"]
        if fmt == "auto":
            fmt = detect_format("", text)
        result = taxonomy_import_text(project=project, text=text, fmt=fmt, by=user)
        return Response(
            self.TaxonomyImportOutput(
                {
                    "created": result.created,
                    "unchanged": result.unchanged,
                    "hotkeys_set": result.hotkeys_set,
                    "tags": project_tags(project),
                }
            ).data
        )
