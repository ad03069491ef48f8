from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from annotations.demo.catalog import write_demo_media
from annotations.demo.speech import write_spoken_clips
from annotations.manifest import read_manifest
from annotations.models import Assignment, Project
from annotations.roles import Role, roles_bootstrap
from annotations.services.media.video_import import videos_import_rows
from annotations.services.projects import default_guidelines, membership_set
from annotations.services.taxonomy import taxonomy_import_text

DEMO_PROJECT = "Rutube demo"
DEMO_TAXONOMY = Path(__file__).resolve().parents[2] / "demo" / "taxonomy.json"
# Every third demo video is imported without its tags, so there is labeling to do and
# the first model has videos to suggest tags for.
UNLABELED_EVERY = 3
DEMO_USERS: list[tuple[str, Role]] = [
    ("admin", Role.ADMIN),
    ("expert", Role.EXPERT),
    ("crowd1", Role.CROWD),
    ("crowd2", Role.CROWD),
]


class Command(BaseCommand):
    help = (
        "Set up the demo: roles, one user per role (new passwords printed on every run), "
        "the demo project with its taxonomy, generated videos imported and assigned to the crowd."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--credentials-file", type=Path, default=settings.VAR_DIR / "demo_credentials.txt"
        )

    def handle(self, *args: object, **options: Any) -> None:
        roles_bootstrap()
        credentials = self._users()
        project = self._project()
        manifest = write_demo_media(settings.IMPORT_ROOTS[0] / "demo")
        rows = read_manifest(manifest)
        for row in rows[UNLABELED_EVERY - 1 :: UNLABELED_EVERY]:
            # Left for the annotators: these get suggestions instead of known tags.
            row.tags, row.raw_tags = [], ""
        report = videos_import_rows(project=project, rows=rows, base_dir=manifest.parent)
        self.stdout.write(f"Demo videos: {report.summary()}")
        for outcome in report.outcomes:
            if outcome.status == "failed":
                self.stdout.write(self.style.WARNING(f"  line {outcome.line}: {outcome.message}"))
        self._spoken_clips(project, manifest.parent)
        self._assign(project)
        call_command("schedule_retraining", stdout=self.stdout)
        self._print_credentials(credentials, options["credentials_file"])

    def _spoken_clips(self, project: Project, folder: Path) -> None:
        manifest = write_spoken_clips(folder)
        if manifest is None:
            self.stdout.write(
                self.style.WARNING(
                    "English clips with live speech recognition skipped: espeak-ng is not "
                    "installed (Debian: apt-get install espeak-ng)."
                )
            )
            return
        report = videos_import_rows(
            project=project, rows=read_manifest(manifest), base_dir=manifest.parent
        )
        self.stdout.write(
            f"English clips without subtitles: {report.summary()}; the worker transcribes "
            f"them with WHISPER_MODEL={settings.WHISPER_MODEL}"
        )
        for outcome in report.outcomes:
            if outcome.status == "failed":
                self.stdout.write(self.style.WARNING(f"  line {outcome.line}: {outcome.message}"))

    def _users(self) -> list[tuple[str, str, Role]]:
        credentials = []
        for username, role in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_staff = role is Role.ADMIN
            user.save()
            user.groups.set([Group.objects.get(name=role.value)])
            credentials.append((username, password, role))
        return credentials

    def _project(self) -> Project:
        project, _ = Project.objects.get_or_create(
            name=DEMO_PROJECT,
            defaults={
                "taxonomy_name": "IAB (demo subset)",
                "guidelines": default_guidelines(),
                "annotators_per_video": 2,
            },
        )
        result = taxonomy_import_text(
            project=project, text=DEMO_TAXONOMY.read_text(encoding="utf-8"), fmt="json"
        )
        self.stdout.write(
            f"Demo taxonomy: {result.created} tags created, {result.unchanged} already present"
        )
        return project

    @transaction.atomic
    def _assign(self, project: Project) -> None:
        """Crowd workers each get two thirds of the videos left to label, overlapping in the
        middle third (those imported with their tags need nobody)."""
        videos = list(project.videos.unlabeled().order_by("id"))
        third = len(videos) // 3
        plan = {"crowd1": videos[: 2 * third], "crowd2": videos[third:]}
        membership_set(project=project, user=User.objects.get(username="expert"), role="expert")
        for username, share in plan.items():
            user = User.objects.get(username=username)
            membership_set(project=project, user=user, role="crowd")
            Assignment.objects.bulk_create(
                [Assignment(video=video, annotator=user) for video in share], ignore_conflicts=True
            )

    def _print_credentials(self, credentials: list[tuple[str, str, Role]], path: Path) -> None:
        lines = [
            f"{username:<8} {password:<14} {role.value}" for username, password, role in credentials
        ]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "user     password       role\n" + "\n".join(lines) + "\n", encoding="utf-8"
        )
        path.chmod(0o600)
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo users (new passwords on every run; also in " + str(path) + "):"
            )
        )
        for line in lines:
            self.stdout.write("  " + line)
