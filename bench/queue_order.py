"""Time of "next video" in "most uncertain first" order, as the project grows.

    .venv/bin/python -m bench.queue_order --database-url sqlite:///var/bench/queue.sqlite3
    .venv/bin/python -m bench.queue_order --database-url postgres://postgres@127.0.0.1:5432/queue_bench

The database must be a scratch one (its name must contain "bench"); the script migrates
it and seeds two projects per size (ready videos, three suggestions each) once, kept for
later runs: one with every video open, one with 90 % of its videos confirmed, the most
uncertain ones, as active learning labels them. Each row times picking the next video for
an expert (`next_video_for`, the slot taken and given back between picks) with the order
stored per video and indexed, beside the order computed from every open video's
suggestions at each pick (how it was done before), on the same data; and, in the labeled
project, with the confirmed videos keeping the uncertainty of their suggestions (as they
did before) and storing UNCERTAINTY_CONFIRMED, after every open video (as they do now).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table, scratch_database

LABELED_SHARE = 0.9


def _seed(size: int, rng: random.Random, *, labeled: bool = False) -> Any:
    from annotations.models import Project, QueueOrder, Suggestion, Tag, Video, VideoStatus
    from annotations.services.learning.uncertainty import uncertainty
    from ml.train.model import Suggestion as Scored

    name = f"queue bench {size}" + (" labeled" if labeled else "")
    found = Project.objects.filter(name=name).first()
    if found is not None:
        return found
    project = Project.objects.create(name=name, queue_order=QueueOrder.UNCERTAIN)
    tags = [Tag.objects.create(project=project, name=f"t{i}", path=f"t{i}") for i in range(20)]
    for start in range(0, size, 5000):
        videos = Video.objects.bulk_create(
            Video(project=project, title=f"video {n}", status=VideoStatus.READY)
            for n in range(start, min(size, start + 5000))
        )
        rows, ranked = [], []
        for video in videos:
            scores = sorted((rng.random() for _ in range(3)), reverse=True)
            above = [True, rng.random() < 0.5, False]
            picked = rng.sample(tags, 3)
            rows += [
                Suggestion(video=video, tag=t, score=s, rank=r + 1, above_threshold=a)
                for r, (t, s, a) in enumerate(zip(picked, scores, above, strict=True))
            ]
            video.uncertainty = uncertainty(
                [Scored("", s, a) for s, a in zip(scores, above, strict=True)]
            )
            ranked.append(video)
        Suggestion.objects.bulk_create(rows)
        Video.objects.bulk_update(ranked, ["uncertainty"])
    if labeled:
        _label_most_uncertain(project, tags[0], int(size * LABELED_SHARE))
    return project


def _label_most_uncertain(project: Any, tag: Any, count: int) -> None:
    """Confirm the ``count`` videos the queue would have handed out first (written as rows:
    which value they store is what the bench switches between)."""
    from annotations.models import ConfirmedLabel, LabelSource

    ids = list(project.videos.order_by("uncertainty", "id").values_list("pk", flat=True)[:count])
    ConfirmedLabel.objects.bulk_create(
        (ConfirmedLabel(video_id=pk, tag=tag, source=LabelSource.IMPORT) for pk in ids),
        batch_size=5000,
    )


def _margin() -> Any:
    """Each video's uncertainty computed from its suggestions, as a subquery on the outer video."""
    from django.db.models import FloatField, Max, Min, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce

    from annotations.models import Suggestion

    margin = (
        Suggestion.objects.filter(video=OuterRef("pk"))
        .order_by()
        .values("video")
        .annotate(
            m=Coalesce(Min("score", filter=Q(above_threshold=True)), Value(0.0))
            - Coalesce(Max("score", filter=Q(above_threshold=False)), Value(0.0))
        )
        .values("m")
    )
    return Subquery(margin, output_field=FloatField())


