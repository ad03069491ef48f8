from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import reset_queries

from annotations.management.projects import add_project_option, project_named
from annotations.manifest import ManifestError, open_manifest
from annotations.services.media.sources import SourceRejected
from annotations.services.media.video_import import (
    BATCH_SIZE,
    RowOutcome,
    videos_import_rows,
    videos_scan_folder,
)


class Command(BaseCommand):
    help = (
        "Import videos into a project from a CSV/JSONL manifest (columns video_id, title, "
        "description, tags, file; other columns become metadata) or by scanning a folder "
        "inside IMPORT_ROOTS. "
        "Rows already imported are skipped, bad rows are reported and the rest still import."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_project_option(parser)
        parser.add_argument(
            "source", type=Path, help="A manifest (.csv, .jsonl) or a folder to scan."
        )
        parser.add_argument("--quiet-rows", action="store_true", help="Print only the summary.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Rows looked up and stored together (default {BATCH_SIZE}).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        project = project_named(options["project"], hint="import a taxonomy to create one")
        source: Path = options["source"]
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        quiet = options["quiet_rows"]

        def show(position: int, total: int, outcome: RowOutcome) -> None:
            if position % 1000 == 0:
                # With DEBUG on, Django keeps the text of every query (up to 9,000 of them,
                # a batch's lookups are long): a request drops them when it ends, a
                # long import must do it itself.
                reset_queries()
            if quiet and outcome.status != "failed" and not outcome.warnings:
                return
            label = f"line {outcome.line}" + (
                f" ({outcome.external_id})" if outcome.external_id else ""
            )
            detail = outcome.message or ("; ".join(outcome.warnings) if outcome.warnings else "")
            self.stdout.write(
                f"[{position}/{total}] {label}: {outcome.status}"
                + (f": {detail}" if detail else "")
            )

        try:
            if source.is_dir():
                report = videos_scan_folder(project=project, folder=source, progress=show)
            else:
                # Read as it goes and counted, not kept: a manifest of a million rows
                # holds one batch at a time.
                report = videos_import_rows(
                    project=project,
                    rows=open_manifest(source),
                    base_dir=source.resolve().parent,
                    progress=show,
                    keep_outcomes=False,
                    batch_size=options["batch_size"],
                )
        except (ManifestError, SourceRejected) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(report.summary()))
