from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Video, VideoStatus
from annotations.services.media.ingest import STEP_NAMES
from annotations.services.media.reprocessing import failed_steps, video_ingest, videos_reprocess


class Command(BaseCommand):
    help = (
        "Re-run the processing of videos: every step, only the failed ones (--failed) or "
        "named steps (--step). Derived data is replaced; labels and annotations are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="Only videos of this project.")
        parser.add_argument(
            "--video", type=int, action="append", default=[], help="A video id (repeatable)."
        )
        parser.add_argument(
            "--failed", action="store_true", help="Only failed videos and failed steps."
        )
        parser.add_argument(
            "--step",
            action="append",
            default=[],
            choices=STEP_NAMES,
            help="A step to re-run (repeatable).",
        )
        parser.add_argument(
            "--now", action="store_true", help="Run here and now instead of queueing for a worker."
        )

    def handle(self, *args: object, **options: Any) -> None:
        videos = Video.objects.all()
        if options["project"]:
            videos = videos.filter(project__name=options["project"])
            if not videos.exists():
                raise CommandError(f"no videos in a project named {options['project']!r}")
        if options["video"]:
            videos = videos.filter(pk__in=options["video"])
        if not options["project"] and not options["video"] and not options["failed"]:
            raise CommandError("say which videos: --project NAME, --video ID or --failed")
        if options["failed"]:
            videos = videos.filter(status=VideoStatus.FAILED) | videos.filter(steps__state="failed")
            videos = videos.distinct()
        if options["now"]:
            self._run_here(videos, options["step"], options["failed"])
            return
        queued = videos_reprocess(
            videos=videos, only=options["step"] or None, failed_only=options["failed"]
        )
        self.stdout.write(f"{queued} videos queued for processing")

    def _run_here(self, videos: Any, steps: list[str], failed: bool) -> None:
        for video in videos.order_by("id"):
            only = failed_steps(video) if failed else steps
            status = video_ingest(video_id=video.pk, only=only or None)
            self.stdout.write(f"video {video.pk}: {status or 'busy, skipped'}")
