from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from annotations.models.projects import Project, Tag
from annotations.models.videos import Video


class ModelVersionQuerySet(models.QuerySet["ModelVersion"]):
    def promoted(self) -> ModelVersionQuerySet:
        return self.filter(state=ModelVersion.State.PROMOTED)

    def training(self) -> ModelVersionQuerySet:
        return self.filter(state=ModelVersion.State.TRAINING)


class ModelVersion(models.Model):
    """A trained suggestion model: its artifact, the data and parameters it came from."""

    class State(models.TextChoices):
        TRAINING = "training", _("Training")
        CANDIDATE = "candidate", _("Candidate")
        PROMOTED = "promoted", _("Promoted")
        RETIRED = "retired", _("Retired")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_versions")
    number = models.PositiveIntegerField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.TRAINING)
    artifact_path = models.CharField(max_length=1000, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    # Ids of the videos it was trained and evaluated on, so a run can be repeated.
    training_data = models.JSONField(default=dict, blank=True)
    library_versions = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True, help_text=_("Why it was or was not promoted."))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    promoted_at = models.DateTimeField(null=True, blank=True)

    objects = ModelVersionQuerySet.as_manager()

    class Meta:
        ordering = ["project", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["project", "number"], name="unique_model_number"),
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(state="promoted"),
                name="one_promoted_model_per_project",
            ),
            # Two retrain requests at once start one training: the second insert fails.
            models.UniqueConstraint(
                fields=["project"],
                condition=models.Q(state="training"),
                name="one_training_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project} v{self.number} ({self.state})"


class ModelEvent(models.Model):
    """A change of the promoted model of a project: who, when, why, and from which version.

    Replayed in order these events are the registry's history: a promotion puts a
    version on top, a rollback takes the top one off, so repeated rollbacks keep
    walking back through what was promoted before.
    """

    class Action(models.TextChoices):
        PROMOTED = "promoted", _("Promotion")
        ROLLED_BACK = "rolled_back", _("Rollback")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_events")
    action = models.CharField(max_length=12, choices=Action.choices)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="events")
    previous = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Null for the automatic gate after a training.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "at", "id"]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.action} v{self.version_id}"


# The video metadata key where imported suggestions name the model that made them: a
# version of another project, never a link to one of this project's versions.
SUGGESTIONS_MODEL_KEY = "suggestions_model"


class Suggestion(models.Model):
    """A tag the model proposes for a video, with its score.

    ``model_version`` is empty for zero-shot suggestions made before any model
    was trained.
    """

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="suggestions")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="suggestions")
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions"
    )
    score = models.FloatField()
    rank = models.PositiveSmallIntegerField()
    above_threshold = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["video", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["video", "tag"], name="one_suggestion_per_tag"),
        ]

    def __str__(self) -> str:
        return f"{self.tag_id}={self.score:.2f} for {self.video_id}"


class ExportSnapshot(models.Model):
    """An immutable export of a project's labels, downloadable again byte for byte."""

    class Format(models.TextChoices):
        JSONL = "jsonl", "JSONL"
        CSV = "csv", _("CSV (Rutube layout)")
        LABEL_STUDIO = "labelstudio", "Label Studio JSON"

    class State(models.TextChoices):
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="exports")
    format = models.CharField(max_length=20, choices=Format.choices)
    filters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.BUILDING)
    file = models.FileField(upload_to="exports/", blank=True, max_length=500)
    row_count = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-created_at"]

    def __str__(self) -> str:
        return f"{self.project} {self.format} export #{self.pk}"
