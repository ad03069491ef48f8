"""Reviews: the videos waiting for an expert, their annotations side by side, confirming."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.pagination import PAGE_PARAMETERS, page_response
from annotations.api.permissions import HasRole, acting_user, project_for, require_in_project
from annotations.api.serializers import cursor_page, errors
from annotations.models import Tag
from annotations.roles import P_REVIEW
from annotations.selectors import (
    get_video_for_user,
    shown_confirmed_paths,
    tag_paths,
    tags_by_path,
)
from annotations.selectors.review import ReviewSheet, review_sheet, videos_needing_review
from annotations.services.labeling.review import review_confirm


class ReviewQueueItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    title = serializers.CharField()
    submitted = serializers.IntegerField(help_text="Submitted annotations.")
    agreed = serializers.BooleanField(help_text="All annotators chose the same tags.")


class ReviewRowOutput(serializers.Serializer):
    tag = serializers.CharField(source="tag.path")
    votes = serializers.IntegerField(help_text="Annotators who chose the tag.")
    cells = serializers.ListField(
        child=serializers.CharField(), help_text="Each annotator's decision, in column order."
    )
    confirmed = serializers.BooleanField()
    proposed = serializers.BooleanField(help_text="Chosen by at least half of the annotators.")


class ReviewSheetOutput(serializers.Serializer):
    video = serializers.IntegerField(source="video.pk")
    annotators = serializers.SerializerMethodField()
    agreed = serializers.BooleanField()
    rows = ReviewRowOutput(many=True)

    def get_annotators(self, sheet: ReviewSheet) -> list[str]:
        return [column.annotation.annotator.username for column in sheet.columns]


class ReviewQueueApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        operation_id="projects_reviews_list",
        parameters=PAGE_PARAMETERS,
        responses={200: cursor_page("ReviewQueuePage", ReviewQueueItemOutput), **errors(400, 404)},
        summary="Videos waiting for review (experts, admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        user = acting_user(request, P_REVIEW)
        project = project_for(user, project_id, P_REVIEW)
        return page_response(
            request, self, videos_needing_review(project, user), ReviewQueueItemOutput
        )


class VideoReviewApi(APIView):
    permission_classes = [HasRole]

    class ConfirmInput(serializers.Serializer):
        tags = serializers.ListField(
            child=serializers.CharField(max_length=1000),
            max_length=1000,
            help_text="The video's confirmed tags from now on (tag paths).",
        )
        reason = serializers.CharField(
            max_length=500,
            required=False,
            allow_blank=True,
            default="",
            help_text="Why confirmed tags are removed; required when the new set leaves one out.",
        )

        def validate_tags(self, paths: list[str]) -> list[Tag]:
            return list(tags_by_path(self.context["video"].project, paths).values())

    class ConfirmOutput(serializers.Serializer):
        tags = serializers.ListField(child=serializers.CharField())
        added = serializers.ListField(child=serializers.CharField())
        removed = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        responses={200: ReviewSheetOutput, **errors(404)},
        summary="A video's submitted annotations side by side (experts, admins)",
    )
    def get(self, request: Request, video_id: int) -> Response:
        user = acting_user(request, P_REVIEW)
        video = get_video_for_user(user, video_id)
        require_in_project(user, video.project, P_REVIEW)
        return Response(ReviewSheetOutput(review_sheet(video)).data)

    @extend_schema(
        request=ConfirmInput,
        responses={200: ConfirmOutput, **errors(400, 404)},
        summary="Confirm a video's tags (experts, admins); the change is kept in its history",
    )
    def post(self, request: Request, video_id: int) -> Response:
        user = acting_user(request, P_REVIEW)
        video = get_video_for_user(user, video_id)
        require_in_project(user, video.project, P_REVIEW)
        given = self.ConfirmInput(data=request.data, context={"video": video})
        given.is_valid(raise_exception=True)
        tag_ids = {tag.pk for tag in given.validated_data["tags"]}
        changes = review_confirm(
            video=video, tag_ids=tag_ids, reviewer=user, reason=given.validated_data["reason"]
        )
        paths = tag_paths(video.project, [change.tag_id for change in changes])
        return Response(
            self.ConfirmOutput(
                {
                    "tags": shown_confirmed_paths(user, video),
                    "added": sorted(paths[c.tag_id] for c in changes if c.action == "added"),
                    "removed": sorted(paths[c.tag_id] for c in changes if c.action == "removed"),
                }
            ).data
        )
