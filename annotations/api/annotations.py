"""Annotations: an annotator's own; everyone's for experts and admins."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.exceptions import Conflict
from annotations.api.pagination import IdCursorPagination
from annotations.api.permissions import HasRole, require_perm
from annotations.api.serializers import cursor_page, errors
from annotations.models import Annotation, Decision, TagDecision
from annotations.roles import P_LABEL, P_VIEW_ALL_ANNOTATIONS
from annotations.selectors import get_project_for_user, get_video_for_user
from annotations.services.labeling.annotation import AnnotationConflict
from annotations.services.labeling.annotation_save import ACTIONS, annotation_save


class DecisionOutput(serializers.Serializer):
    tag = serializers.CharField(source="tag.path")
    decision = serializers.ChoiceField(choices=Decision.choices)
    suggested_score = serializers.FloatField(allow_null=True)
    decided_at = serializers.DateTimeField()


class AnnotationOutput(serializers.ModelSerializer):
    annotator = serializers.CharField(source="annotator.username")
    decisions = DecisionOutput(many=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "video",
            "annotator",
            "state",
            "revision",
            "skip_reason",
            "seconds_spent",
            "started_at",
            "submitted_at",
            "updated_at",
            "decisions",
        ]


def _with_decisions(annotations: QuerySet[Annotation]) -> QuerySet[Annotation]:
    return annotations.select_related("annotator").prefetch_related(
        Prefetch("decisions", queryset=TagDecision.objects.select_related("tag"))
    )


def _visible(request: Request, annotations: QuerySet[Annotation]) -> QuerySet[Annotation]:
    if request.user.has_perm(P_VIEW_ALL_ANNOTATIONS):
        return annotations
    return annotations.filter(annotator=request.user.pk)


class VideoAnnotationsApi(APIView):
    permission_classes = [HasRole]

    @extend_schema(
        responses={200: AnnotationOutput(many=True), **errors(404)},
        summary="A video's annotations: the caller's own, or all for experts and admins",
    )
    def get(self, request: Request, video_id: int) -> Response:
        video = get_video_for_user(request.user, video_id)
        annotations = _with_decisions(_visible(request, video.annotations.all()))
        return Response(AnnotationOutput(annotations.order_by("id"), many=True).data)


class MyAnnotationApi(APIView):
    permission_classes = [HasRole]

    class DecisionInput(serializers.Serializer):
        tag = serializers.CharField(max_length=1000, help_text="A tag path of the project.")
        decision = serializers.ChoiceField(choices=Decision.choices)

    class AnnotationInput(serializers.Serializer):
        decisions = serializers.ListField(
            child=serializers.DictField(), max_length=1000, required=False, default=list
        )
        action = serializers.ChoiceField(
            choices=ACTIONS,
            default="save",
            help_text="save keeps a draft; submit hands it in; skip gives the video back.",
        )
        revision = serializers.IntegerField(
            min_value=1,
            required=False,
            allow_null=True,
            default=None,
            help_text="The revision the change was made on; a stale one is refused with 409.",
        )
        skip_reason = serializers.CharField(
            max_length=500, required=False, allow_blank=True, default=""
        )
        seconds_spent = serializers.FloatField(
            min_value=0, max_value=3600, required=False, default=0.0
        )

    @extend_schema(
        responses={200: AnnotationOutput, **errors(404)},
        summary="The caller's annotation of a video",
    )
    def get(self, request: Request, video_id: int) -> Response:
        require_perm(request.user, P_LABEL)
        video = get_video_for_user(request.user, video_id)
        annotation = _with_decisions(video.annotations.filter(annotator=request.user.pk)).first()
        if annotation is None:
            raise NotFound("You have not started this video yet.")
        return Response(AnnotationOutput(annotation).data)

    @extend_schema(
        request=AnnotationInput,
        responses={200: AnnotationOutput, **errors(400, 404, 409)},
        summary="Set the caller's decisions on a video, and save, submit or skip",
        description=(
            "`decisions` is the whole set, as a list of `{tag, decision}`: tags not named "
            "lose their decision. `decision` is accept or reject for a suggested tag, add "
            "for any other. All or nothing: a refused submit changes nothing."
        ),
    )
    def put(self, request: Request, video_id: int) -> Response:
        require_perm(request.user, P_LABEL)
        video = get_video_for_user(request.user, video_id)
        given = self.AnnotationInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        decisions: dict[str, str] = {}
        for position, raw in enumerate(data["decisions"]):
            item = self.DecisionInput(data=raw)
            if not item.is_valid():
                raise serializers.ValidationError({"decisions": {str(position): item.errors}})
            decisions[item.validated_data["tag"]] = item.validated_data["decision"]
        user: User = request.user  # type: ignore[assignment]
        try:
            annotation = annotation_save(
                video=video,
                annotator=user,
                decisions=decisions,
                action=data["action"],
                revision=data["revision"],
                skip_reason=data["skip_reason"],
                active_seconds=data["seconds_spent"],
            )
        except AnnotationConflict as conflict:
            raise Conflict(
                f"{conflict} The current revision is {conflict.annotation.revision}."
            ) from None
        annotation = _with_decisions(Annotation.objects.filter(pk=annotation.pk)).get()
        return Response(AnnotationOutput(annotation).data)


class ProjectAnnotationsApi(APIView):
    permission_classes = [HasRole]

    class FilterInput(serializers.Serializer):
        annotator = serializers.CharField(max_length=150, required=False)
        state = serializers.ChoiceField(choices=Annotation.State.choices, required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("annotator", str, required=False, description="A user name."),
            OpenApiParameter("state", str, enum=Annotation.State.values, required=False),
            OpenApiParameter("cursor", str, required=False),
            OpenApiParameter("page_size", int, required=False),
        ],
        responses={200: cursor_page("AnnotationPage", AnnotationOutput), **errors(400, 404)},
        summary="A project's annotations: the caller's own, or all for experts and admins",
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = get_project_for_user(request.user, project_id)
        given = self.FilterInput(data=request.query_params)
        given.is_valid(raise_exception=True)
        annotations = _visible(request, Annotation.objects.filter(video__project=project))
        if given.validated_data.get("annotator"):
            annotations = annotations.filter(annotator__username=given.validated_data["annotator"])
        if given.validated_data.get("state"):
            annotations = annotations.filter(state=given.validated_data["state"])
        paginator = IdCursorPagination()
        page = paginator.paginate_queryset(_with_decisions(annotations), request, view=self)
        return paginator.get_paginated_response(AnnotationOutput(page, many=True).data)
