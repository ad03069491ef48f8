"""Deprecated tags in review: marked, never proposed, never added, kept where confirmed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import override

from annotations.models import ConfirmedLabel, LabelingMode, Project, Tag, Video
from annotations.selectors.review import review_sheet, videos_needing_review
from annotations.services.labeling.review import video_auto_confirm
from annotations.services.taxonomy_edit import tag_deprecate
from tests.annotations.labeling_fixtures import confirm_now, imported_label, ready_video, submitted
from tests.api.conftest import token_client
from tests.factories import HTMX, client_for, make_project, make_tag

pytestmark = pytest.mark.label_audit


@pytest.fixture
def two_per_video(project: Project) -> Project:
    project.annotators_per_video = 2
    project.save()
    return project


@pytest.fixture
def deprecated(project: Project, admin_user: User) -> Tag:
    """A tag annotators could choose before it was deprecated."""
    tag = make_tag(project, "Спорт: Хоккей")
    tag_deprecate(tag=tag, by=admin_user)
    tag.refresh_from_db()
    return tag


def _confirmed(video: Video) -> set[str]:
    return set(video.confirmed_labels.values_list("tag__path", flat=True))


def _split_video(project: Project, football: Tag, hockey: Tag, a: User, b: User) -> Video:
    """Both annotators chose football; one also chose hockey: a disagreement to review."""
    video = ready_video(project)
    submitted(video, a, [football, hockey])
    submitted(video, b, [football])
    return video


def test_a_deprecated_tag_the_majority_chose_is_marked_and_does_not_start_checked(
    two_per_video: Project, football: Tag, crowd: User, other_crowd: User, expert: User
) -> None:
    hockey = make_tag(two_per_video, "Спорт: Хоккей")
    video = ready_video(two_per_video)
    submitted(video, crowd, [football, hockey])
    submitted(video, other_crowd, [football, hockey])
    tag_deprecate(tag=hockey, by=expert)
    rows = {
        row.tag.path: (row.votes, row.proposed, row.deprecated) for row in review_sheet(video).rows
    }
    assert rows == {"Спорт: Футбол": (2, True, False), "Спорт: Хоккей": (2, False, True)}

    client = client_for(expert)
    with override("ru"):  # the language the page activates is put back after it
        client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
        page = client.get(f"/videos/{video.pk}/review/").content.decode()
    hockey_row = page[page.index(f'value="{hockey.pk}"') :].split("</tr>")[0]
    assert "checked" not in hockey_row.split(">")[0]
    assert "устаревший" in hockey_row


def test_a_single_label_review_never_proposes_a_deprecated_tag_however_many_chose_it(
    crowd: User, other_crowd: User, expert: User
) -> None:
    single = make_project("Single", labeling_mode=LabelingMode.SINGLE_LABEL, annotators_per_video=3)
    news, cinema = make_tag(single, "Новости"), make_tag(single, "Кино")
    by_most, by_few = ready_video(single), ready_video(single)
    for video, chose_news in ((by_most, (crowd, other_crowd)), (by_few, (crowd,))):
        for person in (crowd, other_crowd, expert):
            submitted(video, person, [news if person in chose_news else cinema])
    tag_deprecate(tag=news, by=expert)

    def proposed(video: Video) -> list[str]:
        return [row.tag.path for row in review_sheet(video).rows if row.proposed]

    # Two of three chose the deprecated tag: the one left is a minority's, so none.
    assert proposed(by_most) == []
    assert proposed(by_few) == ["Кино"]


def test_confirming_a_deprecated_tag_on_a_video_without_it_is_refused_naming_it(
    project: Project, football: Tag, deprecated: Tag, crowd: User, other_crowd: User, expert: User
) -> None:
    video = _split_video(project, football, deprecated, crowd, other_crowd)
    with pytest.raises(ValidationError, match=r"no longer added to videos: Спорт: Хоккей\."):
        confirm_now(video, [football.pk, deprecated.pk], expert)
    assert not ConfirmedLabel.objects.exists()
    confirm_now(video, [football.pk], expert)
    assert _confirmed(video) == {"Спорт: Футбол"}


def test_a_confirmed_label_of_a_deprecated_tag_stays_until_an_expert_unchecks_it(
    project: Project, football: Tag, admin_user: User, expert: User
) -> None:
    hockey = make_tag(project, "Спорт: Хоккей")
    video = ready_video(project)
    imported_label(video, hockey)
    tag_deprecate(tag=hockey, by=admin_user)
    row = next(row for row in review_sheet(video).rows if row.tag == hockey)
    assert (row.confirmed, row.proposed, row.deprecated) == (True, True, True)

    confirm_now(video, [football.pk, hockey.pk], expert)
    assert _confirmed(video) == {"Спорт: Футбол", "Спорт: Хоккей"}
    confirm_now(video, [football.pk], expert, reason="no longer used")
    assert _confirmed(video) == {"Спорт: Футбол"}


@pytest.mark.parametrize("how", ["ticked", "typed in the add box"])
def test_the_review_page_refuses_to_add_a_deprecated_tag_and_says_which(
    project: Project,
    football: Tag,
    deprecated: Tag,
    crowd: User,
    other_crowd: User,
    expert: User,
    how: str,
) -> None:
    video = _split_video(project, football, deprecated, crowd, other_crowd)
    form: dict[str, object] = {"tag": [football.pk], "revision": review_sheet(video).revision}
    if how == "ticked":
        form["tag"] = [football.pk, deprecated.pk]
    else:
        form["add_path"] = "Спорт: Хоккей"
    response = client_for(expert).post(f"/videos/{video.pk}/review/", form, headers=HTMX)
    assert response.status_code == 422
    assert "no longer added to videos: Спорт: Хоккей." in response.content.decode()
    assert not ConfirmedLabel.objects.exists()


def test_the_review_api_marks_deprecated_rows_and_refuses_to_add_them(
    project: Project, football: Tag, deprecated: Tag, crowd: User, other_crowd: User, expert: User
) -> None:
    video = _split_video(project, football, deprecated, crowd, other_crowd)
    api = token_client(expert)
    sheet = api.get(f"/api/v1/videos/{video.pk}/review/").json()
    assert {row["tag"]: (row["proposed"], row["deprecated"]) for row in sheet["rows"]} == {
        "Спорт: Футбол": (True, False),
        "Спорт: Хоккей": (False, True),
    }
    refused = api.post(
        f"/api/v1/videos/{video.pk}/review/",
        {"tags": ["Спорт: Футбол", "Спорт: Хоккей"], "revision": sheet["revision"]},
        format="json",
    )
    assert refused.status_code == 400
    assert "no longer added to videos: Спорт: Хоккей." in refused.json()["detail"]
    assert not ConfirmedLabel.objects.exists()


def test_agreement_confirms_only_the_agreed_tags_in_use(
    two_per_video: Project, football: Tag, deprecated: Tag, crowd: User, other_crowd: User
) -> None:
    video = ready_video(two_per_video)
    submitted(video, crowd, [football, deprecated])
    submitted(video, other_crowd, [football, deprecated])
    assert video_auto_confirm(video=video) is True
    assert _confirmed(video) == {"Спорт: Футбол"}
    assert not videos_needing_review(two_per_video).exists()


def test_a_choice_of_a_deprecated_tag_neither_makes_nor_breaks_an_agreement(
    two_per_video: Project, football: Tag, deprecated: Tag, crowd: User, other_crowd: User
) -> None:
    video = _split_video(two_per_video, football, deprecated, crowd, other_crowd)
    assert video_auto_confirm(video=video) is True
    assert _confirmed(video) == {"Спорт: Футбол"}

    only_deprecated = ready_video(two_per_video)
    submitted(only_deprecated, crowd, [deprecated])
    submitted(only_deprecated, other_crowd, [deprecated])
    assert video_auto_confirm(video=only_deprecated) is False
    assert not only_deprecated.confirmed_labels.exists()
    # Nothing in use was agreed on: an expert decides.
    assert list(videos_needing_review(two_per_video)) == [only_deprecated]
