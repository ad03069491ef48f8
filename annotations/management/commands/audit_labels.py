from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.selectors.audit import label_store_audit


class Command(BaseCommand):
    help = (
        "Check the label store's invariants: every confirmed tag has the history entry "
        "that created it and a human or audited source; no decision, label or suggestion "
        "names a tag of another project. Exits with status 1 when anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="Only this project (its name).")

    def handle(self, *args: object, **options: Any) -> None:
        project = None
        if options["project"]:
            project = Project.objects.filter(name=options["project"]).first()
            if project is None:
                raise CommandError(f"no project named {options['project']!r}")
        violations = label_store_audit(project)
        scope = f"project {project.name!r}" if project else "all projects"
        if not violations:
            self.stdout.write(f"The label store of {scope} is consistent.")
            return
        for violation in violations:
            self.stdout.write(str(violation))
        raise CommandError(f"{len(violations)} violations in {scope}", returncode=1)
