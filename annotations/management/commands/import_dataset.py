from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.management.projects import add_project_option, project_named
from annotations.services.interchange import FORMATS, InterchangeError, dataset_import


class Command(BaseCommand):
    help = (
        "Import a dataset into a project: a Label Studio JSON export (tasks, annotations as "
        "confirmed labels, predictions as suggestions) or this app's JSONL export. Items whose "
        "external id is already in the project are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_project_option(parser)
        parser.add_argument("--format", choices=FORMATS, help="Default: from the file name.")
        parser.add_argument(
            "--create-tags", action="store_true", help="Add tags the taxonomy lacks."
        )
        parser.add_argument("source", type=Path)

    def handle(self, *args: object, **options: Any) -> None:
        project = project_named(options["project"])
        source: Path = options["source"]
        fmt = options["format"] or ("jsonl" if source.suffix.lower() == ".jsonl" else "labelstudio")
        try:
            with source.open("rb") as stream:
                report = dataset_import(
                    project=project,
                    stream=stream,
                    fmt=fmt,
                    create_missing_tags=options["create_tags"],
                )
        except (OSError, InterchangeError) as exc:
            raise CommandError(str(exc)) from None
        for message in report.messages:
            self.stdout.write(message)
        self.stdout.write(self.style.SUCCESS(report.summary()))
