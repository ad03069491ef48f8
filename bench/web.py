"""Server time of the pages an annotator hits, at 100,000 videos against a 1,000-video baseline.

    .venv/bin/python -m bench.web --database-url postgres://postgres@127.0.0.1:5432/tagging_bench
    .venv/bin/python -m bench.web --database-url sqlite:///var/bench/web.sqlite3 --videos 20000

The database must be a scratch one (its name must contain "bench"): the script migrates it
and seeds two projects alike in shape into it once, kept for later runs (see
bench/web_seed.py: 90 % labeled by two annotators, about 1,080,000 decisions at 100,000
videos, the open videos behind the labeled ones in upload order, the queue's worst case).
Requests go through Django's whole stack in this process (test client, no network), so
a row is the server's time for that request, database included. The last rows run 8
annotators at once, in 8 processes, each opening, deciding and submitting in a loop.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_setup, markdown_table, percentile, samples, scratch_database
from bench.web_seed import ANNOTATORS, WORDS, seed_members, seed_project, seed_users


def _local_host_only() -> None:
    """The test client's requests come from 127.0.0.1."""
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["127.0.0.1"]


# --- Timing -----------------------------------------------------------------------


@dataclass
class Timing:
    samples: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.samples, 0.95) * 1000

    def cell(self) -> str:
        return f"{self.median_ms:.1f} ({self.p95_ms:.1f})"


def _time(
    run: Callable[[], object], repeat: int, before: Callable[[], object] | None = None
) -> Timing:
    return Timing(samples(run, repeat, before=before))


def _client(user: Any) -> Any:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _ok(response: Any) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return response


def _reset(project: Any, users: list[Any]) -> None:
    """Give back what the measuring annotators took, so each row starts from the seeded state."""
    from annotations.models import Annotation, Assignment, ConfirmedLabel, LabelChange

    Assignment.objects.filter(video__project=project, annotator__in=users).delete()
    touched = Annotation.objects.filter(video__project=project, annotator__in=users)
    videos = list(touched.values_list("video_id", flat=True))
    touched.delete()
    LabelChange.objects.filter(video_id__in=videos, source="agreement").delete()
    ConfirmedLabel.objects.filter(video_id__in=videos, source="agreement").exclude(
        video__annotations__state="submitted"
    ).delete()


def _measure(project: Any, user: Any, repeat: int) -> dict[str, Timing]:
    """Each operation ``repeat`` times on ``project`` as ``user``, from the seeded state."""
    from annotations.models import Annotation, Assignment, Video
    from annotations.services.labeling.annotation import (
        annotation_start,
        annotation_submit,
        decision_set,
    )
    from annotations.services.labeling.queue import next_video_for

    client = _client(user)
    htmx = {"HX-Request": "true"}
    results: dict[str, Timing] = {}

    def finish_current() -> None:
        # Submitting outside the timing, so the next pick has to find a new video.
        held = Assignment.objects.filter(annotator=user, lease_expires_at__isnull=False)
        for assignment in held.select_related("video"):
            Annotation.objects.update_or_create(
                video=assignment.video, annotator=user, defaults={"state": "submitted"}
            )
        held.update(lease_expires_at=None)

    opened: list[Video] = []
    current: list[Annotation] = []

    def pick() -> None:
        finish_current()
        video = next_video_for(user, project)
        assert video is not None, "the queue ran dry: seed more videos"
        opened[:] = [video]

    def prepare_decision() -> None:
        pick()
        current[:] = [annotation_start(video=opened[0], annotator=user)]

    def post_decision() -> None:
        annotation = current[0]
        tag_id = annotation.video.suggestions.values_list("tag_id", flat=True).first()
        _ok(
            client.post(
                f"/annotations/{annotation.pk}/decisions/",
                {"tag": tag_id, "decision": "accept", "revision": annotation.revision},
                headers=htmx,
            )
        )

    def prepare_submit() -> None:
        prepare_decision()
        annotation = current[0]
        suggestion = annotation.video.suggestions.select_related("tag").first()
        assert suggestion is not None
        current[:] = [
            decision_set(annotation=annotation, tag=suggestion.tag, decision="accept", revision=1)
        ]

    def submit_http() -> None:
        annotation = current[0]
        _ok(
            client.post(
                f"/annotations/{annotation.pk}/submit/",
                {"revision": annotation.revision},
                headers=htmx,
            )
        )

    rows: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("next video from the queue", lambda: next_video_for(user, project), finish_current),
        (
            "labeling page (GET)",
            lambda: _ok(client.get(f"/videos/{opened[0].pk}/label/")),
            pick,
        ),
        ("decision save (POST)", post_decision, prepare_decision),
        (
            "submit (service)",
            lambda: annotation_submit(annotation=current[0], revision=current[0].revision),
            prepare_submit,
        ),
        ("submit + next video's page (POST)", submit_http, prepare_submit),
    ]
    for name, run, before in rows:
        results[name] = _time(run, repeat, before=before)
        _reset(project, [user])

    tag = project.tags.filter(depth=2).first()
    base = f"/projects/{project.pk}/videos/"
    results["video list, first page"] = _time(lambda: _ok(client.get(base)), repeat)
    results["video list, status + tag + confirmed"] = _time(
        lambda: _ok(client.get(base, {"status": "ready", "tag": tag.pk, "confirmed": "yes"})),
        repeat,
    )
    common = random.Random(3)  # noqa: S311 - a word in about a third of the videos
    results["video list, search a word in 1/3 of the videos"] = _time(
        lambda: _ok(client.get(base, {"q": common.choice(WORDS)})), repeat
    )
    last_id = project.videos.order_by("-id").values_list("external_id", flat=True).first()
    size = int((last_id or "v0")[1:]) + 1
    results["video list, search a title number (one video)"] = _time(
        lambda: _ok(client.get(base, {"q": str(common.randrange(size))})), repeat
    )
    return results


