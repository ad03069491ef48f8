from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from annotations.models.projects import Project
from annotations.models.videos import Video


def prediction_upload_to(instance: PredictionJob, filename: str) -> str:
    # The caller's file name never decides where the file lands.
    suffix = "".join(ch for ch in filename.rsplit(".", 1)[-1][:8] if ch.isalnum()).lower()
    return f"predict/{instance.project_id}/{instance.token}.{suffix or 'bin'}"


class PredictionJob(models.Model):
    """A request to tag a video file or URL, processed in the background.

    The file goes through the same pipeline as an import (a Video of the
    project); ``result`` holds the tags with scores and the model version.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prediction_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A random name for the stored upload, so job ids cannot be guessed from file names.
    token = models.CharField(max_length=32, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=200, blank=True)
    progress = models.FloatField(default=0.0)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    source_url = models.CharField(max_length=2000, blank=True)
    upload = models.FileField(upload_to=prediction_upload_to, blank=True, max_length=500)
    upload_name = models.CharField(max_length=255, blank=True)
    keep_video = models.BooleanField(default=True)
    video = models.ForeignKey(
        Video, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"prediction job #{self.pk} ({self.state})"
