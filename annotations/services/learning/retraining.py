"""Retraining asked for by a person, from the models page or the API.

One training per project at a time (a second request is told which one runs) and at
most ``RETRAIN_REQUESTS_PER_HOUR`` started per project and hour, counted where every web
process sees the count: a new version, or a failed or cancelled training retried (see
``jobs.control.job_retry``). The nightly schedule goes straight to ``training_request``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User

from annotations.models import ModelVersion, Project
from annotations.services.learning.training import TrainingAlreadyRunning, training_request
from annotations.services.limits import Verdict, limit_release, limit_take

HOUR = 3600


class RetrainingLimited(Exception):
    """Too many trainings were started for the project lately; ``retry_after`` says when."""

    def __init__(self, project: Project, limit: int, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"Training of {project} was started {limit} times within the last hour; "
            f"try again in about {minutes} minutes."
        )


def retraining_count(*, project: Project) -> Verdict:
    """Count one training started by a person against the project's hourly limit; raises
    ``RetrainingLimited`` (counting nothing) when it is reached. Give the count back with
    ``limit_release`` if nothing was started after all."""
    limit = settings.RETRAIN_REQUESTS_PER_HOUR
    verdict = limit_take(action="retrain", caller=f"project-{project.pk}", limit=limit, period=HOUR)
    if not verdict.allowed:
        raise RetrainingLimited(project, limit, verdict.retry_after)
    return verdict


def retraining_request(*, project: Project, user: User | None) -> ModelVersion:
    """Queue a training of ``project`` unless one runs or the hourly limit is reached."""
    running = ModelVersion.objects.filter(project=project).training().first()
    if running is not None:
        # Told before counting: asking again while one trains costs nothing.
        raise TrainingAlreadyRunning(running)
    verdict = retraining_count(project=project)
    try:
        return training_request(project=project, user=user)
    except TrainingAlreadyRunning:
        limit_release(verdict)  # a request at the same moment won; this one queued nothing
        raise
