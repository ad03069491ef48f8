"""The data bench/web.py measures against: projects alike in shape, from 1,000 to 100,000 videos.

90 % of each project's videos are labeled by two annotators (six decisions each, so
about 11 per video), every video has 5 suggestions and a fifth have a transcript;
the rest wait in the queue, behind the labeled ones in upload order. Written with
bulk inserts, in batches, once: a project already there with the right size is kept.
"""

from __future__ import annotations

import random
import sys
import time
from typing import Any

WORDS = [
    "матч",
    "футбол",
    "хоккей",
    "рецепт",
    "борщ",
    "обзор",
    "смартфон",
    "ремонт",
    "кухня",
    "путешествие",
    "горы",
    "море",
    "концерт",
    "музыка",
    "новости",
    "экономика",
    "рынок",
    "акции",
    "кино",
    "сериал",
    "игра",
    "стрим",
    "урок",
    "физика",
    "история",
    "музей",
    "выставка",
    "автомобиль",
    "тест",
    "драйв",
    "ребёнок",
    "школа",
    "здоровье",
    "спорт",
    "бег",
]
ANNOTATORS = 16
SUGGESTIONS_PER_VIDEO = 5
LABELED_SHARE = 0.9
BATCH = 5000


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _taxonomy(project: Any) -> list[Any]:
    from annotations.models import Tag

    tags: list[Tag] = []
    for i in range(20):
        root = Tag.objects.create(
            project=project,
            name=f"Тема {WORDS[i]}",
            path=f"Тема {WORDS[i]}",
            depth=1,
            hotkey=str(i + 1) if i < 9 else "",
        )
        tags.append(root)
        for j in range(5):
            child = Tag.objects.create(
                project=project,
                parent=root,
                name=f"{WORDS[(i + j) % len(WORDS)]} {j}",
                path=f"{root.path}: {WORDS[(i + j) % len(WORDS)]} {j}",
                depth=2,
            )
            tags.append(child)
            Tag.objects.bulk_create(
                Tag(
                    project=project,
                    parent=child,
                    name=f"вид {k}",
                    path=f"{child.path}: вид {k}",
                    depth=3,
                )
                for k in range(5)
            )
    return list(project.tags.all())


def seed_project(name: str, videos: int, users: list[Any], rng: random.Random) -> Any:
    from django.db import transaction
    from django.utils import timezone

    from annotations.models import (
        Annotation,
        Assignment,
        ConfirmedLabel,
        Project,
        Suggestion,
        TagDecision,
        TranscriptSegment,
        Video,
    )

    project = Project.objects.filter(name=name).first()
    if project is not None and project.videos.count() == videos:
        return project
    if project is not None:
        raise SystemExit(f"{name!r} exists with another size; drop the bench database first.")
    started = time.perf_counter()
    project = Project.objects.create(name=name, annotators_per_video=2)
    tags = _taxonomy(project)
    labeled = int(videos * LABELED_SHARE)
    for offset in range(0, videos, BATCH):
        with transaction.atomic():
            count = min(BATCH, videos - offset)
            batch = Video.objects.bulk_create(
                Video(
                    project=project,
                    status="ready",
                    external_id=f"v{offset + i}",
                    title=f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS)} №{offset + i}",
                    description=" ".join(rng.choices(WORDS, k=12)),
                )
                for i in range(count)
            )
            suggestions, segments, annotations = [], [], []
            chosen: dict[int, list[Any]] = {}
            for index, video in enumerate(batch, start=offset):
                picks = rng.sample(tags, SUGGESTIONS_PER_VIDEO + 2)
                chosen[video.pk] = picks
                for rank, tag in enumerate(picks[:SUGGESTIONS_PER_VIDEO], start=1):
                    score = rng.random()
                    suggestions.append(
                        Suggestion(
                            video=video,
                            tag=tag,
                            score=score,
                            rank=rank,
                            above_threshold=score > 0.5,
                        )
                    )
                if index % 5 == 0:
                    segments += [
                        TranscriptSegment(
                            video=video,
                            index=k,
                            start_seconds=k * 4.0,
                            end_seconds=k * 4.0 + 4,
                            text=" ".join(rng.choices(WORDS, k=10)),
                            source="asr",
                        )
                        for k in range(3)
                    ]
                if index < labeled:
                    for user in rng.sample(users, 2):
                        annotations.append(
                            Annotation(
                                video=video,
                                annotator=user,
                                state="submitted",
                                revision=7,
                                seconds_spent=rng.uniform(10, 120),
                                submitted_at=timezone.now(),
                            )
                        )
            Suggestion.objects.bulk_create(suggestions)
            TranscriptSegment.objects.bulk_create(segments)
            Annotation.objects.bulk_create(annotations)
            Assignment.objects.bulk_create(
                Assignment(video_id=a.video_id, annotator_id=a.annotator_id) for a in annotations
            )
            decisions, confirmed = [], []
            for a in annotations:
                picks = chosen[a.video_id]
                decisions += [
                    TagDecision(annotation=a, tag=tag, decision=decision)
                    for tag, decision in zip(
                        picks[:6],
                        ["accept", "accept", "reject", "reject", "add", "add"],
                        strict=False,
                    )
                ]
            for video_id in {a.video_id for a in annotations}:
                confirmed += [
                    ConfirmedLabel(video_id=video_id, tag=tag, source="agreement")
                    for tag in chosen[video_id][:2]
                ]
            TagDecision.objects.bulk_create(decisions)
            ConfirmedLabel.objects.bulk_create(confirmed)
        _say(f"  {name}: {offset + count:,} of {videos:,} videos")
    from django.db import connection

    from annotations.services.search import search_documents_write

    # What a worker does after an import: the search documents the list's search reads.
    search_documents_write()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give later
    _say(f"  seeded {name} in {time.perf_counter() - started:.0f} s")
    return project


def seed_members(projects: list[Any], users: list[Any]) -> None:
    """Every bench user an expert of every bench project: only members label in one."""
    from annotations.models import ProjectRole
    from annotations.services.projects import membership_set

    for project in projects:
        for user in users:
            membership_set(project=project, user=user, role=ProjectRole.EXPERT)


def seed_users() -> list[Any]:
    from django.contrib.auth.models import Group, User

    from annotations.roles import Role, roles_bootstrap

    roles_bootstrap()
    expert = Group.objects.get(name=Role.EXPERT.value)
    users = []
    for i in range(ANNOTATORS + 1 + 16):
        user, created = User.objects.get_or_create(username=f"bench_annotator_{i}")
        if created:
            user.groups.add(expert)
        users.append(user)
    return users
