"""The periodic schedules, created in code: each command that needs one makes sure it exists.

Created or updated by name, so running it again never makes a second one.
"""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

SWEEP_SCHEDULE = "sweep the jobs of stopped workers"
RETRAIN_SCHEDULE = "retrain models with enough new labels"
SEARCH_SCHEDULE = "write the search documents of new videos"


def _every_minute(name: str, func: str) -> Schedule:
    """A schedule running ``func`` every minute (django-q2's shortest period)."""
    schedule, _created = Schedule.objects.update_or_create(
        name=name,
        defaults={
            "func": func,
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
    return schedule


def sweeper_schedule_ensure() -> Schedule:
    """The sweeper every minute; each worker start ensures it."""
    return _every_minute(SWEEP_SCHEDULE, "annotations.tasks.sweep_jobs")


def search_documents_schedule_ensure() -> Schedule:
    """The search documents a lost task left, every minute; each worker start ensures it."""
    return _every_minute(SEARCH_SCHEDULE, "annotations.tasks.write_search_documents")


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
