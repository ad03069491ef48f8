"""Gold videos check the annotators: handed out like any other, never changed by answers."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import ContextList

from annotations.models import (
    ConfirmedLabel,
    GoldVideo,
    Project,
    ProjectQuality,
    ReviewRequest,
    Tag,
    TranscriptSegment,
    Video,
)
from annotations.selectors.quality import annotator_accuracy
from annotations.selectors.review import videos_needing_review
from annotations.services.labeling.gold import gold_mark
from annotations.services.labeling.queue import next_video_for, queue_remaining
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted, suggest
from tests.factories import HTMX, assign, client_for

pytestmark = pytest.mark.label_audit


def _gold(project: Project, tag: Tag, admin: User, **fields: object) -> Video:
    video = ready_video(project, **fields)
    imported_label(video, tag)
    gold_mark(video=video, user=admin)
    return video


def _answer_all(user: User, project: Project, tags: list[Tag]) -> list[Video]:
    """Every video the queue hands ``user``, in that order, each answered with ``tags``."""
    handed = []
    while (video := next_video_for(user, project)) is not None:
        handed.append(video)
        submitted(video, user, tags)
    return handed


def test_a_crowd_workers_queue_holds_its_share_of_gold_and_answers_never_change_it(
    project: Project, football: Tag, cooking: Tag, crowd: User, admin_user: User
) -> None:
    ProjectQuality.objects.create(project=project, gold_share=0.25)
    golds = [_gold(project, football, admin_user) for _ in range(3)]
    for _ in range(9):
        assign(ready_video(project), crowd)

    # The worker gets gold wrong: cooking instead of football.
    handed = _answer_all(crowd, project, [cooking])

    gold_ids = {video.pk for video in golds}
    given = [video for video in handed if video.pk in gold_ids]
    assert len(handed) == 9 + len(given)
    assert 1 <= len(given) <= 0.25 * len(handed)
    # Gold comes spread over the work, not first.
    assert handed[0].pk not in gold_ids
    for video in given:
        assert list(ConfirmedLabel.objects.filter(video=video).values_list("tag", flat=True)) == [
            football.pk
        ]
    assert not set(given) & set(videos_needing_review(project))
    # Nothing on the crowd's labeling page tells gold apart.
    page = client_for(crowd).get(f"/videos/{given[0].pk}/").content.decode()
    assert "gold" not in page.lower()


# What tells one video or annotation from another, whatever its kind: ids, links, moments.
_IDENTITY = {"id", "video", "external_id", "created_at", "started_at", "updated_at"}
# What the page holds that is about the request, not the video (the notice names the
# video submitted before).
_NOT_THE_VIDEO = {"request", "csrf_token", "messages", "perms", "notice"}


def _comparable(value: object) -> object:
    """``value`` with what identifies its video left out, as plain data."""
    if isinstance(value, Model):
        value = model_to_dict(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in _IDENTITY}
    if isinstance(value, QuerySet | list | tuple):
        return [_comparable(item) for item in value]
    return value


def _twin(project: Project, football: Tag, cooking: Tag, **fields: object) -> Video:
    """A video like every other of the walk: same title, transcript and suggestions."""
    video = ready_video(project, title="Матч", **fields)
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=0.0, end_seconds=2.0, text="гол", source="asr"
    )
    suggest(video, football, 0.8)
    suggest(video, cooking, 0.2, rank=2, above=False)
    return video


def _rendered_with(response: Any) -> dict[str, Any]:
    """The context the view rendered its page with (the first template's), flattened."""
    context = response.context
    return (context[0] if isinstance(context, ContextList) else context).flatten()


def _what_the_worker_sees(client: Client, video: Video, page: dict[str, Any]) -> dict:
    """The labeling page of ``video``, its count of videos left and the API's video and
    answer, as plain data without what identifies the video (the count is left out too)."""
    remaining = _rendered_with(client.get(f"/videos/{video.pk}/label/remaining/"))
    return {
        "page": _comparable({k: v for k, v in page.items() if k not in _NOT_THE_VIDEO}),
        "remaining": _comparable(
            {k: v for k, v in remaining.items() if k not in _NOT_THE_VIDEO | {"remaining"}}
        ),
        "video_api": _comparable(client.get(f"/api/v1/videos/{video.pk}/").json()),
        "answer_api": _comparable(
            client.get(f"/api/v1/videos/{video.pk}/annotations/mine/").json()
        ),
    }


def test_nothing_a_crowd_worker_sees_tells_gold_apart_not_even_the_count_of_videos_left(
    project: Project, football: Tag, cooking: Tag, crowd: User, admin_user: User
) -> None:
    ProjectQuality.objects.create(project=project, gold_share=0.34)
    golds = set()
    for _ in range(3):
        gold = _twin(project, football, cooking)
        imported_label(gold, football)
        gold_mark(video=gold, user=admin_user)
        golds.add(gold)
    for _ in range(6):
        assign(_twin(project, football, cooking), crowd)
    assert queue_remaining(crowd, project) == 9

    # The worker goes through their queue on the labeling page, one submit after another.
    client = client_for(crowd)
    response = client.get(f"/projects/{project.pk}/label/", follow=True, headers=HTMX)
    handed: list[Video] = []
    counts, seen = [], []
    while "annotation" in response.context:
        page = _rendered_with(response)
        video, annotation = page["video"], page["annotation"]
        handed.append(video)
        counts.append(client.get(f"/videos/{video.pk}/label/remaining/").context["remaining"])
        seen.append(_what_the_worker_sees(client, video, page))
        client.post(
            f"/annotations/{annotation.pk}/decisions/",
            {"tag": football.pk, "decision": "accept", "revision": annotation.revision},
            headers=HTMX,
        )
        response = client.post(
            f"/annotations/{annotation.pk}/submit/",
            {"revision": annotation.revision + 1},
            headers=HTMX,
        )

    kinds = [video in golds for video in handed]
    assert kinds == [False, False, True] * 3
    # One fewer with every video handed out, gold or not.
    assert counts == [8, 7, 6, 5, 4, 3, 2, 1, 0]
    # The page, the count's partial and the API say the same of every video.
    assert all(one == seen[0] for one in seen[1:])
    assert client.get(f"/videos/{handed[2].pk}/").context["is_gold"] is False


def test_gold_keeps_its_share_of_the_queue_while_other_confirmed_videos_leave_it(
    project: Project, football: Tag, crowd: User, admin_user: User
) -> None:
    ProjectQuality.objects.create(project=project, gold_share=0.25)
    golds = {_gold(project, football, admin_user) for _ in range(3)}
    imported = set()
    for _ in range(4):
        confirmed = ready_video(project)
        imported_label(confirmed, football)
        assign(confirmed, crowd)
        imported.add(confirmed)
    for _ in range(9):
        assign(ready_video(project), crowd)

    handed = _answer_all(crowd, project, [football])

    given = golds & set(handed)
    assert not imported & set(handed)
    assert len(handed) == 9 + len(given)
    assert 1 <= len(given) <= 0.25 * len(handed)


def test_annotators_below_the_gold_threshold_are_flagged_and_their_work_sent_to_review(
    project: Project,
    football: Tag,
    cooking: Tag,
    crowd: User,
    other_crowd: User,
    admin_user: User,
) -> None:
    ProjectQuality.objects.create(project=project, gold_min_checks=2, gold_min_accuracy=0.7)
    for _ in range(2):
        gold = _gold(project, football, admin_user)
        submitted(gold, crowd, [cooking])  # wrong
        submitted(gold, other_crowd, [football])  # right
    unreviewed = ready_video(project)
    submitted(unreviewed, crowd, [cooking])

    rows = {row.user: row for row in annotator_accuracy(project, min_accuracy=0.7, min_checks=2)}

    assert rows[crowd].gold_checks == 2 and rows[crowd].gold_accuracy == 0.0
    assert rows[crowd].flagged
    assert rows[other_crowd].gold_accuracy == 1.0 and not rows[other_crowd].flagged
    page = client_for(admin_user).get(f"/projects/{project.pk}/team/").content.decode()
    assert page.count('id="gold-checks"') == 1
    assert "below the threshold" in page[page.index("</title>") :]
    response = client_for(admin_user).post(f"/projects/{project.pk}/team/{crowd.pk}/to-review/")
    assert response.status_code == 302
    requested = ReviewRequest.objects.filter(reason=ReviewRequest.Reason.ANNOTATOR_FLAGGED)
    assert list(requested.values_list("video", flat=True)) == [unreviewed.pk]
    assert unreviewed in videos_needing_review(project)


def test_only_videos_people_confirmed_can_be_gold_and_only_admins_mark_them(
    project: Project, football: Tag, expert: User, admin_user: User
) -> None:
    unlabeled = ready_video(project)
    response = client_for(admin_user).post(f"/videos/{unlabeled.pk}/gold/", {"gold": "1"})
    assert response.status_code == 302 and not GoldVideo.objects.exists()
    labeled = ready_video(project)
    imported_label(labeled, football)
    assert client_for(expert).post(f"/videos/{labeled.pk}/gold/", {"gold": "1"}).status_code == 403
    client_for(admin_user).post(f"/videos/{labeled.pk}/gold/", {"gold": "1"})
    assert GoldVideo.objects.filter(video=labeled).exists()
