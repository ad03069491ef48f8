"""Builders shared by the gold tests."""

from __future__ import annotations

from django.contrib.auth.models import User

from annotations.models import Project, Tag, TranscriptSegment, Video
from annotations.services.labeling.gold import gold_mark
from tests.annotations.labeling_fixtures import imported_label, ready_video, suggest
from tests.factories import client_for, make_member


def gold_video(project: Project, tag: Tag, admin: User, **fields: object) -> Video:
    """A ready video imported with ``tag``, marked gold by ``admin``."""
    video = ready_video(project, **fields)
    imported_label(video, tag)
    gold_mark(video=video, user=admin)
    return video


def twin(project: Project, football: Tag, cooking: Tag) -> Video:
    """A video like every other twin: same title, transcript and suggestions."""
    video = ready_video(project, title="Матч")
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=0.0, end_seconds=2.0, text="гол", source="asr"
    )
    suggest(video, football, 0.8)
    suggest(video, cooking, 0.2, rank=2, above=False)
    return video


def twins_every_third_gold(
    project: Project, football: Tag, cooking: Tag, admin: User, *, count: int
) -> set[int]:
    """``count`` twins in upload order, every third one gold (with ``football``); the ids
    of the gold ones."""
    golds = set()
    for position in range(count):
        video = twin(project, football, cooking)
        if position % 3 == 2:
            imported_label(video, football)
            gold_mark(video=video, user=admin)
            golds.add(video.pk)
    return golds


def assign_all(project: Project, admin: User, *people: User) -> None:
    """The admin assigns ``people`` every video there is to label, on the assign page."""
    for person in people:
        make_member(project, person)
    response = client_for(admin).post(
        f"/projects/{project.pk}/assign/",
        {"annotators": [person.pk for person in people], "mode": "all"},
    )
    assert response.status_code == 302
