"""What the API shows of an annotation's life after its first submit: how many times it
was submitted (a resubmission), and when the confirmed tags locked it."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from annotations.models import ConfirmedLabel
from tests.api.conftest import Labeled

pytestmark = pytest.mark.label_audit


def _put(client: APIClient, video_id: int, tag: str, **body: Any) -> dict[str, Any]:
    response = client.put(
        f"/api/v1/videos/{video_id}/annotations/mine/",
        {"decisions": [{"tag": tag, "decision": "add"}], **body},
        format="json",
    )
    assert response.status_code == 200, response.content
    answer: dict[str, Any] = response.json()
    return answer


def _listed(client: APIClient, video_id: int) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = client.get(f"/api/v1/videos/{video_id}/annotations/").json()[
        "results"
    ]
    return results


def _crowd_labeling(
    labeled: Labeled, clients: dict[str, APIClient], *, annotators_per_video: int
) -> tuple[APIClient, int]:
    """The crowd worker's client and their assigned video, in a project that asks for
    ``annotators_per_video`` answers before it confirms tags they agree on."""
    labeled.project.annotators_per_video = annotators_per_video
    labeled.project.save(update_fields=["annotators_per_video"])
    return clients["crowd"], labeled.assigned.pk


def test_a_resubmitted_annotation_counts_its_submits(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    # One submit of two confirms nothing, so the answer stays open to change.
    crowd, video = _crowd_labeling(labeled, clients, annotators_per_video=2)
    draft = _put(crowd, video, "Спорт: Футбол", revision=0)
    assert (draft["submit_count"], draft["locked_at"]) == (0, None)
    first = _put(crowd, video, "Спорт: Футбол", action="submit", revision=draft["revision"])
    assert (first["state"], first["submit_count"]) == ("submitted", 1)
    changed = _put(crowd, video, "Спорт: Хоккей", revision=first["revision"])
    again = _put(crowd, video, "Спорт: Хоккей", action="submit", revision=changed["revision"])
    assert (again["state"], again["submit_count"], again["locked_at"]) == ("submitted", 2, None)
    mine = crowd.get(f"/api/v1/videos/{video}/annotations/mine/").json()
    assert mine["submit_count"] == 2
    assert [a["submit_count"] for a in _listed(clients["expert"], video)] == [2]


def test_an_annotation_the_tags_were_confirmed_on_shows_when_it_was_locked(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    # One annotator per video: their submit is the agreement, confirmed at once.
    crowd, video = _crowd_labeling(labeled, clients, annotators_per_video=1)
    submitted = _put(crowd, video, "Спорт: Футбол", action="submit", revision=0)
    assert ConfirmedLabel.objects.filter(video=video).exists()
    assert submitted["locked_at"] is not None
    mine = crowd.get(f"/api/v1/videos/{video}/annotations/mine/").json()
    assert mine["locked_at"] == submitted["locked_at"]
    assert [a["locked_at"] for a in _listed(clients["expert"], video)] == [mine["locked_at"]]
    refused = crowd.put(
        f"/api/v1/videos/{video}/annotations/mine/",
        {"decisions": [], "revision": mine["revision"]},
        format="json",
    )
    assert refused.status_code == 409
    assert crowd.get(f"/api/v1/videos/{video}/annotations/mine/").json() == mine
