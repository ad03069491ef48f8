"""API and export benchmark: prints tables, asserts nothing.

    .venv/bin/python bench/api.py                     # exports at 10k and 100k videos, lists
    .venv/bin/python bench/api.py --sizes 10000 100000 1000000 --repeats 3
    DATABASE_URL=postgres://.../bench_db .venv/bin/python bench/api.py   # an empty database!

Without DATABASE_URL the data goes to a SQLite file in a temporary folder, deleted at the
end. The export table compares sizes in the same run: throughput, and the peak of Python
memory allocated while exporting (tracemalloc, measured in a separate run from the timing,
since tracing slows the code down); flat memory shows as the same peak at every size.
Each video carries 1-2 confirmed tags, a transcript segment, 2 annotations with 2-3
decisions each (so decisions = about 5 x videos) and 3 suggestions.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import min_max, percentile, samples, timed, traced_peak_mb

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from annotations.models import Project

TAGS = [
    "Спорт",
    "Спорт: Футбол",
    "Спорт: Хоккей",
    "Музыка",
    "Музыка: Рок",
    "Еда и напитки",
    "Еда и напитки: Рецепты",
    "Транспорт",
    "Транспорт: Автомобили",
    "Путешествия",
]
WORDS = ["матч", "гол", "рецепт", "суп", "гитара", "концерт", "дорога", "мотор", "море", "горы"]


def _setup(temp: Path) -> None:
    if not os.environ.get("DATABASE_URL"):
        os.environ["VAR_DIR"] = str(temp)
    os.environ.setdefault("MEDIA_ROOT", str(temp / "media"))
    os.environ.setdefault("LOG_LEVEL", "warning")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tagging_site.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _grow(project: Project, users: Sequence[User], target: int, rng: random.Random) -> None:
    """Add videos (with labels, transcript, annotations, suggestions) up to ``target``."""
    from django.db import transaction

    from annotations.models import (
        Annotation,
        ConfirmedLabel,
        Suggestion,
        Tag,
        TagDecision,
        TranscriptSegment,
        Video,
    )

    tags = list(Tag.objects.filter(project=project))
    have = Video.objects.filter(project=project).count()
    batch = 2000
    while have < target:
        size = min(batch, target - have)
        with transaction.atomic():
            videos = Video.objects.bulk_create(
                Video(
                    project=project,
                    title=" ".join(rng.choices(WORDS, k=6)),
                    description=" ".join(rng.choices(WORDS, k=20)),
                    external_id=f"b{have + i}",
                    status="ready",
                )
                for i in range(size)
            )
            labels, segments, annotations, suggestions = [], [], [], []
            for video in videos:
                chosen = rng.sample(tags, rng.randint(1, 2))
                labels += [ConfirmedLabel(video=video, tag=t, source="import") for t in chosen]
                segments.append(
                    TranscriptSegment(
                        video=video,
                        index=0,
                        start_seconds=0,
                        end_seconds=5,
                        text=" ".join(rng.choices(WORDS, k=30)),
                        source="asr",
                    )
                )
                annotations += [
                    Annotation(video=video, annotator=user, state="submitted") for user in users
                ]
                suggestions += [
                    Suggestion(video=video, tag=t, score=rng.random(), rank=r)
                    for r, t in enumerate(rng.sample(tags, 3), start=1)
                ]
            ConfirmedLabel.objects.bulk_create(labels)
            TranscriptSegment.objects.bulk_create(segments)
            Suggestion.objects.bulk_create(suggestions)
            made = Annotation.objects.bulk_create(annotations)
            TagDecision.objects.bulk_create(
                TagDecision(annotation=a, tag=t, decision=rng.choice(["accept", "add", "reject"]))
                for a in made
                for t in rng.sample(tags, rng.randint(2, 3))
            )
        have += size


def _export_once(project: Project, fmt: str, detailed: bool) -> tuple[float, int, int]:
    from annotations.models import Job
    from annotations.services.export import ExportFilters, export_request
    from annotations.services.jobs.control import job_run_now

    filters = ExportFilters(include_decisions=detailed)
    snapshot = export_request(
        project=project, user=None, fmt=fmt, filters=filters, hand_over_now=False
    )
    job = Job.objects.of(Job.Kind.EXPORT, snapshot.pk).get()
    _job, seconds = timed(functools.partial(job_run_now, job))
    snapshot.refresh_from_db()
    assert snapshot.state == "ready", snapshot.error
    return seconds, snapshot.row_count, snapshot.file.size


def _list_latency(project: Project, user: User, repeats: int) -> list[tuple[str, list[float]]]:
    from django.test import Client

    from annotations.models import Video

    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    url = f"/api/v1/projects/{project.pk}/videos/?page_size=100"
    client.get(url)  # warm-up: imports, first queries
    middle = Video.objects.filter(project=project).count() // 2
    pivot = Video.objects.filter(project=project).order_by("id")[middle].pk
    # A deep page: follow next links from the first page until past the middle is slow at
    # 100k, so build the cursor the paginator would give there.
    from base64 import b64encode
    from urllib.parse import quote

    cursor = quote(b64encode(f"p={pivot}".encode()).decode())
    cases = [
        ("first page of 100", url),
        ("page at the middle", f"{url}&cursor={cursor}"),
        ("filtered: confirmed, tag", f"{url}&confirmed=true&tag=Спорт"),
    ]

    def fetch(target: str) -> None:
        response = client.get(target)
        assert response.status_code == 200, response.content[:200]

    return [
        (label, [s * 1000 for s in samples(functools.partial(fetch, target), repeats)])
        for label, target in cases
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs per size.")
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "csv", "labelstudio"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        _setup(Path(folder))
        from django.contrib.auth.models import User

        from annotations.models import Project
        from annotations.roles import Role, roles_bootstrap
        from tests.factories import make_tag, make_user

        roles_bootstrap()
        project = Project.objects.create(name=f"bench {time.time():.0f}")
        for path in TAGS:
            make_tag(project, path)
        users = [
            User.objects.create_user(f"annotator{i}-{project.pk}", password="x")  # noqa: S106
            for i in range(2)
        ]
        admin = make_user(Role.ADMIN, f"bench-admin-{project.pk}")
        rng = random.Random(5)  # noqa: S311 - reproducible test data, not secrets
        print(
            f"database: {os.environ.get('DATABASE_URL', 'SQLite (temporary)').split('@')[-1]}, "
            f"format {args.format}, {args.repeats} timed runs per size"
        )
        print()
        header = (
            f"{'export':<24} {'videos':>9} {'decisions':>10} {'median s':>9} {'spread s':>11} "
            f"{'rows/s':>9} {'decisions/s':>12} {'file MB':>8} {'peak MB':>8}"
        )
        print("Exports (rows = videos; peak = Python memory allocated while exporting)")
        print(header)
        print("-" * len(header))
        variants = [
            (f"{args.format}, with decisions", args.format, True),
            ("csv (Rutube layout)", "csv", False),
        ]
        for size in sorted(args.sizes):
            _, built = timed(functools.partial(_grow, project, users, size, rng))
            print(f"({size:,} videos built in {built:.0f} s)")
            from annotations.models import TagDecision

            decisions = TagDecision.objects.filter(annotation__video__project=project).count()
            for label, fmt, detailed in variants:
                runs = [_export_once(project, fmt, detailed) for _ in range(args.repeats)]
                seconds = [run[0] for run in runs]
                rows, file_bytes = runs[0][1], runs[0][2]
                peak = traced_peak_mb(functools.partial(_export_once, project, fmt, detailed))
                median = statistics.median(seconds)
                print(
                    f"{label:<24} {rows:>9,} {decisions:>10,} {median:>9.2f} "
                    f"{min_max(seconds):>11} {rows / median:>9,.0f} {decisions / median:>12,.0f} "
                    f"{file_bytes / 1024**2:>8.1f} {peak:>8.1f}"
                )
        print()
        print(f"Video list at {max(args.sizes):,} videos (ms per request, 20 requests)")
        listing = _list_latency(project, admin, 20)
        print(f"{'request':<28} {'median':>8} {'p95':>8} {'min':>8} {'max':>8}")
        for label, timings in listing:
            print(
                f"{label:<28} {statistics.median(timings):>8.1f} "
                f"{percentile(timings, 0.95):>8.1f} {min(timings):>8.1f} {max(timings):>8.1f}"
            )


if __name__ == "__main__":
    main()
