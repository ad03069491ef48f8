"""The processing panel of a video: progress that updates itself, and re-running steps."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from annotations.models import Job, ProcessingStep, Video, VideoFeatures, VideoStatus
from annotations.roles import P_PROCESS_VIDEOS
from annotations.selectors import get_video_for_user, job_of
from annotations.selectors.jobs import may_control_job
from annotations.services.media.ingest import STEP_NAMES, video_progress
from annotations.services.media.reprocessing import failed_steps, video_schedule
from annotations.views.display import step_label, step_message
from annotations.views.requests import (
    AuthenticatedHttpRequest,
    reload_when_finished,
    require_perm,
)

LONG_MESSAGE = 160
PREVIEW = 100

# The media features worth showing a person, with their labels; the rest feed the model.
# The keys are those ml.frames.visual_feature_keys and ml.audio.audio_feature_keys give.
_SHOWN_FEATURES = [
    ("visual", "brightness_mean", gettext_lazy("Brightness")),
    ("visual", "contrast_mean", gettext_lazy("Contrast")),
    ("visual", "edges_mean", gettext_lazy("Edge density")),
    ("visual", "motion_mean", gettext_lazy("Motion")),
    ("visual", "shot_rate", gettext_lazy("Shots per minute")),
    ("visual", "faces_mean", gettext_lazy("Faces per frame")),
    ("audio", "speech_ratio", gettext_lazy("Speech share")),
    ("audio", "loudness_mean_db", gettext_lazy("Loudness (dBFS)")),
    ("audio", "silence_ratio", gettext_lazy("Silence share")),
]


def media_feature_rows(video: Video) -> list[tuple[str, float]]:
    features = VideoFeatures.objects.filter(video=video).first()
    if features is None:
        return []
    rows = []
    for group, key, label in _SHOWN_FEATURES:
        value = getattr(features, group).get(key)
        if isinstance(value, int | float):
            rows.append((str(label), float(value)))
    return rows


def job_context(request: AuthenticatedHttpRequest, job: Job | None) -> dict[str, object]:
    """A job's line on a page: its state, attempts, last sign of life, and the admin's buttons."""
    silent = job is not None and Job.objects.filter(pk=job.pk).stale().exists()
    return {
        "job": job,
        "job_silent": silent,
        "job_max_attempts": settings.JOB_MAX_ATTEMPTS,
        "can_control_job": job is not None and may_control_job(request.user, job),
    }


@dataclass(frozen=True)
class StepRow:
    step: ProcessingStep
    label: str
    message: str

    @property
    def long(self) -> bool:
        """A message too long for the panel's column is folded behind its first words."""
        return len(self.message) > LONG_MESSAGE

    @property
    def preview(self) -> str:
        return self.message[:PREVIEW].rsplit(" ", 1)[0]


def processing_context(request: AuthenticatedHttpRequest, video: Video) -> dict[str, object]:
    steps = {step.name: step for step in video.steps.all()}
    job = job_of(Job.Kind.INGEST, video.pk)
    busy = video.status in (VideoStatus.PENDING, VideoStatus.PROCESSING) or (
        job is not None and job.is_active
    )
    rows = [
        StepRow(steps[name], step_label(name), step_message(steps[name].message))
        for name in STEP_NAMES
        if name in steps
    ]
    transcript = steps.get("transcript")
    return {
        "video": video,
        "steps": rows,
        # Failed for good: the processing is over and this step did not make it.
        "transcript_failed": (
            step_message(transcript.message)
            if transcript is not None
            and transcript.state == ProcessingStep.State.FAILED
            and not busy
            else None
        ),
        "progress_percent": round(video_progress(video) * 100),
        "busy": busy,
        "can_reprocess": request.user.has_perm(P_PROCESS_VIDEOS) and not busy,
        "has_failed_steps": any(step.state == "failed" for step in steps.values()),
        **job_context(request, job),
    }


@login_required
def video_processing(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    """The panel alone; the page polls it while the video is being processed."""
    video = get_video_for_user(request.user, video_id)
    context = processing_context(request, video)
    response = render(request, "annotations/partials/processing.html", context)
    return reload_when_finished(request, response, busy=bool(context["busy"]))


@login_required
@require_POST
def video_reprocess(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponse:
    require_perm(request, P_PROCESS_VIDEOS, _("Your role cannot re-run processing."))
    video = get_video_for_user(request.user, video_id)
    if Job.objects.of(Job.Kind.INGEST, video.pk).alive().exists():
        messages.warning(
            request,
            _(
                "This video is being processed right now. If its worker stopped, "
                "“Retry now” takes the job over."
            ),
        )
        return redirect("video_detail", video_id=video.pk)
    scope = request.POST.get("scope", "failed")
    only = failed_steps(video) if scope == "failed" else None
    video_schedule(video=video, only=only or None)
    messages.success(
        request,
        _("Processing queued again (%(steps)s).")
        % {"steps": ", ".join(step_label(name) for name in only) if only else _("all steps")},
    )
    return redirect("video_detail", video_id=video.pk)
