"""Reviews: the videos waiting for an expert, their annotations side by side, confirming."""

from __future__ import annotations

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.exceptions import PreconditionRequired
from annotations.api.pagination import page_response, page_schema
from annotations.api.permissions import (
    RoleApiView,
    acting_user,
    acting_user_in_project,
    require_in_project,
)
from annotations.api.serializers import base_revision, errors, optional_text
from annotations.models import Tag, Video
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
    proposed = serializers.BooleanField(
        help_text="Starts checked: confirmed, or chosen by the project's share of the annotators."
    )
    deprecated = serializers.BooleanField(
        help_text="The tag is deprecated: it stays where it is confirmed but cannot be added."
    )


class ReviewSheetOutput(serializers.Serializer):
    video = serializers.IntegerField(source="video.pk")
    annotators = serializers.SerializerMethodField()
    agreed = serializers.BooleanField()
    revision = serializers.IntegerField(
        help_text="The revision of the video's confirmed tags this sheet shows; send it back "
        "with the confirmation."
    )
    rows = ReviewRowOutput(many=True)

    def get_annotators(self, sheet: ReviewSheet) -> list[str]:
        return [column.annotation.annotator.username for column in sheet.columns]


class ReviewQueueApi(RoleApiView):
    @page_schema(
        "projects_reviews_list",
        "ReviewQueuePage",
        ReviewQueueItemOutput,
        "Videos waiting for review (experts, admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        user, project = acting_user_in_project(request, project_id, P_REVIEW)
        return page_response(
            request, self, videos_needing_review(project, user), ReviewQueueItemOutput
        )


def _video_to_review(request: Request, video_id: int) -> tuple[User, Video]:
    """The acting user and the video, 404 unless they may see it, 403 unless their role
    in its project allows reviewing."""
    user = acting_user(request, P_REVIEW)
    video = get_video_for_user(user, video_id)
    require_in_project(user, video.project, P_REVIEW)
    return user, video


class VideoReviewApi(RoleApiView):
    class ConfirmInput(serializers.Serializer):
        tags = serializers.ListField(
            child=serializers.CharField(max_length=1000),
            max_length=1000,
            help_text="The video's confirmed tags from now on (tag paths).",
        )
        reason = optional_text(
            500, "Why confirmed tags are removed; required when the new set leaves one out."
        )
        revision = base_revision(
            "The revision of the confirmed tags this set was decided on (the sheet's "
            "`revision` from GET). Required: without it the answer is 428, and when the "
            "tags changed since, 409 and nothing changes."
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
        _user, video = _video_to_review(request, video_id)
        return Response(ReviewSheetOutput(review_sheet(video)).data)

    @extend_schema(
        request=ConfirmInput,
        responses={200: ConfirmOutput, **errors(400, 404, 409, 428)},
        summary="Confirm a video's tags (experts, admins); the change is kept in its history",
        description=(
            "`tags` is the whole set: confirmed tags not named are removed. All or nothing: "
            "a refused confirmation changes nothing."
        ),
    )
    def post(self, request: Request, video_id: int) -> Response:
        user, video = _video_to_review(request, video_id)
        given = self.ConfirmInput(data=request.data, context={"video": video})
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if data["revision"] is None:
            raise PreconditionRequired(
                "Send the revision this set was decided on: the review sheet's `revision` "
                "from GET; the set replaces the video's confirmed tags."
            )
        changes = review_confirm(
            video=video,
            tag_ids={tag.pk for tag in data["tags"]},
            reviewer=user,
            revision=data["revision"],
            reason=data["reason"],
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