def _confirmed_keep_their_values(project: Any) -> None:
    """As before: a confirmed video kept the uncertainty its suggestions gave it."""
    project.videos.labeled().update(uncertainty=_margin())
    _analyze()


def _confirmed_last(project: Any) -> None:
    """As now: the rule every writer of confirmed labels applies, on those videos."""
    from annotations.services.learning.uncertainty import uncertainty_refresh

    uncertainty_refresh(video_ids=list(project.videos.labeled().values_list("pk", flat=True)))
    _analyze()


def _passed_over(project: Any, video: Any) -> int:
    """How many videos the walk along the uncertainty index reads before ``video``."""
    from django.db.models import Q

    before = Q(uncertainty__lt=video.uncertainty) | Q(
        uncertainty=video.uncertainty, id__lt=video.pk
    )
    return int(project.videos.ready().filter(before).count())


def _analyze() -> None:
    """Fresh statistics after seeding or rewriting the column (autovacuum's job on
    PostgreSQL, done now). SQLite without them finds the queue's mark through the
    project's index and sorts every video of it (about 130 ms at 100,000 videos) instead
    of reading on from the mark in id order."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE annotations_video")


def _computed_order_pick(project: Any, user: Any) -> Any:
    """The order as it was computed before: every open video's margin at each pick."""
    from django.db.models import F
    from django.utils import timezone

    from annotations.services.labeling.queue import _pool, queue_mark

    now = timezone.now()
    pool = _pool(user, project, now, queue_mark(project, now=now))
    return pool.annotate(margin=_margin()).order_by(F("margin").asc(nulls_last=True), "id").first()


def _median_ms(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=20)
    options = parser.parse_args()
    scratch_database(options.database_url)
    from django.db import connection

    from annotations.models import Assignment, Membership, ProjectRole
    from annotations.roles import Role, roles_bootstrap
    from annotations.services.labeling.queue import next_video_for

    roles_bootstrap()
    from django.contrib.auth.models import Group, User

    user, _ = User.objects.get_or_create(username="queue-bench-expert")
    user.groups.add(Group.objects.get(name=Role.EXPERT.value))
    rng = random.Random(3)  # noqa: S311 - seeded test data
    rows = []
    for size in [int(n) for n in options.sizes.split(",")]:
        project = _seed(size, rng)
        labeled = _seed(size, rng, labeled=True)
        _analyze()
        for seeded in (project, labeled):
            # A member, or the queue hands them nothing (and the pick measures no work).
            Membership.objects.get_or_create(
                project=seeded, user=user, defaults={"role": ProjectRole.EXPERT}
            )

        def stored(project: Any = project) -> Any:
            video = next_video_for(user, project)
            assert video is not None
            Assignment.objects.filter(annotator=user, video=video).delete()
            return video

        def computed(project: Any = project) -> None:
            _computed_order_pick(project, user)

        def stored_labeled(labeled: Any = labeled) -> None:
            stored(labeled)

        stored()  # warm up
        row = [
            f"{size:,}",
            f"{_median_ms(stored, options.repeat):.1f}",
            f"{_median_ms(computed, max(3, options.repeat // 4)):.1f}",
        ]
        for state in (_confirmed_keep_their_values, _confirmed_last):
            state(labeled)
            passed = _passed_over(labeled, stored(labeled))  # and a warm-up
            row.append(f"{_median_ms(stored_labeled, options.repeat):.1f} ({passed:,})")
        rows.append(row)
    print(
        f"Database: {connection.vendor}; {os.cpu_count()} CPUs; median milliseconds "
        "(in brackets: the videos the index walk passes over before the one it picks).\n"
    )
    share = f"{LABELED_SHARE:.0%}"
    markdown_table(
        [
            "videos",
            "next video, stored order (index)",
            "order computed at each pick",
            f"{share} confirmed, keeping their uncertainty (before)",
            f"{share} confirmed, stored last (now)",
        ],
        rows,
        align=["---:", "---:", "---:", "---:", "---:"],
    )


if __name__ == "__main__":
    main()
