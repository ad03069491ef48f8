from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from annotations.roles import roles_bootstrap


class Command(BaseCommand):
    help = (
        "Create or repair the admin, expert and crowd groups and their permissions. "
        "Safe to run again."
    )

    def handle(self, *args: object, **options: Any) -> None:
        for role, count in roles_bootstrap().items():
            self.stdout.write(f"{role.value}: {count} permissions")
