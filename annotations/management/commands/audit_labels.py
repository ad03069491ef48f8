from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.management.projects import add_project_option, project_named
from annotations.selectors.audit import label_store_audit


class Command(BaseCommand):
    help = (
        "Check the label store's invariants: every confirmed tag has the history entry "
        "that created it and a human or audited source; no decision, label or suggestion "
        "names a tag of another project. Exits with status 1 when anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_project_option(parser, required=False, help="Only this project (its name).")

    def handle(self, *args: object, **options: Any) -> None:
        project = project_named(options["project"]) if options["project"] else None
        violations = label_store_audit(project)
        scope = f"project {project.name!r}" if project else "all projects"
        if not violations:
            self.stdout.write(f"The label store of {scope} is consistent.")
            return
        for violation in violations:
            self.stdout.write(str(violation))
        raise CommandError(f"{len(violations)} violations in {scope}", returncode=1)
