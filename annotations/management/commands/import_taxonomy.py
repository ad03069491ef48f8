from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Project
from annotations.services.taxonomy import taxonomy_import_text
from ml.taxonomy import TaxonomyFormatError, detect_format


class Command(BaseCommand):
    help = (
        "Import a taxonomy into a project: IAB-style CSV (one column per level), "
        "a text file with one 'A: B: C' path per line, or JSON. "
        "Importing the same file twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--project", required=True, help="Project name; created if it does not exist."
        )
        parser.add_argument("--format", choices=["auto", "csv", "lines", "json"], default="auto")
        parser.add_argument("file", type=Path)

    def handle(self, *args: object, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise CommandError(f"file not found: {path}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text ({exc.reason})") from None
        fmt = options["format"] if options["format"] != "auto" else detect_format(path.name, text)
        project, created = Project.objects.get_or_create(
            name=options["project"], defaults={"taxonomy_name": path.stem}
        )
        try:
            result = taxonomy_import_text(project=project, text=text, fmt=fmt)
        except TaxonomyFormatError as exc:
            if created:
                project.delete()
            raise CommandError(f"{path.name}: {exc}. Nothing was imported.") from None
        self.stdout.write(
            f"{project.name}: {result.created} tags created, {result.unchanged} already present "
            f"({project.tags.count()} in the project)"
        )
