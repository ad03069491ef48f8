"""Review: which videos need an expert, confirming labels, history, and the automatic rule."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from annotations.models import (
    ConfirmedLabel,
    Decision,
    LabelChange,
    LabelingMode,
    Project,
    ProjectRole,
    Tag,
    TagDecision,
    Video,
)
from annotations.roles import Role
from annotations.selectors.review import labels_revision, review_sheet, videos_needing_review
from annotations.services.labeling.annotation import AnnotationLocked, decision_set
from annotations.services.labeling.review import (
    ReviewConflict,
    review_confirm,
    video_auto_confirm,
)
from tests.annotations.labeling_fixtures import confirm_now, imported_label, ready_video, submitted
from tests.factories import HTMX, client_for, make_member, make_project, make_tag, make_user

pytestmark = pytest.mark.label_audit


@pytest.fixture
def tags(project: Project) -> dict[str, Tag]:
    return {name: make_tag(project, f"Спорт: {name}") for name in ("Футбол", "Хоккей", "Теннис")}


@pytest.fixture
def two_per_video(project: Project) -> Project:
    project.annotators_per_video = 2
    project.save()
    return project


def _confirmed(video: Video) -> set[str]:
    return set(video.confirmed_labels.values_list("tag__name", flat=True))


def test_agreeing_annotators_confirm_the_labels_automatically(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User
) -> None:
    video = ready_video(two_per_video)
    submitted(video, crowd, [tags["Футбол"], tags["Хоккей"]])
    assert video_auto_confirm(video=video) is False  # one of two: not yet
    submitted(video, other_crowd, [tags["Хоккей"], tags["Футбол"]])
    assert video_auto_confirm(video=video) is True
    assert _confirmed(video) == {"Футбол", "Хоккей"}
    assert set(ConfirmedLabel.objects.values_list("source", flat=True)) == {"agreement"}
    assert LabelChange.objects.filter(video=video, action="added", changed_by=None).count() == 2
    assert not videos_needing_review(two_per_video).exists()


def test_disagreeing_annotators_send_the_video_to_review(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User
) -> None:
    agreed, split, half_done = (ready_video(two_per_video) for _ in range(3))
    for video in (agreed, split):
        submitted(video, crowd, [tags["Футбол"]])
    submitted(agreed, other_crowd, [tags["Футбол"]])
    submitted(split, other_crowd, [tags["Футбол"], tags["Теннис"]])
    submitted(half_done, crowd, [tags["Хоккей"]])
    assert video_auto_confirm(video=split) is False
    assert list(videos_needing_review(two_per_video)) == [split]


def test_without_the_automatic_rule_agreed_videos_wait_for_an_expert(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User
) -> None:
    two_per_video.auto_confirm_agreement = False
    two_per_video.save()
    video = ready_video(two_per_video)
    submitted(video, crowd, [tags["Футбол"]])
    submitted(video, other_crowd, [tags["Футбол"]])
    assert video_auto_confirm(video=video) is False
    assert list(videos_needing_review(two_per_video)) == [video]


def test_review_sheet_shows_each_annotator_side_by_side_and_proposes_the_majority(
    project: Project, tags: dict[str, Tag], crowd: User, other_crowd: User, expert: User
) -> None:
    project.annotators_per_video = 3
    project.save()
    video = ready_video(project)
    submitted(video, crowd, [tags["Футбол"]])
    submitted(video, other_crowd, [tags["Футбол"], tags["Теннис"]])
    submitted(video, expert, [tags["Хоккей"], tags["Футбол"]])
    sheet = review_sheet(video)
    assert [c.annotation.annotator for c in sheet.columns] == [crowd, other_crowd, expert]
    rows = {row.tag.name: (row.votes, row.proposed, row.cells) for row in sheet.rows}
    assert rows == {
        "Футбол": (3, True, ["add", "add", "add"]),
        "Хоккей": (1, False, ["", "", "add"]),
        "Теннис": (1, False, ["", "add", ""]),
    }
    assert not sheet.agreed


def test_confirming_writes_labels_and_a_history_of_who_changed_what_and_why(
    project: Project, tags: dict[str, Tag], expert: User, admin_user: User
) -> None:
    video = ready_video(project)
    imported_label(video, tags["Теннис"])
    confirm_now(video, [tags["Футбол"].pk, tags["Теннис"].pk], expert)
    confirm_now(video, [tags["Футбол"].pk], admin_user, reason="no racket in it")
    assert _confirmed(video) == {"Футбол"}
    history = list(
        LabelChange.objects.filter(video=video)
        .order_by("id")
        .values_list("action", "tag__name", "changed_by", "reason")
    )
    assert history == [
        ("added", "Теннис", None, ""),
        ("added", "Футбол", expert.pk, ""),
        ("confirmed", "Теннис", expert.pk, ""),
        ("removed", "Теннис", admin_user.pk, "no racket in it"),
        ("confirmed", "Футбол", admin_user.pk, ""),
    ]
    label = ConfirmedLabel.objects.get(video=video)
    assert (label.source, label.confirmed_by) == ("review", admin_user)


def test_removing_a_confirmed_tag_without_a_reason_is_refused_and_changes_nothing(
    project: Project, tags: dict[str, Tag], expert: User
) -> None:
    video = ready_video(project)
    imported_label(video, tags["Теннис"])
    with pytest.raises(ValidationError, match="Спорт: Теннис"):
        confirm_now(video, [tags["Футбол"].pk], expert, reason="  ")
    assert _confirmed(video) == {"Теннис"}
    assert list(LabelChange.objects.filter(video=video).values_list("action", flat=True)) == [
        "added"
    ]


def test_the_review_starts_from_the_confirmed_tags_plus_the_uncontradicted_majority(
    project: Project, tags: dict[str, Tag], crowd: User, other_crowd: User
) -> None:
    project.annotators_per_video = 2
    project.save()
    video = ready_video(project)
    imported_label(video, tags["Теннис"])
    first = submitted(video, crowd, [tags["Футбол"], tags["Хоккей"]])
    submitted(video, other_crowd, [tags["Хоккей"]])
    # The second annotator saw "Футбол" suggested and rejected it: a contradiction.
    TagDecision.objects.create(
        annotation=first.video.annotations.get(annotator=other_crowd),
        tag=tags["Футбол"],
        decision=Decision.REJECT,
    )
    rows = {row.tag.name: (row.votes, row.proposed) for row in review_sheet(video).rows}
    assert rows == {"Теннис": (0, True), "Хоккей": (2, True), "Футбол": (1, False)}


def test_the_share_that_proposes_a_tag_is_a_project_setting(
    project: Project, tags: dict[str, Tag], crowd: User, other_crowd: User, expert: User
) -> None:
    video = ready_video(project)
    submitted(video, crowd, [tags["Футбол"], tags["Хоккей"]])
    submitted(video, other_crowd, [tags["Футбол"]])
    submitted(video, expert, [tags["Футбол"]])
    proposed = {row.tag.name for row in review_sheet(video).rows if row.proposed}
    assert proposed == {"Футбол"}  # Хоккей: 1 of 3 is under half
    project.review_majority_share = 0.3
    project.save()
    video.refresh_from_db()
    proposed = {row.tag.name for row in review_sheet(video).rows if row.proposed}
    assert proposed == {"Футбол", "Хоккей"}


def test_agreeing_annotators_who_leave_out_a_confirmed_tag_go_to_review_not_auto_confirm(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User
) -> None:
    video = ready_video(two_per_video)
    imported_label(video, tags["Теннис"])
    submitted(video, crowd, [tags["Футбол"]])
    submitted(video, other_crowd, [tags["Футбол"]])
    assert video_auto_confirm(video=video) is False
    assert _confirmed(video) == {"Теннис"}
    assert list(videos_needing_review(two_per_video)) == [video]


def test_agreement_adds_to_the_confirmed_tags_and_keeps_their_source(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User
) -> None:
    video = ready_video(two_per_video)
    imported_label(video, tags["Теннис"])
    for annotator in (crowd, other_crowd):
        submitted(video, annotator, [tags["Теннис"], tags["Футбол"]])
    assert video_auto_confirm(video=video) is True
    sources = dict(video.confirmed_labels.values_list("tag__name", "source"))
    assert sources == {"Теннис": "import", "Футбол": "agreement"}


def test_an_expert_does_not_review_a_video_they_annotated_while_another_expert_could(
    project: Project, tags: dict[str, Tag], expert: User, admin_user: User
) -> None:
    video = ready_video(project)
    submitted(video, expert, [tags["Футбол"]])
    project.auto_confirm_agreement = False
    project.save()
    assert list(videos_needing_review(project, expert)) == []
    assert list(videos_needing_review(project, admin_user)) == [video]
    with pytest.raises(PermissionDenied):
        confirm_now(video, [tags["Футбол"].pk], expert)
    assert (
        client_for(expert)
        .post(f"/videos/{video.pk}/review/", {"tag": [tags["Футбол"].pk], "revision": 0})
        .status_code
        == 403
    )
    confirm_now(video, [tags["Футбол"].pk], admin_user)
    assert _confirmed(video) == {"Футбол"}


def test_an_expert_reviews_their_own_video_when_no_other_reviewer_exists_or_the_project_allows(
    project: Project, tags: dict[str, Tag], expert: User
) -> None:
    video = ready_video(project)
    submitted(video, expert, [tags["Футбол"]])
    project.auto_confirm_agreement = False
    project.save()
    assert list(videos_needing_review(project, expert)) == [video]
    admin = make_user(Role.ADMIN, "second_reviewer")
    assert list(videos_needing_review(project, expert)) == []
    project.self_review = True
    project.save()
    assert list(videos_needing_review(project, expert)) == [video]
    confirm_now(video, [tags["Футбол"].pk], expert)
    assert admin.pk and _confirmed(video) == {"Футбол"}


def test_confirming_locks_the_submitted_answers_it_was_made_on(
    project: Project, tags: dict[str, Tag], crowd: User, expert: User
) -> None:
    video = ready_video(project)
    answer = submitted(video, crowd, [tags["Футбол"]])
    confirm_now(video, [tags["Футбол"].pk], expert)
    answer.refresh_from_db()
    assert answer.is_locked
    with pytest.raises(AnnotationLocked):
        decision_set(
            annotation=answer, tag=tags["Хоккей"], decision="add", revision=answer.revision
        )
    assert set(answer.decisions.values_list("tag__name", flat=True)) == {"Футбол"}


def test_a_reviewed_video_is_never_overwritten_by_the_automatic_rule(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User, expert: User
) -> None:
    video = ready_video(two_per_video)
    confirm_now(video, [tags["Теннис"].pk], expert)
    submitted(video, crowd, [tags["Футбол"]])
    submitted(video, other_crowd, [tags["Футбол"]])
    assert video_auto_confirm(video=video) is False
    assert _confirmed(video) == {"Теннис"}


def test_confirm_refuses_foreign_tags_and_single_label_needs_one(
    tags: dict[str, Tag], expert: User
) -> None:
    single = make_project("Single", labeling_mode=LabelingMode.SINGLE_LABEL)
    a, b = make_tag(single, "A"), make_tag(single, "B")
    video = ready_video(single)
    with pytest.raises(ValidationError):
        confirm_now(video, [a.pk, b.pk], expert)
    with pytest.raises(ValidationError):
        confirm_now(video, [tags["Футбол"].pk], expert)
    confirm_now(video, [b.pk], expert)
    assert _confirmed(video) == {"B"}


def test_crowd_workers_cannot_review(project: Project, crowd: User) -> None:
    video = ready_video(project)
    assert client_for(crowd).get(f"/projects/{project.pk}/review/").status_code == 403
    assert client_for(crowd).get(f"/videos/{video.pk}/review/").status_code == 403


def test_an_expert_confirms_from_the_review_page_and_gets_the_next_disagreement(
    two_per_video: Project, tags: dict[str, Tag], crowd: User, other_crowd: User, expert: User
) -> None:
    first, second = ready_video(two_per_video), ready_video(two_per_video)
    for video in (first, second):
        submitted(video, crowd, [tags["Футбол"]])
        submitted(video, other_crowd, [tags["Хоккей"]])
    client = client_for(expert)
    listing = client.get(f"/projects/{two_per_video.pk}/review/").content.decode()
    assert first.title in listing and second.title in listing
    page = client.get(f"/videos/{first.pk}/review/").content.decode()
    assert "carl_crowd" in page and "cora_crowd" in page
    response = client.post(
        f"/videos/{first.pk}/review/",
        {"tag": [tags["Хоккей"].pk], "add_path": "Спорт: Теннис", "revision": 0},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/videos/{second.pk}/review/"
    assert _confirmed(first) == {"Хоккей", "Теннис"}
    assert list(videos_needing_review(two_per_video)) == [second]


def test_an_unknown_added_path_is_reported_and_nothing_changes(
    project: Project, tags: dict[str, Tag], expert: User
) -> None:
    video = ready_video(project)
    response = client_for(expert).post(
        f"/videos/{video.pk}/review/",
        {"tag": [tags["Футбол"].pk], "add_path": "Спорт: Кёрлинг"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "Кёрлинг" in response.content.decode()
    assert not ConfirmedLabel.objects.exists()


@pytest.mark.parametrize("value", ["abc", "²", "-3", "9" * 30])
def test_a_tag_value_that_is_not_an_id_is_refused_and_nothing_changes(
    project: Project, tags: dict[str, Tag], expert: User, value: str
) -> None:
    video = ready_video(project)
    response = client_for(expert).post(
        f"/videos/{video.pk}/review/", {"tag": [tags["Футбол"].pk, value]}, headers=HTMX
    )
    assert response.status_code == 422
    assert "not in this project&#x27;s taxonomy" in response.content.decode()
    assert not ConfirmedLabel.objects.exists()


def _single_label_video(votes: dict[str, int], *, confirmed: str = "") -> Video:
    """A video of a single-label project, each tag chosen by as many annotators as given."""
    single = make_project(labeling_mode=LabelingMode.SINGLE_LABEL)
    single.annotators_per_video = sum(votes.values())
    single.save()
    tags = {path: make_tag(single, path) for path in ("Еда", "Музыка", "Спорт")}
    video = ready_video(single)
    if confirmed:
        imported_label(video, tags[confirmed])
    for path, count in votes.items():
        for _ in range(count):
            submitted(video, make_user(Role.CROWD), [tags[path]])
    return video


def _proposed(video: Video) -> list[str]:
    return [row.tag.path for row in review_sheet(video).rows if row.proposed]


@pytest.mark.usefixtures("roles")
def test_a_single_label_sheet_proposes_no_tag_that_only_a_minority_chose() -> None:
    video = _single_label_video({"Музыка": 1, "Спорт": 1, "Еда": 1})
    sheet = review_sheet(video)
    assert [(row.tag.path, row.votes, row.proposed) for row in sheet.rows] == [
        ("Еда", 1, False),
        ("Музыка", 1, False),
        ("Спорт", 1, False),
    ]
    assert sheet.adds == []


@pytest.mark.usefixtures("roles")
def test_a_single_label_sheet_proposes_the_tag_the_share_chose_and_none_on_a_tie() -> None:
    assert _proposed(_single_label_video({"Музыка": 2, "Спорт": 1})) == ["Музыка"]
    # Both reach half of four: a tie, which the expert settles.
    assert _proposed(_single_label_video({"Музыка": 2, "Спорт": 2})) == []


@pytest.mark.usefixtures("roles")
def test_a_single_label_sheet_proposes_the_confirmed_tag_whatever_the_votes() -> None:
    video = _single_label_video({"Музыка": 2, "Спорт": 1}, confirmed="Еда")
    assert _proposed(video) == ["Еда"]


@pytest.fixture
def second_expert(project: Project) -> User:
    user = make_user(Role.EXPERT, "second_expert")
    make_member(project, user, ProjectRole.EXPERT)
    return user


def _imported_with(project: Project, *tags: Tag) -> Video:
    """A video whose tags were confirmed with its import: what both experts open."""
    video = ready_video(project)
    for tag in tags:
        imported_label(video, tag)
    return video


def _history(video: Video) -> list[tuple[str, str, int | None]]:
    return list(
        LabelChange.objects.filter(video=video)
        .order_by("id")
        .values_list("action", "tag__name", "changed_by")
    )


def test_a_confirmation_made_on_a_stale_sheet_is_refused_and_changes_nothing(
    project: Project, tags: dict[str, Tag], expert: User, second_expert: User
) -> None:
    video = _imported_with(project, tags["Футбол"], tags["Теннис"])
    opened = review_sheet(video).revision  # both experts open the sheet
    assert opened == labels_revision(video) > 0
    review_confirm(
        video=video,
        tag_ids=[tags["Теннис"].pk],
        reviewer=expert,
        revision=opened,
        reason="wrong sport",
    )
    history = _history(video)
    with pytest.raises(ReviewConflict) as refused:
        review_confirm(
            video=video,
            tag_ids=[tags["Футбол"].pk, tags["Теннис"].pk],
            reviewer=second_expert,
            revision=opened,
        )
    assert refused.value.revision == labels_revision(video) > opened
    assert _confirmed(video) == {"Теннис"}
    assert _history(video) == history
    # On the sheet as it is now, the second expert's decision goes through.
    review_confirm(
        video=video,
        tag_ids=[tags["Футбол"].pk, tags["Теннис"].pk],
        reviewer=second_expert,
        revision=review_sheet(video).revision,
    )
    assert _confirmed(video) == {"Футбол", "Теннис"}


def test_a_stale_review_page_says_what_happened_and_shows_the_current_tags(
    project: Project, tags: dict[str, Tag], expert: User, second_expert: User
) -> None:
    video = _imported_with(project, tags["Футбол"], tags["Теннис"])
    first, second = client_for(expert), client_for(second_expert)
    opened = second.get(f"/videos/{video.pk}/review/").content.decode()
    revision = labels_revision(video)
    assert f'name="revision" value="{revision}"' in opened
    done = first.post(
        f"/videos/{video.pk}/review/",
        {"tag": [tags["Теннис"].pk], "reason": "wrong sport", "revision": revision},
        headers=HTMX,
    )
    assert done.status_code == 200
    history = _history(video)
    stale = second.post(
        f"/videos/{video.pk}/review/",
        {"tag": [tags["Футбол"].pk, tags["Теннис"].pk], "revision": revision},
        headers=HTMX,
    )
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "changed after this page was loaded" in page
    assert "changed meanwhile" in page and "wrong sport" in page
    assert f'name="revision" value="{labels_revision(video)}"' in page
    # The sheet shows the tags as they are now: the removed one is no longer checked.
    assert not re.search(rf'value="{tags["Футбол"].pk}"[^>]*checked', page)
    assert _confirmed(video) == {"Теннис"}
    assert _history(video) == history


def test_a_review_page_that_sends_no_revision_is_refused_and_changes_nothing(
    project: Project, tags: dict[str, Tag], expert: User
) -> None:
    video = ready_video(project)
    response = client_for(expert).post(
        f"/videos/{video.pk}/review/", {"tag": [tags["Футбол"].pk]}, headers=HTMX
    )
    assert response.status_code == 422
    assert f'name="revision" value="{labels_revision(video)}"' in response.content.decode()
    assert not ConfirmedLabel.objects.exists()


def test_a_page_refused_as_invalid_keeps_the_revision_its_ticks_were_decided_on(
    project: Project, tags: dict[str, Tag], expert: User, second_expert: User
) -> None:
    video = ready_video(project)
    imported_label(video, tags["Теннис"])
    opened = labels_revision(video)
    review_confirm(
        video=video,
        tag_ids=[tags["Теннис"].pk, tags["Хоккей"].pk],
        reviewer=expert,
        revision=opened,
    )
    # Sent from the old sheet with a tag that does not exist: refused as invalid, the
    # sheet keeps its ticks and their base, so sending it again is refused as stale.
    client = client_for(second_expert)
    sent = {"tag": [tags["Теннис"].pk, tags["Футбол"].pk], "revision": opened}
    invalid = client.post(
        f"/videos/{video.pk}/review/", {**sent, "add_path": "Спорт: Кёрлинг"}, headers=HTMX
    )
    assert invalid.status_code == 422
    assert f'name="revision" value="{opened}"' in invalid.content.decode()
    again = client.post(f"/videos/{video.pk}/review/", sent, headers=HTMX)
    assert again.status_code == 409
    assert _confirmed(video) == {"Теннис", "Хоккей"}
