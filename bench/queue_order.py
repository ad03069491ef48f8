"""Time of "next video" in "most uncertain first" order, as the project grows.

    .venv/bin/python -m bench.queue_order --database-url sqlite:///var/bench/queue.sqlite3
    .venv/bin/python -m bench.queue_order --database-url postgres://postgres@127.0.0.1:5432/queue_bench

The database must be a scratch one (its name must contain "bench"); the script migrates
it and seeds one project per size (ready videos, three suggestions each, the open ones
scattered) once, kept for later runs. Each row times picking the next video for an expert
(`next_video_for`, the slot taken and given back between picks) with the order stored per
video and indexed, beside the order computed from every open video's suggestions at each
pick (how it was done before), on the same data.
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


def _seed(size: int, rng: random.Random) -> Any:
    from annotations.models import Project, QueueOrder, Suggestion, Tag, Video, VideoStatus
    from annotations.services.learning.suggestions import uncertainty
    from ml.train.model import Suggestion as Scored

    name = f"queue bench {size}"
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
    return project


def _computed_order_pick(project: Any, user: Any) -> Any:
    """The order as it was computed before: every open video's margin at each pick."""
    from django.db.models import F, FloatField, Max, Min, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce
    from django.utils import timezone

    from annotations.models import Suggestion
    from annotations.services.labeling.queue import _pool, queue_mark

    now = timezone.now()
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
    pool = _pool(user, project, now, queue_mark(project, now=now))
    return (
        pool.annotate(margin=Subquery(margin, output_field=FloatField()))
        .order_by(F("margin").asc(nulls_last=True), "id")
        .first()
    )


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

    from annotations.models import Assignment
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

        def stored(project: Any = project) -> None:
            video = next_video_for(user, project)
            Assignment.objects.filter(annotator=user, video=video).delete()

        def computed(project: Any = project) -> None:
            _computed_order_pick(project, user)

        stored()  # warm up
        rows.append(
            [
                f"{size:,}",
                f"{_median_ms(stored, options.repeat):.1f}",
                f"{_median_ms(computed, max(3, options.repeat // 4)):.1f}",
            ]
        )
    print(f"Database: {connection.vendor}; {os.cpu_count()} CPUs; median milliseconds.\n")
    markdown_table(
        ["videos", "next video, stored order (index)", "order computed at each pick"],
        rows,
        align=["---:", "---:", "---:"],
    )


if __name__ == "__main__":
    main()
