"""Quality control of a project: auto-confirmation by the model with audits, gold videos,
and the requests that send a video to an expert's review."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from annotations.models.learning import ModelVersion
from annotations.models.projects import Project, Tag
from annotations.models.videos import Video


class ProjectQuality(models.Model):
    """A project's settings for auto-confirmation and gold checks (defaults until saved)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="quality")
    auto_confirm = models.BooleanField(
        _("confirm tags the model has earned trust on"),
        default=False,
        help_text=_(
            "A video whose every proposed tag is trusted is confirmed by the model, with its "
            "version, and leaves the annotators' queue."
        ),
    )
    target_precision = models.FloatField(
        _("precision a tag must prove"),
        default=0.95,
        validators=[MinValueValidator(0.5), MaxValueValidator(0.999)],
        help_text=_(
            "A tag is trusted while the lower bound (at 95 in 100 confidence) of the model's "
            "precision on it, measured against people's labels, is at least this."
        ),
    )
    min_score = models.FloatField(
        _("lowest probability confirmed"),
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Only tags the model proposes with at least this probability count."),
    )
    audit_share = models.FloatField(
        _("share of auto-confirmed videos audited"),
        default=0.05,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text=_("Drawn at random and sent to an expert's review."),
    )
    gold_share = models.FloatField(
        _("share of a crowd worker's queue that is gold"),
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.5)],
    )
    gold_min_accuracy = models.FloatField(
        _("accuracy on gold below which an annotator is flagged"),
        default=0.7,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    gold_min_checks = models.PositiveSmallIntegerField(
        _("gold videos answered before a flag is raised"), default=5
    )

    def __str__(self) -> str:
        return f"quality settings of {self.project_id}"


class TagTrust(models.Model):
    """The promoted model's measured precision on one tag, and whether it may confirm the tag."""

    tag = models.OneToOneField(Tag, on_delete=models.CASCADE, related_name="trust")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tag_trust")
    # The version whose own suggestions the evidence counts: a newly promoted one starts
    # from nothing, whatever its predecessor earned.
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked = models.PositiveIntegerField(default=0)
    right = models.PositiveIntegerField(default=0)
    lower_bound = models.FloatField(default=0.0)
    trusted = models.BooleanField(default=False)
    # When ``trusted`` last changed; set and not trusted: it was, and stopped by itself.
    changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "tag__path"]

    def __str__(self) -> str:
        return f"{self.tag_id}: {self.right}/{self.checked}"


class ReviewRequest(models.Model):
    """A video sent to an expert's review, whatever its answers say."""

    class Reason(models.TextChoices):
        AUDIT = "audit", _("Audit of the model's confirmation")
        ANNOTATOR_FLAGGED = "flagged", _("Its annotator is below the gold accuracy threshold")

    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="review_requests")
    reason = models.CharField(max_length=10, choices=Reason.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["video", "reason"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_review_request_per_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reason} of {self.video_id}"


class GoldVideo(models.Model):
    """A confirmed video whose labels are the reference annotators are checked against."""

    video = models.OneToOneField(Video, on_delete=models.CASCADE, related_name="gold")
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"gold {self.video_id}"
