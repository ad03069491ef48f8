"""What the labeling page sends about an annotation (under /annotations/<id>/), walked from
the URL configuration: it reaches the annotation only while its annotator may still open
the video, so someone removed from the project, or whose project was archived, can no
longer change or submit their old answer there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, reverse

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Decision,
    Membership,
    Project,
    Tag,
    TagDecision,
)
from annotations.services.labeling.annotation import annotation_start, decision_set
from annotations.services.projects import project_archive
from annotations.urls import annotation_patterns
from tests.factories import assign, client_for, make_project, make_tag, make_video

pytestmark = pytest.mark.label_audit

MISSING = 999_999_999


@dataclass(frozen=True)
class Started:
    """``user``'s annotation of a video of ``project``, with one tag added (revision 2)."""

    project: Project
    tag: Tag
    annotation: Annotation


def _started(user: User, name: str) -> Started:
    project = make_project(name)
    # One annotator per video: a submit would confirm the tags on agreement at once.
    project.annotators_per_video = 1
    project.save(update_fields=["annotators_per_video"])
    tag = make_tag(project, "Спорт: Футбол")
    video = make_video(project, title=f"Матч {name}")
    assign(video, user)
    annotation = annotation_start(video=video, annotator=user)
    annotation = decision_set(annotation=annotation, tag=tag, decision=Decision.ADD, revision=1)
    return Started(project, tag, annotation)


def _data(started: Started) -> dict[str, Any]:
    """What the page sends to every route, each reading the fields it needs."""
    return {
        "tag": started.tag.pk,
        "decision": Decision.REJECT,
        "revision": started.annotation.revision,
        "reason": "Не видно",
        "active_seconds": 30,
    }


ROUTES = [str(pattern.name) for pattern in annotation_patterns if isinstance(pattern, URLPattern)]


def _post(client: Client, route: str, annotation_id: int, data: dict[str, Any]) -> int:
    return client.post(reverse(route, args=[annotation_id]), data).status_code


def _state_of(started: Started) -> dict[str, Any]:
    annotation = Annotation.objects.filter(pk=started.annotation.pk)
    return {
        "annotation": annotation.values(
            "state", "revision", "seconds_spent", "submit_count", "skip_reason"
        ).get(),
        "decisions": sorted(
            TagDecision.objects.filter(annotation=started.annotation).values_list("tag", "decision")
        ),
        "confirmed": ConfirmedLabel.objects.filter(video__project=started.project).count(),
    }


def test_every_annotation_route_is_walked() -> None:
    assert set(ROUTES) == {
        "decision_save",
        "annotation_submit",
        "annotation_skip",
        "annotation_activity",
    }


@pytest.mark.parametrize(
    "lose_access",
    [
        pytest.param(
            lambda started, user: Membership.objects.filter(
                project=started.project, user=user
            ).delete(),
            id="removed from the project",
        ),
        pytest.param(
            lambda started, user: project_archive(project=started.project),
            id="project archived",
        ),
    ],
)
def test_an_annotator_who_lost_the_project_cannot_change_or_submit_their_annotation(
    crowd: User, lose_access: Callable[[Started, User], object]
) -> None:
    _started(crowd, "A")  # still a member somewhere
    theirs = _started(crowd, "B")
    lose_access(theirs, crowd)
    before = _state_of(theirs)
    client = client_for(crowd)
    failures = []
    for route in ROUTES:
        status = _post(client, route, theirs.annotation.pk, _data(theirs))
        missing = _post(client, route, MISSING, _data(theirs))
        if (status, missing) != (404, 404):
            failures.append(f"{route}: {status} (an id that names nothing: {missing})")
    assert not failures, "\n".join(failures)
    assert _state_of(theirs) == before


def test_a_user_of_another_project_cannot_reach_an_annotation_there(
    crowd: User, other_crowd: User
) -> None:
    _started(crowd, "A")
    theirs = _started(other_crowd, "B")
    before = _state_of(theirs)
    client = client_for(crowd)
    statuses = {
        route: _post(client, route, theirs.annotation.pk, _data(theirs)) for route in ROUTES
    }
    assert statuses == dict.fromkeys(ROUTES, 404)
    assert _state_of(theirs) == before


@pytest.mark.parametrize("route", ROUTES)
def test_a_member_still_reaches_their_annotation_through_every_route(
    crowd: User, route: str
) -> None:
    started = _started(crowd, "A")
    assert _post(client_for(crowd), route, started.annotation.pk, _data(started)) in (
        200,
        204,
        302,
    )
