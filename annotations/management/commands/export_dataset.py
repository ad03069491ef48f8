from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.management.projects import add_project_option, project_named
from annotations.models import ExportSnapshot, Job
from annotations.services.export import (
    SCOPES,
    ExportFilterError,
    ExportFilters,
    export_request,
)
from annotations.services.export.formats import FORMATS
from annotations.services.jobs.control import job_run_now
from annotations.services.stored_files import open_stored


class Command(BaseCommand):
    help = (
        "Build a dataset snapshot of a project now (JSONL, CSV in the Rutube layout, or Label "
        "Studio JSON), keep it like one made through the API, and optionally copy its file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_project_option(parser)
        parser.add_argument("--format", required=True, choices=list(FORMATS))
        parser.add_argument("--scope", choices=SCOPES, default="confirmed")
        parser.add_argument("--from", dest="date_from", help="First day, e.g. 2025-01-31.")
        parser.add_argument("--to", dest="date_to", help="Last day, included.")
        parser.add_argument("--tag", action="append", default=[], help="Repeat for several.")
        parser.add_argument("--min-agreement", type=float)
        parser.add_argument("--decisions", action="store_true", help="Per-annotator decisions.")
        parser.add_argument(
            "--human-only",
            action="store_true",
            help="Leave out the labels the model confirmed itself, and videos only it confirmed.",
        )
        parser.add_argument("-o", "--output", type=Path, help="Copy the file here as well.")

    def handle(self, *args: object, **options: Any) -> None:
        project = project_named(options["project"])
        try:
            filters = ExportFilters.from_dict(
                {
                    "scope": options["scope"],
                    "date_from": options["date_from"],
                    "date_to": options["date_to"],
                    "tags": options["tag"],
                    "min_agreement": options["min_agreement"],
                    "include_decisions": options["decisions"],
                    "human_only": options["human_only"],
                }
            )
        except ExportFilterError as exc:
            raise CommandError(str(exc)) from None
        # Built here, through its job, rather than by a worker.
        snapshot = export_request(
            project=project, user=None, fmt=options["format"], filters=filters, hand_over_now=False
        )
        job_run_now(Job.objects.of(Job.Kind.EXPORT, snapshot.pk).get())
        snapshot.refresh_from_db()
        if snapshot.state != ExportSnapshot.State.READY:
            raise CommandError(f"export #{snapshot.pk} failed: {snapshot.error}")
        output: Path | None = options["output"]
        if output is not None:
            with open_stored(snapshot.file) as source, output.open("wb") as target:
                shutil.copyfileobj(source.stream, target)
        self.stdout.write(
            self.style.SUCCESS(
                f"export #{snapshot.pk}: {snapshot.row_count} rows, sha256 {snapshot.sha256}"
                + (f", copied to {output}" if output else "")
            )
        )
