"""Retrying and cancelling a background job from its page (admins).

The video page's processing panel and the models page show a job's state, attempts and
last sign of life, with these two buttons; the API has the same two actions.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from annotations.models import Job
from annotations.selectors import get_job_for_user
from annotations.selectors.access import require_project_perm
from annotations.selectors.jobs import CONTROL_PERMISSIONS
from annotations.services.errors import StateConflict
from annotations.services.jobs.control import job_cancel, job_retry
from annotations.services.learning.retraining import RetrainingLimited
from annotations.views.models import retraining_limited
from annotations.views.requests import AuthenticatedHttpRequest


def _page_of(job: Job) -> HttpResponse:
    """Back to where the job shows: its video, or the project's models, or the project."""
    if job.kind == Job.Kind.INGEST:
        return redirect("video_detail", video_id=job.object_id)
    if job.kind in (Job.Kind.TRAINING, Job.Kind.SUGGESTIONS):
        return redirect("model_list", project_id=job.project_id)
    return redirect("project_detail", project_id=job.project_id)


def _controlled_job(request: AuthenticatedHttpRequest, job_id: str) -> Job:
    job = get_job_for_user(request.user, job_id)
    refusal = _("Only admins can retry or cancel jobs.")
    require_project_perm(request.user, job.project, CONTROL_PERMISSIONS[job.kind], refusal)
    return job


def _job_control(
    request: AuthenticatedHttpRequest,
    job_id: str,
    control: Callable[..., object],
    done: str,
) -> HttpResponse:
    """Run ``control`` (cancel or retry) on the job and go back to its page; a state that refuses
    it is shown as a warning there. ``done`` is the message, with ``%(job)s`` for the job's id."""
    job = _controlled_job(request, job_id)
    try:
        control(job=job, user=request.user)
    except RetrainingLimited as limited:
        return retraining_limited(request, job.project, limited)
    except StateConflict as conflict:
        messages.warning(request, conflict.shown())
    else:
        messages.success(request, done % {"job": job.public_id})
    return _page_of(job)


@login_required
@require_POST
def job_cancel_view(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponse:
    return _job_control(request, job_id, job_cancel, _("The job %(job)s is cancelled."))


@login_required
@require_POST
def job_retry_view(request: AuthenticatedHttpRequest, job_id: str) -> HttpResponse:
    return _job_control(request, job_id, job_retry, _("The job %(job)s is queued again."))
