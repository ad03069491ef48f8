"""Gold through a crowd worker's eyes: everything they see of a gold video (lists, counts,
the labeling and video pages, the API, what becomes of their answer) is what they see of
any other video of their work."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import ContextList

from annotations.models import Project, ProjectQuality, Tag, Video
from annotations.selectors.quality import annotator_accuracy
from annotations.services.labeling.queue import queue_remaining
from tests.annotations.gold_fixtures import assign_all, twins_every_third_gold
from tests.annotations.labeling_fixtures import confirm_now
from tests.factories import HTMX, client_for

pytestmark = pytest.mark.label_audit

# What tells one video or annotation from another, whatever its kind: ids, links, moments.
_IDENTITY = {"id", "video", "external_id", "created_at", "started_at", "updated_at"}
# What a list says of a video that is about which video it is.
_LISTED_IDENTITY = {"id", "project", "external_id", "title", "created_at"}
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


def _rendered_with(response: Any) -> dict[str, Any]:
    """The context the view rendered its page with (the first template's), flattened."""
    context = response.context
    return (context[0] if isinstance(context, ContextList) else context).flatten()


def _without(context: dict[str, Any], *left_out: str) -> object:
    return _comparable({k: v for k, v in context.items() if k not in _NOT_THE_VIDEO | {*left_out}})


def _lists(client: Client, project: Project) -> dict[int, dict[str, object]]:
    """Every video in the worker's lists (the Videos page and the API), by id, with what
    each row says of it; the project page counts as many."""
    page = client.get(f"/projects/{project.pk}/videos/").context["page"].object_list
    api = client.get(f"/api/v1/projects/{project.pk}/videos/").json()["results"]
    rows: dict[int, dict[str, object]] = {}
    for video in page:
        rows[video.pk] = {"state": video.labeling_state, "labels": list(video.shown_labels)}
    for row in api:
        listed = {k: v for k, v in row.items() if k not in _LISTED_IDENTITY}
        rows.setdefault(row["id"], {})["api"] = listed
    counts = client.get(f"/projects/{project.pk}/").context["status_rows"]
    assert sum(n for _value, _label, n in counts) == len(rows)
    return rows


@dataclasses.dataclass
class Handed:
    """A video as the queue handed it out on the labeling page."""

    video: Video
    listed_before: dict[int, dict[str, object]]  # the lists just before it was handed out
    remaining: int  # the count of videos left, with it on the screen
    seen: dict[str, object]  # the page, the count's partial, the API's video and answer


def _walk(client: Client, project: Project, answer: Tag) -> list[Handed]:
    """The worker goes through their queue on the labeling page, choosing ``answer`` on
    each video and submitting it, one after another."""
    walked = []
    listed = _lists(client, project)
    response = client.get(f"/projects/{project.pk}/label/", follow=True, headers=HTMX)
    while "annotation" in response.context:
        page = _rendered_with(response)
        video, annotation = page["video"], page["annotation"]
        remaining = _rendered_with(client.get(f"/videos/{video.pk}/label/remaining/"))
        seen = {
            "page": _without(page),
            "remaining": _without(remaining, "remaining"),
            "video_api": _comparable(client.get(f"/api/v1/videos/{video.pk}/").json()),
            "answer_api": _comparable(
                client.get(f"/api/v1/videos/{video.pk}/annotations/mine/").json()
            ),
        }
        walked.append(Handed(video, listed, remaining["remaining"], seen))
        client.post(
            f"/annotations/{annotation.pk}/decisions/",
            {"tag": answer.pk, "decision": "accept", "revision": annotation.revision},
            headers=HTMX,
        )
        listed = _lists(client, project)
        response = client.post(
            f"/annotations/{annotation.pk}/submit/",
            {"revision": annotation.revision + 1},
            headers=HTMX,
        )
    return walked


@pytest.fixture
def golds(project: Project, football: Tag, cooking: Tag, admin_user: User) -> set[int]:
    """Six twins, every third one gold, where a third of a crowd worker's work is gold;
    the ids of the gold ones."""
    ProjectQuality.objects.create(project=project, gold_share=0.34)
    return twins_every_third_gold(project, football, cooking, admin_user, count=6)


def _all_alike(values: list[Any]) -> bool:
    return all(value == values[0] for value in values[1:])


def test_nothing_a_crowd_worker_sees_tells_gold_apart_not_even_the_count_of_videos_left(
    project: Project, football: Tag, cooking: Tag, crowd: User, admin_user: User
) -> None:
    ProjectQuality.objects.create(project=project, gold_share=0.34)
    golds = twins_every_third_gold(project, football, cooking, admin_user, count=9)
    assign_all(project, admin_user, crowd)
    assert queue_remaining(crowd, project) == 9
    client = client_for(crowd)

    walked = _walk(client, project, football)

    # In upload order, as every video assigned to them: gold where its turn falls.
    assert [step.video.pk in golds for step in walked] == [False, False, True] * 3
    # One fewer with every video handed out, gold or not.
    assert [step.remaining for step in walked] == [8, 7, 6, 5, 4, 3, 2, 1, 0]
    # The page, the count's partial and the API say the same of every video.
    assert _all_alike([step.seen for step in walked])
    assert client.get(f"/videos/{walked[2].video.pk}/").context["is_gold"] is False


def test_gold_is_in_a_crowd_workers_lists_as_early_and_as_plainly_as_their_other_work(
    project: Project, football: Tag, crowd: User, admin_user: User, golds: set[int]
) -> None:
    assign_all(project, admin_user, crowd)
    client = client_for(crowd)

    walked = _walk(client, project, football)

    at_the_start, at_the_end = walked[0].listed_before, _lists(client, project)
    assert {step.video.pk for step in walked} & golds
    for step in walked:
        # Handed out from the lists as they were: nothing appears when it is handed out.
        assert step.video.pk in step.listed_before
        assert set(step.listed_before) == set(at_the_start) == set(at_the_end)
    # Every row says the same of a gold video as of any other, before and after the work.
    assert _all_alike(list(at_the_start.values())) and _all_alike(list(at_the_end.values()))


def _answer_as_seen(client: Client, video: Video) -> dict[str, object]:
    """What the worker sees of their answer on ``video``: the labeling page's state line
    (times left out), the API's answer, and the video's own page."""
    response = client.get(f"/videos/{video.pk}/label/")
    page = _rendered_with(response)
    html = response.content.decode()
    line = html[html.index('id="annotation-state"') :]
    answer = client.get(f"/api/v1/videos/{video.pk}/annotations/mine/").json()
    return {
        "state_line": re.sub(r"\d", "", line[: line.index("</p>")]),
        "locked": page["annotation"].is_locked,
        "closed": page["labeling_closed"],
        "answer": {"state": answer["state"], "submit_count": answer["submit_count"]},
        "answer_locked": answer["locked_at"] is not None,
        # The ingest job's line names the video's id.
        "video_page": _without(_rendered_with(client.get(f"/videos/{video.pk}/")), "job"),
    }


def _seen_alike(client: Client, videos: list[Video]) -> dict[str, object]:
    """What the worker sees of their answer on each of ``videos``, asserted the same for
    all of them; returns it."""
    seen = [_answer_as_seen(client, video) for video in videos]
    for one, video in zip(seen[1:], videos[1:], strict=True):
        assert one == seen[0], video.pk
    return seen[0]


def _change_and_submit(client: Client, video: Video, tag: Tag) -> int:
    """The worker changes their answer on ``video`` through the API and submits it again."""
    mine = client.get(f"/api/v1/videos/{video.pk}/annotations/mine/").json()
    decisions = [{"tag": tag.path, "decision": "add"}]
    answer = {"decisions": decisions, "action": "submit", "revision": mine["revision"]}
    return client.put(
        f"/api/v1/videos/{video.pk}/annotations/mine/", answer, content_type="application/json"
    ).status_code


def _handed(client: Client, project: Project, answer: Tag) -> list[Video]:
    return [step.video for step in _walk(client, project, answer)]


def _gold_accuracy(project: Project) -> list[tuple[User, int, float | None]]:
    rows = annotator_accuracy(project, min_accuracy=0.7, min_checks=1)
    return [(row.user, row.gold_checks, row.gold_accuracy) for row in rows]


def test_a_gold_answer_locks_as_it_is_submitted_where_other_answers_do(
    project: Project, football: Tag, cooking: Tag, crowd: User, admin_user: User, golds: set[int]
) -> None:
    # One annotator per video, agreement confirmed automatically: the defaults.
    assign_all(project, admin_user, crowd)
    client = client_for(crowd)

    handed = _handed(client, project, cooking)

    assert {video.pk for video in handed} & golds
    seen = _seen_alike(client, handed)
    assert seen["locked"] and seen["answer_locked"] and not seen["closed"]
    assert {_change_and_submit(client, video, football) for video in handed} == {409}
    # Accuracy is measured on the answer as it was submitted and locked: all wrong.
    assert _gold_accuracy(project) == [(crowd, 2, 0.0)]


def test_a_gold_answer_stays_open_until_the_workers_other_answers_are_reviewed(
    project: Project,
    football: Tag,
    cooking: Tag,
    crowd: User,
    expert: User,
    admin_user: User,
    golds: set[int],
) -> None:
    project.auto_confirm_agreement = False
    project.save()
    assign_all(project, admin_user, crowd)
    client = client_for(crowd)

    handed = _handed(client, project, cooking)

    assert {video.pk for video in handed} & golds
    # Every answer waits for an expert: open, and a change is submitted again.
    assert not _seen_alike(client, handed)["locked"]
    assert {_change_and_submit(client, video, football) for video in handed} == {200}
    assert _seen_alike(client, handed)["answer"] == {"state": "submitted", "submit_count": 2}
    # The expert reviews the worker's other videos: their gold answers lock with them.
    for video in handed:
        if video.pk not in golds:
            confirm_now(video, [football.pk], expert)
    assert _seen_alike(client, handed)["locked"]
    assert {_change_and_submit(client, video, cooking) for video in handed} == {409}
    # Measured on the answer as it was last submitted, and locked.
    assert _gold_accuracy(project) == [(crowd, 2, 1.0)]


def test_a_gold_answer_locks_when_the_workers_answers_on_shared_videos_do(
    project: Project,
    football: Tag,
    crowd: User,
    other_crowd: User,
    admin_user: User,
    golds: set[int],
) -> None:
    project.annotators_per_video = 2
    project.save()
    assign_all(project, admin_user, crowd, other_crowd)
    first, second = client_for(crowd), client_for(other_crowd)

    first_handed = _handed(first, project, football)
    # Each regular video waits for the second annotator: every answer is open.
    assert not _seen_alike(first, first_handed)["locked"]

    second_handed = _handed(second, project, football)

    assert {video.pk for video in first_handed} & golds
    assert {video.pk for video in second_handed} & golds
    # They agreed on every regular video, so its answers locked, and their gold with them;
    # the second one's last video is gold, locked as they submitted it, as their others.
    assert second_handed[-1].pk in golds
    assert _seen_alike(first, first_handed)["locked"]
    assert _seen_alike(second, second_handed)["locked"]
