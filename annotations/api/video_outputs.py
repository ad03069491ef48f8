"""How a video is written out: in a list, once created, and in full.

Labels and suggestions come already trimmed to what the caller may see
(``shown_labels``, ``shown_suggestions`` from the selectors); metadata through
``shown_metadata`` with the caller from the context. Nothing here decides who sees what.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.models import ConfirmedLabel, Keyframe, Video
from annotations.selectors import shown_metadata

# What identifies a video: the first fields of each way it is written out.
_IDENTITY_FIELDS = ["id", "project", "external_id", "title"]


@extend_schema_field(OpenApiTypes.STR)
class LabelPathField(serializers.Field):
    """A confirmed label, written as its tag's path."""

    def to_representation(self, value: ConfirmedLabel) -> str:
        return value.tag.path


class VideoListOutput(serializers.ModelSerializer):
    confirmed_tags = serializers.ListField(
        child=LabelPathField(),
        source="shown_labels",
        read_only=True,
        help_text="The confirmed tags the caller may see: none for crowd workers.",
    )

    class Meta:
        model = Video
        fields = [*_IDENTITY_FIELDS, "status", "duration_seconds", "created_at", "confirmed_tags"]


class VideoCreatedOutput(VideoListOutput):
    warnings = serializers.SerializerMethodField()

    class Meta(VideoListOutput.Meta):
        fields = [*VideoListOutput.Meta.fields, "description", "sha256", "warnings"]

    def get_warnings(self, video: Video) -> list[str]:
        """What was kept aside, such as tags the taxonomy lacks."""
        return list(self.context["warnings"])


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


class ConfirmedLabelOutput(serializers.ModelSerializer):
    tag = serializers.CharField(source="tag.path")
    confirmed_by = serializers.CharField(source="confirmed_by.username", allow_null=True)

    class Meta:
        model = ConfirmedLabel
        fields = ["tag", "source", "confirmed_by", "confirmed_at"]


class StepOutput(serializers.Serializer):
    name = serializers.CharField()
    state = serializers.CharField()
    progress = serializers.FloatField()
    message = serializers.CharField()


class VideoDetailOutput(serializers.ModelSerializer):
    metadata = serializers.SerializerMethodField()
    transcript = serializers.SerializerMethodField()
    segments = SegmentOutput(many=True, source="transcript_segments")
    keyframes = KeyframeOutput(many=True)
    suggestions = SuggestionOutput(many=True, source="shown_suggestions")
    confirmed_labels = ConfirmedLabelOutput(many=True, source="shown_labels")
    steps = StepOutput(many=True)

    class Meta:
        model = Video
        fields = [
            *_IDENTITY_FIELDS,
            "description",
            "summary",
            "status",
            "status_error",
            "sha256",
            *Video.MEDIA_INFO_FIELDS,
            "metadata",
            "created_at",
            "transcript",
            "segments",
            "keyframes",
            "suggestions",
            "confirmed_labels",
            "steps",
        ]

    @extend_schema_field(serializers.DictField())
    def get_metadata(self, video: Video) -> dict[str, object]:
        """What the video came with; the tags it was imported with only for those who
        may see labels."""
        return shown_metadata(self.context["user"], video)

    def get_transcript(self, video: Video) -> str:
        return " ".join(segment.text for segment in video.transcript_segments.all())
