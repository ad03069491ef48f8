from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from annotations.models.projects import Project
from ml.media import MediaInfo


class VideoStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for processing")
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


def video_upload_to(instance: Video, filename: str) -> str:
    # Content-addressed so that two uploads with the same name never collide and
    # the user's file name never decides where on disk a file lands.
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"videos/{instance.project_id}/{instance.sha256[:2]}/{instance.sha256}{suffix}"


def subtitles_upload_to(instance: Video, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"subtitles/{instance.project_id}/{instance.sha256[:2]}/{instance.sha256}{suffix}"


def keyframe_upload_to(instance: Keyframe, filename: str) -> str:
    return f"keyframes/{instance.video_id}/{filename}"


# A video without suggestions: queued after every video the model has scored (the scored
# ones' gaps lie between -1 and 1).
UNCERTAINTY_UNKNOWN = 2.0
# A video whose tags are confirmed, which the queue never hands out (gold aside, which
# keeps its suggestions' place): after every video it may hand out, the unscored ones
# included. The most uncertain videos are the first to be
# labeled, so were they to keep their values, finding the first open video in the index
# would mean passing over every video confirmed so far; sharing UNCERTAINTY_UNKNOWN would
# leave them mixed, in id order, with the open videos nothing has scored yet.
UNCERTAINTY_CONFIRMED = 3.0


def queue_uncertainty(*, confirmed: bool, scored: float = UNCERTAINTY_UNKNOWN) -> float:
    """What a video stores as its uncertainty: ``scored`` (its suggestions' uncertainty)
    while its tags are not confirmed (or it is gold, handed out among the work it checks),
    UNCERTAINTY_CONFIRMED once they are. Every writer of
    confirmed labels or suggestions keeps to it (``services/learning/uncertainty``)."""
    return UNCERTAINTY_CONFIRMED if confirmed else scored


def count_per_video(rows: models.QuerySet[Any]) -> Coalesce:
    """How many of ``rows`` (already narrowed to ``video=OuterRef("pk")``) the outer video
    has, 0 for none: an integer subquery to annotate a queryset of videos with."""
    counted = rows.order_by().values("video").annotate(n=models.Count("*")).values("n")
    return Coalesce(models.Subquery(counted, output_field=models.IntegerField()), models.Value(0))


class VideoQuerySet(models.QuerySet["Video"]):
    def ready(self) -> VideoQuerySet:
        return self.filter(status=VideoStatus.READY)

    def labeled(self) -> VideoQuerySet:
        """Videos with at least one confirmed label: the training data."""
        return self.filter(self._has_confirmed_label())

    def unlabeled(self) -> VideoQuerySet:
        """Videos without a confirmed label, whatever confirmed it (import, review,
        agreement, the model): the only ones the labeling queue and bulk assignment give
        to people."""
        return self.exclude(self._has_confirmed_label())

    def _has_confirmed_label(self) -> models.Exists:
        # ConfirmedLabel lives in labels.py, which builds on this module: it is reached
        # through the relation rather than imported.
        labels = self.model._meta.get_field("confirmed_labels").related_model
        assert labels is not None and not isinstance(labels, str)
        return models.Exists(labels._default_manager.filter(video=models.OuterRef("pk")))


class Video(models.Model):
    # Every index below starts with the project, so the foreign key needs none of its own:
    # each index the table has is one more entry to write for every imported video.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="videos", db_index=False
    )
    title = models.CharField(_("title"), max_length=500)
    description = models.TextField(_("description"), blank=True)
    external_id = models.CharField(
        _("external id"), max_length=255, blank=True, help_text=_("The id in the source system.")
    )
    source_file = models.FileField(_("file"), upload_to=video_upload_to, blank=True, max_length=500)
    subtitles_file = models.FileField(upload_to=subtitles_upload_to, blank=True, max_length=500)
    source_name = models.CharField(_("original file name or URL"), max_length=2000, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    fps = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    has_video_stream = models.BooleanField(default=False)
    has_audio_stream = models.BooleanField(default=False)
    # Everything else the source knew: upload date, channel, comments, the
    # original tags as written, extra manifest columns.
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=VideoStatus.choices, default=VideoStatus.PENDING
    )
    status_error = models.TextField(
        blank=True, help_text=_("What went wrong, in words an annotator or admin can act on.")
    )
    summary = models.TextField(_("summary"), blank=True)
    # How close the model came to changing its mind about the video, stored with its
    # suggestions so that "most uncertain first" reads an index instead of every
    # video's suggestions; UNCERTAINTY_CONFIRMED once its tags are confirmed (see
    # services/learning/uncertainty).
    uncertainty = models.FloatField(default=UNCERTAINTY_UNKNOWN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VideoQuerySet.as_manager()

    class Meta:
        ordering = ["project", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "sha256"],
                condition=~models.Q(sha256=""),
                name="unique_video_file_per_project",
            ),
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~models.Q(external_id=""),
                name="unique_video_external_id_per_project",
            ),
            models.CheckConstraint(
                condition=models.Q(sha256="") | models.Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="video_sha256_is_hex",
            ),
        ]
        # Migration 0011 adds an index on the title of text-only videos (no id, no file),
        # by which an import recognises them: a hash index on PostgreSQL, which Django's
        # model indexes cannot declare for every database.
        indexes = [
            models.Index(fields=["project", "status"]),
            # The lists' order (Meta.ordering), within a project.
            models.Index(fields=["project", "created_at", "id"], name="video_list_order"),
            models.Index(
                fields=["project", "status", "uncertainty", "id"], name="video_queue_uncertainty"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_media(self) -> bool:
        return bool(self.source_file)

    MEDIA_INFO_FIELDS = (
        "size_bytes",
        "duration_seconds",
        "fps",
        "width",
        "height",
        "has_video_stream",
        "has_audio_stream",
    )

    def apply_media_info(self, info: MediaInfo) -> None:
        """Copy what probing the file found; the full probe is kept in metadata["media"]."""
        self.size_bytes = info.size_bytes
        self.duration_seconds = info.duration_seconds
        self.fps = info.fps
        self.width = info.width
        self.height = info.height
        self.has_video_stream = info.has_video
        self.has_audio_stream = info.has_audio
        self.metadata["media"] = info.as_dict()


class ProcessingStep(models.Model):
    """One step of the ingest pipeline for one video: its state, timing and error."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="steps")
    name = models.CharField(max_length=50)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    progress = models.FloatField(default=0.0)
    message = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["video", "id"]
        constraints = [
            models.UniqueConstraint(fields=["video", "name"], name="unique_step_per_video"),
        ]

    def __str__(self) -> str:
        return f"{self.video_id}:{self.name}={self.state}"


class VideoFeatures(models.Model):
    """What the media pipeline derived from a video for the model, step by step.

    ``notes`` keeps, per step, why something is missing (no audio track, image
    model not configured...), so a reader can tell "absent" from "not yet computed".
    """

    video = models.OneToOneField(Video, on_delete=models.CASCADE, related_name="features")
    text = models.JSONField(default=dict, blank=True)
    visual = models.JSONField(default=dict, blank=True)
    audio = models.JSONField(default=dict, blank=True)
    image_embedding = models.JSONField(null=True, blank=True)
    notes = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"features of {self.video_id}"


class TranscriptSegment(models.Model):
    class Source(models.TextChoices):
        ASR = "asr", _("Speech recognition")
        SIDECAR = "sidecar", _("Subtitle file")
        EMBEDDED = "embedded", _("Subtitle stream in the video")

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="transcript_segments")
    index = models.PositiveIntegerField()
    start_seconds = models.FloatField()
    end_seconds = models.FloatField()
    text = models.TextField()
    source = models.CharField(max_length=10, choices=Source.choices)
    # Which model and settings produced the text, so a transcript can be redone
    # when they change.
    producer = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["video", "index"]
        constraints = [
            models.UniqueConstraint(fields=["video", "index"], name="unique_segment_index"),
            models.CheckConstraint(
                condition=models.Q(end_seconds__gte=models.F("start_seconds")),
                name="segment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"[{self.start_seconds:.1f}-{self.end_seconds:.1f}] {self.text[:40]}"


class Keyframe(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="keyframes")
    timestamp_seconds = models.FloatField()
    shot_index = models.PositiveIntegerField(default=0)
    image = models.FileField(upload_to=keyframe_upload_to, max_length=500)

    class Meta:
        ordering = ["video", "timestamp_seconds"]
        constraints = [
            models.UniqueConstraint(
                fields=["video", "timestamp_seconds"], name="unique_keyframe_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.video_id}@{self.timestamp_seconds:.2f}s"
