"""Annotations: an annotator's own; everyone's for experts and admins."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.api.exceptions import PreconditionRequired
from annotations.api.pagination import page_response, page_schema
from annotations.api.permissions import RoleApiView, acting_user
from annotations.api.serializers import base_revision, errors, optional_text
from annotations.models import Annotation, Decision
from annotations.roles import P_LABEL
from annotations.selectors import (
    annotations_for_user,
    get_project_for_user,
    get_video_for_user,
    own_annotation,
    video_annotations_for_user,
)
from annotations.services.labeling.annotation_save import ACTIONS, annotation_save


class DecisionOutput(serializers.Serializer):
    tag = serializers.CharField(source="tag.path")
    decision = serializers.ChoiceField(choices=Decision.choices)
    suggested_score = serializers.FloatField(allow_null=True)
    decided_at = serializers.DateTimeField()


class AnnotationOutput(serializers.ModelSerializer):
    annotator = serializers.CharField(source="annotator.username")
    decisions = DecisionOutput(many=True)
    submit_count = serializers.IntegerField(
        read_only=True,
        help_text="How many times it was submitted: above 1, it was changed and submitted "
        "again after it was first handed in.",
    )
    locked_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the video's tags were confirmed on this answer; from then on it "
        "cannot change. Null while it can.",
    )

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
            "submit_count",
            "locked_at",
            "updated_at",
            "decisions",
        ]


class VideoAnnotationsApi(RoleApiView):
    @page_schema(
        "videos_annotations_list",
        "VideoAnnotationPage",
        AnnotationOutput,
        "A video's annotations: the caller's own, or all for experts and admins",
    )
    def get(self, request: Request, video_id: int) -> Response:
        user = acting_user(request)
        video = get_video_for_user(user, video_id)
        return page_response(
            request, self, video_annotations_for_user(user, video), AnnotationOutput
        )


class MyAnnotationApi(RoleApiView):
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
        revision = base_revision(
            "The revision of your annotation this change was based on (from GET, or 0 "
            "when you have not started the video). Required: without it the answer is "
            "428, and a stale one is refused with 409."
        )
        skip_reason = optional_text(500)
        seconds_spent = serializers.FloatField(
            min_value=0, max_value=3600, required=False, default=0.0
        )

    @extend_schema(
        responses={200: AnnotationOutput, **errors(404)},
        summary="The caller's annotation of a video",
    )
    def get(self, request: Request, video_id: int) -> Response:
        user = acting_user(request, P_LABEL)
        annotation = own_annotation(user, get_video_for_user(user, video_id))
        if annotation is None:
            raise NotFound("You have not started this video yet.")
        return Response(AnnotationOutput(annotation).data)

    @extend_schema(
        request=AnnotationInput,
        responses={200: AnnotationOutput, **errors(400, 404, 409, 428)},
        summary="Set the caller's decisions on a video, and save, submit or skip",
        description=(
            "`decisions` is the whole set, as a list of `{tag, decision}`: tags not named "
            "lose their decision. `decision` is accept or reject for a suggested tag, add "
            "for any other. All or nothing: a refused submit changes nothing."
        ),
    )
    def put(self, request: Request, video_id: int) -> Response:
        user = acting_user(request, P_LABEL)
        video = get_video_for_user(user, video_id)
        given = self.AnnotationInput(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        if data["revision"] is None:
            raise PreconditionRequired(
                "Send the revision this change was based on: the annotation's `revision` "
                "from GET, or 0 if you have not started this video; the whole set of "
                "decisions replaces what is there."
            )
        decisions: dict[str, str] = {}
        for position, raw in enumerate(data["decisions"]):
            item = self.DecisionInput(data=raw)
            if not item.is_valid():
                raise serializers.ValidationError({"decisions": {str(position): item.errors}})
            decisions[item.validated_data["tag"]] = item.validated_data["decision"]
        annotation_save(
            video=video,
            annotator=user,
            decisions=decisions,
            action=data["action"],
            revision=data["revision"],
            skip_reason=data["skip_reason"],
            active_seconds=data["seconds_spent"],
        )
        return Response(AnnotationOutput(own_annotation(user, video)).data)


class ProjectAnnotationsApi(RoleApiView):
    class FilterInput(serializers.Serializer):
        annotator = serializers.CharField(max_length=150, required=False)
        state = serializers.ChoiceField(choices=Annotation.State.choices, required=False)

    @page_schema(
        "projects_annotations_list",
        "AnnotationPage",
        AnnotationOutput,
        "A project's annotations: the caller's own, or all for experts and admins",
        parameters=[
            OpenApiParameter("annotator", str, required=False, description="A user name."),
            OpenApiParameter("state", str, enum=Annotation.State.values, required=False),
        ],
    )
    def get(self, request: Request, project_id: int) -> Response:
        user = acting_user(request)
        project = get_project_for_user(user, project_id)
        given = self.FilterInput(data=request.query_params)
        given.is_valid(raise_exception=True)
        annotations = annotations_for_user(
            user,
            project,
            annotator=given.validated_data.get("annotator", ""),
            state=given.validated_data.get("state", ""),
        )
        return page_response(request, self, annotations, AnnotationOutput)
