"""The filterable video list: each filter, search, and what each role may filter by."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from annotations.models import ConfirmedLabel, LabelSource, Project, TranscriptSegment, Video
from tests.annotations.labeling_fixtures import ready_video, submitted, suggest
from tests.factories import assign, client_for, make_tag, make_video


@pytest.fixture
def videos(project: Project, crowd: User, expert: User) -> dict[str, Video]:
    football = make_tag(project, "Спорт: Футбол")
    found = {
        "match": ready_video(project, title="Матч недели"),
        "recipe": ready_video(project, title="Рецепт борща", description="Готовим дома"),
        "pending": make_video(project, title="Ещё не готово"),
        "talk": ready_video(project, title="Разговор"),
    }
    ConfirmedLabel.objects.create(video=found["match"], tag=football, source=LabelSource.IMPORT)
    suggest(found["recipe"], football, 0.2, above=False)
    submitted(found["talk"], crowd, [football])
    TranscriptSegment.objects.create(
        video=found["talk"], index=0, start_seconds=0, end_seconds=1, text="Говорим о футболе",
        source="asr",
    )  # fmt: skip
    for video in found.values():
        assign(video, crowd)
    return found


def _titles(user: User, project: Project, **params: str) -> set[str]:
    response = client_for(user).get(f"/projects/{project.pk}/videos/", params)
    assert response.status_code == 200
    return {video.title for video in response.context["page"].object_list}


def test_filters_narrow_the_list(
    project: Project, videos: dict[str, Video], expert: User, crowd: User
) -> None:
    tag = str(project.tags.get(path="Спорт: Футбол").pk)
    assert _titles(expert, project, status="pending") == {"Ещё не готово"}
    assert _titles(expert, project, tag=tag) == {"Матч недели", "Разговор"}
    assert _titles(expert, project, confirmed="yes") == {"Матч недели"}
    assert _titles(expert, project, suggested="yes") == {"Рецепт борща"}
    assert _titles(expert, project, annotator=str(crowd.pk)) == {"Разговор"}
    assert len(_titles(expert, project, confirmed="no")) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [("матч", {"Матч недели"}), ("дома", {"Рецепт борща"}), ("футболе", {"Разговор"})],
)
def test_search_covers_title_description_and_transcript(
    project: Project, videos: dict[str, Video], expert: User, query: str, expected: set[str]
) -> None:
    assert _titles(expert, project, q=query) == expected


def test_a_crowd_worker_filters_by_their_own_work_only(
    project: Project, videos: dict[str, Video], crowd: User, other_crowd: User
) -> None:
    tag = str(project.tags.get(path="Спорт: Футбол").pk)
    # The confirmed label of "Матч недели" is not theirs to see; their own decision is.
    assert _titles(crowd, project, tag=tag) == {"Разговор"}
    assert len(_titles(crowd, project, confirmed="yes", annotator=str(other_crowd.pk))) == 4
    assert client_for(other_crowd).get(f"/projects/{project.pk}/videos/").status_code == 404


def test_postgresql_search_finds_other_forms_of_a_russian_word(
    project: Project, videos: dict[str, Video], expert: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("full-text search with the Russian configuration is PostgreSQL's")
    # «футбола» is not a substring of «футболе»: only stemming finds the transcript.
    assert _titles(expert, project, q="футбола") == {"Разговор"}


def test_a_filter_that_does_not_validate_is_left_out_and_the_others_still_apply(
    project: Project, videos: dict[str, Video], expert: User
) -> None:
    assert _titles(expert, project, status="pending", tag="abc") == {"Ещё не готово"}
