"""The periodic schedules, created in code: each command that needs one makes sure it exists.

Created or updated by name, so running it again never makes a second one.
"""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

SWEEP_SCHEDULE = "sweep the jobs of stopped workers"
RETRAIN_SCHEDULE = "retrain models with enough new labels"


def sweeper_schedule_ensure() -> Schedule:
    """The sweeper every minute (django-q2's shortest period); each worker start ensures it."""
    schedule, _created = Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE,
        defaults={
            "func": "annotations.tasks.sweep_jobs",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return schedule


def retraining_schedule_ensure() -> tuple[Schedule, bool]:
    """The scheduled retraining, on RETRAIN_CRON; returns it and whether it was created."""
    return Schedule.objects.update_or_create(
        name=RETRAIN_SCHEDULE,
        defaults={
            "func": "annotations.tasks.retrain_if_needed",
            "schedule_type": Schedule.CRON,
            "cron": settings.RETRAIN_CRON,
            "repeats": -1,
        },
    )
