"""Reviews: the videos waiting for an expert, their annotations side by side, confirming."""

from __future__ import annotations

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.pagination import IdCursorPagination
from annotations.api.permissions import HasRole, require_perm
from annotations.api.serializers import cursor_page, errors
from annotations.roles import P_REVIEW
from annotations.selectors import get_project_for_user, get_video_for_user
from annotations.selectors.review import review_sheet, videos_needing_review
from annotations.services.labeling.review import review_confirm
from ml.taxonomy import normalize_path


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

    def get_annotators(self, sheet: object) -> list[str]:
        return [column.annotation.annotator.username for column in sheet.columns]  # type: ignore[attr-defined]


class ReviewQueueApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, required=False),
            OpenApiParameter("page_size", int, required=False),
        ],
        responses={200: cursor_page("ReviewQueuePage", ReviewQueueItemOutput), **errors(400, 404)},
        summary="Videos waiting for review (experts, admins)",
    )
    def get(self, request: Request, project_id: int) -> Response:
        require_perm(request.user, P_REVIEW)
        project = get_project_for_user(request.user, project_id)
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(
            videos_needing_review(project, request.user), request, view=self
        )
        return paginator.get_paginated_response(ReviewQueueItemOutput(page, many=True).data)


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

    class ConfirmOutput(serializers.Serializer):
        tags = serializers.ListField(child=serializers.CharField())
        added = serializers.ListField(child=serializers.CharField())
        removed = serializers.ListField(child=serializers.CharField())

    @extend_schema(
        responses={200: ReviewSheetOutput, **errors(404)},
        summary="A video's submitted annotations side by side (experts, admins)",
    )
    def get(self, request: Request, video_id: int) -> Response:
        require_perm(request.user, P_REVIEW)
        video = get_video_for_user(request.user, video_id)
        return Response(ReviewSheetOutput(review_sheet(video)).data)

    @extend_schema(
        request=ConfirmInput,
        responses={200: ConfirmOutput, **errors(400, 404)},
        summary="Confirm a video's tags (experts, admins); the change is kept in its history",
    )
    def post(self, request: Request, video_id: int) -> Response:
        require_perm(request.user, P_REVIEW)
        video = get_video_for_user(request.user, video_id)
        given = self.ConfirmInput(data=request.data)
        given.is_valid(raise_exception=True)
        paths = {normalize_path(path) for path in given.validated_data["tags"]}
        tags = dict(video.project.tags.filter(path__in=paths).values_list("path", "pk"))
        unknown = sorted(paths - set(tags))
        if unknown:
            raise serializers.ValidationError(
                {"tags": [f"not tags of this project: {', '.join(unknown)}"]}
            )
        reviewer: User = request.user  # type: ignore[assignment]
        changes = review_confirm(
            video=video,
            tag_ids=tags.values(),
            reviewer=reviewer,
            reason=given.validated_data["reason"],
        )
        by_id = {pk: path for path, pk in tags.items()}
        by_id.update(
            dict(
                video.project.tags.filter(pk__in=[c.tag_id for c in changes]).values_list(
                    "pk", "path"
                )
            )
        )
        return Response(
            self.ConfirmOutput(
                {
                    "tags": sorted(video.confirmed_labels.values_list("tag__path", flat=True)),
                    "added": sorted(by_id[c.tag_id] for c in changes if c.action == "added"),
                    "removed": sorted(by_id[c.tag_id] for c in changes if c.action == "removed"),
                }
            ).data
        )