# --- Eight annotators at once -------------------------------------------------------


def _annotator_loop(args: tuple[str, int, int, float]) -> tuple[list[float], float]:
    database_url, project_id, user_id, seconds = args
    django_setup(database_url)
    _local_host_only()
    from django.contrib.auth.models import User

    from annotations.models import Annotation, Project
    from annotations.services.labeling.queue import next_video_for

    user = User.objects.get(pk=user_id)
    project = Project.objects.get(pk=project_id)
    client = _client(user)
    htmx = {"HX-Request": "true"}
    submits: list[float] = []
    video = next_video_for(user, project)
    began = time.perf_counter()
    deadline = began + seconds
    while video is not None and time.perf_counter() < deadline:
        _ok(client.get(f"/videos/{video.pk}/label/"))
        annotation = Annotation.objects.get(video=video, annotator=user)
        tag_id = video.suggestions.values_list("tag_id", flat=True).first()
        _ok(
            client.post(
                f"/annotations/{annotation.pk}/decisions/",
                {"tag": tag_id, "decision": "accept", "revision": annotation.revision},
                headers=htmx,
            )
        )
        started = time.perf_counter()
        response = _ok(
            client.post(
                f"/annotations/{annotation.pk}/submit/",
                {"revision": annotation.revision + 1},
                headers=htmx,
            )
        )
        submits.append(time.perf_counter() - started)
        pushed = response.get("HX-Push-Url", "")
        video = None
        if pushed.startswith("/videos/"):
            from annotations.models import Video

            video = Video.objects.get(pk=int(pushed.split("/")[2]))
    return submits, time.perf_counter() - began


def _concurrent(database_url: str, project: Any, users: list[Any], seconds: float):
    from django.db import connections

    connections.close_all()
    jobs = [(database_url, project.pk, user.pk, seconds) for user in users]
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(len(users)) as pool:
        per_worker = pool.map(_annotator_loop, jobs)
    elapsed = time.perf_counter() - started
    samples = [sample for worker, _ in per_worker for sample in worker]
    # Until the last annotator stopped: the time limit, or the queue running dry.
    busy = max(seconds_ for _, seconds_ in per_worker)
    return Timing(samples), len(samples) / busy if busy else 0.0, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=15.0, help="of the 8-annotator run")
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    scratch_database(options.database_url)
    _local_host_only()
    from django.db import connection

    rng = random.Random(7)  # noqa: S311 - seeded test data
    users = seed_users()
    annotators = users[:ANNOTATORS]
    sizes = [options.baseline, options.videos]
    projects = [seed_project(f"bench {n} videos", n, annotators, rng) for n in sizes]
    seed_members(projects, users)
    _measure(projects[0], users[ANNOTATORS], 2)  # warm up: templates compiled, caches filled
    measured = [_measure(project, users[ANNOTATORS], options.repeat) for project in projects]
    crowd = users[ANNOTATORS + 1 : ANNOTATORS + 1 + options.concurrency]
    concurrent = []
    for project in projects:
        concurrent.append(_concurrent(options.database_url, project, crowd, options.seconds))
        _reset(project, crowd)

    print(
        f"Database: {connection.vendor}; {os.cpu_count()} CPUs; "
        f"{options.repeat} runs per row; milliseconds, median (95th percentile).\n"
    )
    rows = [[name, *(m[name].cell() for m in measured)] for name in measured[0]]
    rows.append(
        [
            f"submit with {options.concurrency} annotators at once",
            *(timing.cell() for timing, _, _ in concurrent),
        ]
    )
    rows.append(
        [
            f"submits per second, {options.concurrency} annotators",
            *(f"{rate:.0f}" for _, rate, _ in concurrent),
        ]
    )
    markdown_table(
        ["operation", *(f"{n:,} videos" for n in sizes)],
        rows,
        align=["---", *["---:"] * len(sizes)],
    )


if __name__ == "__main__":
    main()
