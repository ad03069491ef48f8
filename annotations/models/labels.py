from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from annotations.models.projects import Project, Tag
from annotations.models.videos import Video


class Assignment(models.Model):
    """A slot of a video given to one annotator.

    Crowd workers see only the videos they hold an assignment for. A slot with a
    lease that ran out goes back to the queue.
    """

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["video", "annotator"], name="one_assignment_per_annotator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id}->{self.video_id}"


class AnnotationQuerySet(models.QuerySet["Annotation"]):
    def submitted(self) -> AnnotationQuerySet:
        return self.filter(state=Annotation.State.SUBMITTED)

    def finished(self) -> AnnotationQuerySet:
        """Submitted or skipped: the annotator is done with the video."""
        return self.filter(state__in=(Annotation.State.SUBMITTED, Annotation.State.SKIPPED))

    def in_project(self, project: Project) -> AnnotationQuerySet:
        return self.filter(video__project=project)


class Annotation(models.Model):
    """One annotator's answer for one video: a set of per-tag decisions."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        SKIPPED = "skipped", _("Skipped")

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="annotations"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    skip_reason = models.CharField(max_length=500, blank=True)
    # Raised on every save so that an edit made from a stale page is detected
    # instead of silently overwriting a newer one.
    revision = models.PositiveIntegerField(default=1)
    seconds_spent = models.FloatField(default=0.0)
    started_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # How many times it was submitted: above one, the reviewer sees it was changed
    # after it was first handed in.
    submit_count = models.PositiveSmallIntegerField(default=0)
    # Set when the video's labels are confirmed (by review or agreement) on this
    # submitted answer: from then on it is part of the record and cannot change.
    locked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["video", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["video", "annotator"], name="one_annotation_per_annotator"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.annotator_id} on {self.video_id} ({self.state})"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def resubmitted(self) -> bool:
        return self.submit_count > 1


class Decision(models.TextChoices):
    ACCEPT = "accept", _("Accepted suggestion")
    REJECT = "reject", _("Rejected suggestion")
    ADD = "add", _("Added by hand")


# The decisions that put a tag on the video: a suggestion accepted, or a tag added by hand.
POSITIVE_DECISIONS = (Decision.ACCEPT, Decision.ADD)


class TagDecisionQuerySet(models.QuerySet["TagDecision"]):
    def positive(self) -> TagDecisionQuerySet:
        return self.filter(decision__in=POSITIVE_DECISIONS)

    def submitted(self) -> TagDecisionQuerySet:
        """Decisions of submitted annotations: drafts and skips are not answers yet."""
        return self.filter(annotation__state=Annotation.State.SUBMITTED)


class TagDecision(models.Model):
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="decisions")
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    # The suggestion's score when the decision was made, for precision@k and
    # acceptance-rate monitoring of the model that made it.
    suggested_score = models.FloatField(null=True, blank=True)
    model_version = models.ForeignKey(
        "annotations.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL
    )
    decided_at = models.DateTimeField(auto_now=True)

    objects = TagDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["annotation", "tag__path"]
        constraints = [
            models.UniqueConstraint(fields=["annotation", "tag"], name="one_decision_per_tag"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.tag_id}"


class LabelSource(models.TextChoices):
    IMPORT = "import", _("Imported with the video")
    REVIEW = "review", _("Confirmed by an expert")
    AGREEMENT = "agreement", _("Agreed by the annotators")
    # Auto-confirmation: a tag the model has earned trust on; the version is recorded.
    MODEL = "model", _("Confirmed by the model")
    # A dataset's label that another project's model confirmed: no version of this
    # project vouches for it, and no person did either.
    IMPORTED_MODEL = "import_model", _("Imported; a model confirmed it elsewhere")


# The sources that are people's word on a video's tags.
HUMAN_SOURCES = (LabelSource.IMPORT, LabelSource.REVIEW, LabelSource.AGREEMENT)
# The sources that are a model's word, this project's or another's.
MODEL_SOURCES = (LabelSource.MODEL, LabelSource.IMPORTED_MODEL)


class ConfirmedLabelQuerySet(models.QuerySet["ConfirmedLabel"]):
    def human(self) -> ConfirmedLabelQuerySet:
        """Labels people confirmed (imported, reviewed or agreed), not the model."""
        return self.filter(source__in=HUMAN_SOURCES)

    def by_model(self) -> ConfirmedLabelQuerySet:
        """Labels a model confirmed: this project's (auto-confirmation) or, imported,
        another's."""
        return self.filter(source__in=MODEL_SOURCES)


class ConfirmedLabel(models.Model):
    """A tag that is known to apply to a video: what training and exports use."""

    # No index of its own: the unique constraint's index starts with the video.
    video = models.ForeignKey(
        Video, on_delete=models.CASCADE, related_name="confirmed_labels", db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="confirmed_labels")
    source = models.CharField(max_length=16, choices=LabelSource.choices)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)
    # The model version that confirmed it (source "model" only).
    model_version = models.ForeignKey(
        "annotations.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="confirmed_labels",
    )

    objects = ConfirmedLabelQuerySet.as_manager()

    class Meta:
        ordering = ["video", "tag__path"]
        constraints = [
            models.UniqueConstraint(fields=["video", "tag"], name="one_confirmed_label_per_tag"),
        ]

    def __str__(self) -> str:
        return f"{self.video_id}: {self.tag_id}"

    def added_change(self) -> LabelChange:
        """The history entry of this label's confirmation: every confirmed tag has one."""
        return LabelChange(
            video_id=self.video_id,
            tag=self.tag,
            action=LabelChange.Action.ADDED,
            source=self.source,
            changed_by=self.confirmed_by,
            model_version=self.model_version,
        )


class LabelChange(models.Model):
    """History of a video's confirmed tags: who added or removed which, and when."""

    class Action(models.TextChoices):
        ADDED = "added", _("Added")
        REMOVED = "removed", _("Removed")
        # Kept by a review: the reviewer vouches for it from now on.
        CONFIRMED = "confirmed", _("Confirmed again")

    # No index of its own: Meta.indexes has one that starts with the video.
    video = models.ForeignKey(
        Video, on_delete=models.CASCADE, related_name="label_changes", db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=10, choices=Action.choices)
    source = models.CharField(max_length=16, choices=LabelSource.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    # Why a person removed a confirmed tag (or anything else they chose to say).
    reason = models.CharField(max_length=500, blank=True)
    # The model version that confirmed the tag (source "model" only).
    model_version = models.ForeignKey(
        "annotations.ModelVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["video", "changed_at", "id"]
        indexes = [models.Index(fields=["video", "tag", "-changed_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.tag_id} on {self.video_id}"
