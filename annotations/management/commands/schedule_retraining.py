from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULE_NAME = "retrain models with enough new labels"


class Command(BaseCommand):
    help = (
        "Create or update the periodic retraining schedule (cron from RETRAIN_CRON). "
        "Safe to run again: there is only ever one such schedule."
    )

    def handle(self, *args: object, **options: Any) -> None:
        schedule, created = Schedule.objects.update_or_create(
            name=SCHEDULE_NAME,
            defaults={
                "func": "annotations.tasks.retrain_if_needed",
                "schedule_type": Schedule.CRON,
                "cron": settings.RETRAIN_CRON,
                "repeats": -1,
            },
        )
        verb = "created" if created else "updated"
        self.stdout.write(f"Retraining schedule {verb}: cron {schedule.cron!r}")
