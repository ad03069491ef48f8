"""Annotating and reviewing through the API, with the same rules as the labeling page."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import Annotation, LabelChange, Project
from tests.api.conftest import Labeled
from tests.factories import assign

pytestmark = pytest.mark.label_audit


def _put(client: APIClient, video_id: int, **body: Any) -> tuple[int, dict[str, Any]]:
    response = client.put(f"/api/v1/videos/{video_id}/annotations/mine/", body, format="json")
    return response.status_code, response.json()


def _add(
    client: APIClient, video_id: int, tag: str, *, revision: int = 0, **body: Any
) -> tuple[int, dict[str, Any]]:
    """PUT the annotator's decisions as the one tag ``tag`` added."""
    return _put(
        client, video_id, decisions=[{"tag": tag, "decision": "add"}], revision=revision, **body
    )


def _saved_tags(video_id: int) -> list[str]:
    """The tags of the decisions stored in the video's one annotation."""
    annotation = Annotation.objects.get(video=video_id)
    return list(annotation.decisions.values_list("tag__path", flat=True))


def test_an_annotator_saves_a_draft_then_submits_it(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    crowd = clients["crowd"]
    video = labeled.assigned.pk
    status, draft = _put(
        crowd,
        video,
        decisions=[
            {"tag": "Спорт: Футбол", "decision": "add"},
            {"tag": "Музыка", "decision": "add"},
        ],
        revision=0,
    )
    assert status == 200, draft
    assert draft["state"] == "draft"
    assert sorted(d["tag"] for d in draft["decisions"]) == ["Музыка", "Спорт: Футбол"]
    status, submitted = _put(
        crowd,
        video,
        decisions=[{"tag": "Спорт: Футбол", "decision": "add"}],
        action="submit",
        revision=draft["revision"],
        seconds_spent=12.5,
    )
    assert status == 200, submitted
    assert submitted["state"] == "submitted"
    assert [d["tag"] for d in submitted["decisions"]] == ["Спорт: Футбол"]
    assert submitted["seconds_spent"] == 12.5
    mine = crowd.get(f"/api/v1/videos/{video}/annotations/mine/").json()
    assert mine["revision"] == submitted["revision"] > draft["revision"]


def test_a_stale_revision_is_refused_and_changes_nothing(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.assigned.pk
    _status, first = _add(clients["crowd"], video, "Музыка")
    _add(clients["crowd"], video, "Спорт", revision=first["revision"])
    status, body = _add(clients["crowd"], video, "Еда и напитки", revision=first["revision"])
    assert status == 409
    assert "current revision is" in str(body["detail"])
    assert _saved_tags(video) == ["Спорт"]


def test_replacing_the_decisions_without_a_revision_is_refused_with_428(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.assigned.pk
    status, body = _put(clients["crowd"], video, decisions=[{"tag": "Музыка", "decision": "add"}])
    assert (status, body["code"]) == (428, "revision_required")
    assert "revision" in body["detail"]
    assert not Annotation.objects.filter(video=video).exists()


def test_revision_zero_means_not_started_and_is_stale_once_another_tab_started(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.assigned.pk
    first = _add(clients["crowd"], video, "Музыка", revision=0)
    assert first[0] == 200
    status, body = _add(clients["crowd"], video, "Спорт", revision=0)
    assert status == 409 and "current revision is" in body["detail"]
    assert _saved_tags(video) == ["Музыка"]


def test_a_refused_submit_keeps_the_draft_as_it_was(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.assigned.pk
    _status, draft = _add(clients["crowd"], video, "Музыка")
    status, body = _put(
        clients["crowd"], video, decisions=[], action="submit", revision=draft["revision"]
    )
    assert status == 400
    assert "at least one tag" in str(body["detail"])
    assert Annotation.objects.get(video=video).state == "draft"
    assert _saved_tags(video) == ["Музыка"]


def test_unknown_tags_and_bad_decisions_are_named_in_the_error(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.assigned.pk
    status, body = _add(clients["crowd"], video, "Кино")
    assert status == 400 and "Кино" in str(body["detail"])
    status, body = _put(
        clients["crowd"], video, decisions=[{"tag": "Музыка", "decision": "maybe"}], revision=0
    )
    assert status == 400 and body["errors"]["decisions"]["0"]["decision"]
    assert not Annotation.objects.filter(video=video).exists()


def test_annotators_see_their_own_annotations_experts_see_all(
    labeled: Labeled, clients: dict[str, APIClient], crowd: User, expert: User
) -> None:
    video = labeled.assigned
    _add(clients["crowd"], video.pk, "Музыка")
    _add(clients["expert"], video.pk, "Спорт")
    own = clients["crowd"].get(f"/api/v1/videos/{video.pk}/annotations/").json()["results"]
    assert [a["annotator"] for a in own] == [crowd.username]
    everyone = clients["expert"].get(f"/api/v1/videos/{video.pk}/annotations/").json()["results"]
    assert sorted(a["annotator"] for a in everyone) == sorted([crowd.username, expert.username])
    project_url = f"/api/v1/projects/{labeled.project.pk}/annotations/"
    assert [a["annotator"] for a in clients["crowd"].get(project_url).json()["results"]] == [
        crowd.username
    ]
    only_expert = clients["admin_user"].get(f"{project_url}?annotator={expert.username}").json()
    assert [a["annotator"] for a in only_expert["results"]] == [expert.username]
    drafts = clients["admin_user"].get(f"{project_url}?state=submitted").json()
    assert drafts["results"] == []


def test_a_disagreement_is_reviewed_and_confirmed_by_an_expert(
    labeled: Labeled, clients: dict[str, APIClient], crowd: User, other_crowd: User, expert: User
) -> None:
    project: Project = labeled.project
    project.annotators_per_video = 2
    project.save()
    video = labeled.assigned
    assign(video, other_crowd)
    from tests.api.conftest import token_client

    other = token_client(other_crowd)
    _status, draft = _add(clients["crowd"], video.pk, "Спорт: Футбол")
    _add(clients["crowd"], video.pk, "Спорт: Футбол", action="submit", revision=draft["revision"])
    _add(other, video.pk, "Спорт: Хоккей", action="submit")
    queue = clients["expert"].get(f"/api/v1/projects/{project.pk}/reviews/").json()
    assert [item["id"] for item in queue["results"]] == [video.pk]
    assert queue["results"][0]["agreed"] is False
    sheet = clients["expert"].get(f"/api/v1/videos/{video.pk}/review/").json()
    assert sorted(sheet["annotators"]) == sorted([crowd.username, other_crowd.username])
    assert {row["tag"]: row["votes"] for row in sheet["rows"]} == {
        "Спорт: Футбол": 1,
        "Спорт: Хоккей": 1,
    }
    assert sheet["revision"] == 0  # nothing confirmed yet
    confirmed = clients["expert"].post(
        f"/api/v1/videos/{video.pk}/review/",
        {"tags": ["Спорт: Футбол"], "revision": sheet["revision"]},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json() == {
        "tags": ["Спорт: Футбол"],
        "added": ["Спорт: Футбол"],
        "removed": [],
    }
    assert clients["expert"].get(f"/api/v1/projects/{project.pk}/reviews/").json()["results"] == []
    change = LabelChange.objects.get(video=video)
    assert change.changed_by == expert and change.source == "review"
    unknown = clients["expert"].post(
        f"/api/v1/videos/{video.pk}/review/",
        {"tags": ["Нет такого"], "revision": change.pk},
        format="json",
    )
    assert unknown.status_code == 400 and "Нет такого" in unknown.json()["detail"]


def _review(
    client: APIClient, video_id: int, tags: list[str], **body: Any
) -> tuple[int, dict[str, Any]]:
    response = client.post(
        f"/api/v1/videos/{video_id}/review/", {"tags": tags, **body}, format="json"
    )
    return response.status_code, response.json()


def test_a_review_sent_on_a_stale_sheet_is_refused_with_409_and_changes_nothing(
    labeled: Labeled, clients: dict[str, APIClient], admin_user: User, expert: User
) -> None:
    video = labeled.confirmed
    before = sorted(video.confirmed_labels.values_list("tag__path", flat=True))
    # Both experts open the sheet; the first confirms a new set on it.
    opened = clients["expert"].get(f"/api/v1/videos/{video.pk}/review/").json()
    assert clients["admin_user"].get(f"/api/v1/videos/{video.pk}/review/").json() == opened
    status, first = _review(
        clients["admin_user"],
        video.pk,
        ["Музыка"],
        revision=opened["revision"],
        reason="not what the import said",
    )
    assert status == 200 and first["tags"] == ["Музыка"]
    history = list(LabelChange.objects.filter(video=video).values_list("pk", flat=True))
    status, stale = _review(
        clients["expert"], video.pk, before, revision=opened["revision"], reason="keep them"
    )
    assert (status, stale["code"]) == (409, "conflict")
    assert "changed after the review sheet was loaded" in stale["detail"]
    current = clients["expert"].get(f"/api/v1/videos/{video.pk}/review/").json()["revision"]
    assert f"The current revision is {current}." in stale["detail"]
    assert sorted(video.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]
    assert list(LabelChange.objects.filter(video=video).values_list("pk", flat=True)) == history


def test_a_review_without_a_revision_is_refused_with_428_and_changes_nothing(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.confirmed
    history = list(LabelChange.objects.filter(video=video).values_list("pk", flat=True))
    status, body = _review(
        clients["expert"], video.pk, ["Музыка"], reason="not what the import said"
    )
    assert (status, body["code"]) == (428, "revision_required")
    assert "revision" in body["detail"]
    assert list(LabelChange.objects.filter(video=video).values_list("pk", flat=True)) == history
