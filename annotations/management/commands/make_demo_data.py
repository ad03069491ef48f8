from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.demo.catalog import DEMO_VIDEOS, DemoVideo, write_demo_media


class Command(BaseCommand):
    help = (
        "Write the generated demo videos, their .srt subtitles and a manifest.csv to import. "
        "Videos already there are kept, so a second run is quick."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            type=Path,
            default=None,
            metavar="DIR",
            help="Folder to write to (default: the first IMPORT_ROOTS entry, then demo/).",
        )

    def handle(self, *args: object, **options: Any) -> None:
        out: Path | None = options["out"]
        if out is None:
            if not settings.IMPORT_ROOTS:
                raise CommandError("IMPORT_ROOTS is empty; pass --out DIR to choose a folder.")
            out = Path(settings.IMPORT_ROOTS[0]) / "demo"
        verbose = options["verbosity"] >= 2
        written = 0

        def report(video: DemoVideo, fresh: bool) -> None:
            nonlocal written
            if fresh:
                written += 1
            if verbose:
                self.stdout.write(f"  {video.video_id}: {'written' if fresh else 'kept'}")

        try:
            manifest = write_demo_media(out, progress=report)
        except OSError as exc:
            raise CommandError(
                f"could not write the demo data to {out}: {exc}. "
                "Check that the folder is writable and the disk is not full."
            ) from None
        kept = len(DEMO_VIDEOS) - written
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(DEMO_VIDEOS)} demo videos in {out} ({written} written, {kept} kept)"
            )
        )
        self.stdout.write(f"Manifest: {manifest}")
