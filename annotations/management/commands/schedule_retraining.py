from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from annotations.services.jobs.schedules import retraining_schedule_ensure


class Command(BaseCommand):
    help = (
        "Create or update the periodic retraining schedule (cron from RETRAIN_CRON). "
        "Safe to run again: there is only ever one such schedule."
    )

    def handle(self, *args: object, **options: Any) -> None:
        schedule, created = retraining_schedule_ensure()
        verb = "created" if created else "updated"
        self.stdout.write(f"Retraining schedule {verb}: cron {schedule.cron!r}")
