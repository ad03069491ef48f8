from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations.models.projects import Project
from annotations.models.videos import Video


def prediction_upload_to(instance: PredictionJob, filename: str) -> str:
    # The caller's file name never decides where the file lands.
    suffix = "".join(ch for ch in filename.rsplit(".", 1)[-1][:8] if ch.isalnum()).lower()
    return f"predict/{instance.project_id}/{instance.token}.{suffix or 'bin'}"


def job_input_upload_to(instance: Job, filename: str) -> str:
    suffix = "".join(ch for ch in filename.rsplit(".", 1)[-1][:8] if ch.isalnum()).lower()
    return f"job-inputs/{instance.project_id}/{timezone.now():%Y%m%d%H%M%S%f}.{suffix or 'bin'}"


class JobQuerySet(models.QuerySet["Job"]):
    def active(self) -> JobQuerySet:
        return self.filter(state__in=Job.ACTIVE_STATES)

    def of(self, kind: str, object_id: int) -> JobQuerySet:
        return self.filter(kind=kind, object_id=object_id)

    def stale(self, now: datetime | None = None) -> JobQuerySet:
        """Running jobs whose worker stopped beating: it died, or lost the database."""
        cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_SECONDS)
        return self.filter(state=Job.State.RUNNING).filter(
            models.Q(heartbeat_at__lt=cutoff) | models.Q(heartbeat_at__isnull=True)
        )

    def alive(self, now: datetime | None = None) -> JobQuerySet:
        """Running jobs whose worker still beats: a live run holds them."""
        cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALE_SECONDS)
        return self.filter(state=Job.State.RUNNING, heartbeat_at__gte=cutoff)

    def ready_to_run(self) -> JobQuerySet:
        """Queued jobs that wait for nothing: no job to follow, or that job is over."""
        return self.filter(state=Job.State.QUEUED).filter(
            models.Q(after__isnull=True) | models.Q(after__state__in=Job.FINAL_STATES)
        )


class Job(models.Model):
    """One background job of any kind: its state, progress, heartbeat and attempts.

    A job is about one object (``kind`` says which model, ``object_id`` which row),
    except a dataset import, which makes its objects. There is one job row per
    object: running it again (a retry, a reprocess) queues the same row again.

    A worker claims a job with a conditional UPDATE and beats its heartbeat while
    it runs; a running job whose heartbeat is older than JOB_STALE_SECONDS belongs
    to a worker that died, and the sweeper queues it again (or fails it, after
    JOB_MAX_ATTEMPTS), whatever the broker did with the task.
    """

    class Kind(models.TextChoices):
        INGEST = "ingest", _("Video processing")
        TRAINING = "training", _("Training")
        SUGGESTIONS = "suggestions", _("Suggestions refresh")
        PREDICT = "predict", _("Prediction")
        EXPORT = "export", _("Export")
        IMPORT = "import", _("Dataset import")

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATES = (State.QUEUED, State.RUNNING)
    FINAL_STATES = (State.DONE, State.FAILED, State.CANCELLED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    # The video, model version, suggestions' project, prediction or export it is about.
    object_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    stage = models.CharField(max_length=200, blank=True)
    progress = models.FloatField(default=0.0)
    # Why it failed or was cancelled, or what it did, in words.
    message = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    # A file the job reads (a dataset to import); deleted when the job ends.
    input_file = models.FileField(upload_to=job_input_upload_to, blank=True, max_length=500)
    # Runs started for the current request; a run lost with its worker counts too.
    attempts = models.PositiveSmallIntegerField(default=0)
    # The run that holds the job: a token per claim, and the process that made it.
    claim = models.CharField(max_length=32, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the job was last handed to the broker, to find one the broker lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # A job that waits for another to end before it can go on (a prediction for its video).
    after = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers"
    )
    # Asked for again while running: queued again once this run ends.
    again = models.BooleanField(default=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id"],
                condition=models.Q(object_id__isnull=False),
                name="one_job_per_object",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "heartbeat_at"]),
            models.Index(fields=["project", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.state})"

    @property
    def public_id(self) -> str:
        """The id the API and pages name it by: ``<kind>-<object id>``, or its own number."""
        return f"{self.kind}-{self.object_id if self.object_id is not None else self.pk}"

    @property
    def object_pk(self) -> int:
        """The id of the object the job is about (every kind but an import has one)."""
        if self.object_id is None:
            raise ValueError(f"the job {self.pk} is about no object")
        return self.object_id

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @property
    def is_final(self) -> bool:
        return self.state in self.FINAL_STATES


class PredictionJob(models.Model):
    """A request to tag a video file or URL, processed in the background.

    The file goes through the same pipeline as an import (a Video of the
    project); ``result`` holds the tags with scores and the model version. Its
    state and progress are those of its job (``Job`` of kind ``predict``).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="prediction_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A random name for the stored upload, so job ids cannot be guessed from file names.
    token = models.CharField(max_length=32, unique=True)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    source_url = models.CharField(max_length=2000, blank=True)
    upload = models.FileField(upload_to=prediction_upload_to, blank=True, max_length=500)
    upload_name = models.CharField(max_length=255, blank=True)
    keep_video = models.BooleanField(default=True)
    video = models.ForeignKey(
        Video, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether the prediction stored the video itself (so keep_video=False may delete it).
    created_video = models.BooleanField(default=False)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"prediction #{self.pk}"
