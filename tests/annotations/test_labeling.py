"""Labeling one video: decisions, optimistic locking, submit and skip, and the pages for them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from annotations.models import (
    Annotation,
    Assignment,
    ConfirmedLabel,
    Decision,
    LabelingMode,
    ModelVersion,
    Project,
    Tag,
    TranscriptSegment,
    Video,
)
from annotations.services.labeling.annotation import (
    AnnotationConflict,
    AnnotationLocked,
    annotation_skip,
    annotation_start,
    annotation_submit,
    decision_set,
)
from annotations.services.labeling.gold import gold_mark
from tests.annotations.labeling_fixtures import imported_label, ready_video, suggest
from tests.factories import HTMX, assign, client_for, make_project, make_tag

pytestmark = pytest.mark.label_audit


@pytest.fixture
def video(project: Project, football: Tag, hockey: Tag) -> Video:
    video = ready_video(project, title="Матч недели")
    model = ModelVersion.objects.create(project=project, number=3, state="promoted")
    suggest(video, football, 0.91, rank=1, model=model)
    suggest(video, hockey, 0.40, rank=2, above=False, model=model)
    return video


def _opened_with(
    video: Video, user: User, tag: Tag, decision: str, active_seconds: float = 0.0
) -> Annotation:
    """``user``'s annotation of ``video``, opened, with one decision on ``tag`` (revision 2)."""
    annotation = annotation_start(video=video, annotator=user)
    return decision_set(
        annotation=annotation,
        tag=tag,
        decision=decision,
        revision=1,
        active_seconds=active_seconds,
    )


def _decisions(annotation: Annotation) -> dict[str, str]:
    return {d.tag.path: d.decision for d in annotation.decisions.select_related("tag")}


def test_opening_a_video_creates_one_draft_and_holds_a_lease(video: Video, expert: User) -> None:
    first = annotation_start(video=video, annotator=expert)
    again = annotation_start(video=video, annotator=expert)
    assert first.pk == again.pk
    assert first.state == Annotation.State.DRAFT
    assignment = Assignment.objects.get(video=video, annotator=expert)
    assert assignment.lease_expires_at is not None


def test_accepting_a_suggestion_keeps_its_score_and_model(
    video: Video, expert: User, football: Tag
) -> None:
    annotation = _opened_with(video, expert, football, Decision.ACCEPT)
    decision = annotation.decisions.get()
    assert decision.decision == Decision.ACCEPT
    assert decision.suggested_score == pytest.approx(0.91)
    assert decision.model_version is not None and decision.model_version.number == 3
    assert annotation.revision == 2


def test_adding_a_suggested_tag_accepts_it_and_rejecting_a_typed_tag_removes_it(
    video: Video, expert: User, football: Tag, cooking: Tag
) -> None:
    annotation = _opened_with(video, expert, football, "add")
    annotation = decision_set(annotation=annotation, tag=cooking, decision="add", revision=2)
    assert _decisions(annotation) == {
        "Спорт: Футбол": Decision.ACCEPT,
        "Еда и напитки: Кулинария": Decision.ADD,
    }
    annotation = decision_set(annotation=annotation, tag=cooking, decision="reject", revision=3)
    assert _decisions(annotation) == {"Спорт: Футбол": Decision.ACCEPT}


def test_single_label_choosing_a_tag_replaces_the_previous_choice(expert: User) -> None:
    project = make_project("Single", labeling_mode=LabelingMode.SINGLE_LABEL)
    news, sport = make_tag(project, "Новости"), make_tag(project, "Спорт")
    video = ready_video(project)
    suggest(video, news, 0.7)
    annotation = _opened_with(video, expert, news, "accept")
    annotation = decision_set(annotation=annotation, tag=sport, decision="add", revision=2)
    assert _decisions(annotation) == {"Спорт": Decision.ADD}


def test_an_edit_from_a_stale_page_is_refused_and_changes_nothing(
    video: Video, expert: User, football: Tag, hockey: Tag
) -> None:
    annotation = annotation_start(video=video, annotator=expert)
    decision_set(annotation=annotation, tag=football, decision="accept", revision=1)
    stale = Annotation.objects.get(pk=annotation.pk)
    with pytest.raises(AnnotationConflict) as caught:
        decision_set(annotation=stale, tag=hockey, decision="accept", revision=1)
    assert "another tab" in str(caught.value)
    assert caught.value.annotation.revision == 2
    assert _decisions(annotation) == {"Спорт: Футбол": Decision.ACCEPT}
    with pytest.raises(AnnotationConflict):
        annotation_submit(annotation=stale, revision=1)
    assert Annotation.objects.get(pk=annotation.pk).state == Annotation.State.DRAFT


def test_a_refused_submit_keeps_the_draft(video: Video, expert: User, football: Tag) -> None:
    annotation = _opened_with(video, expert, football, "reject")
    with pytest.raises(ValidationError, match="at least one tag"):
        annotation_submit(annotation=annotation, revision=2)
    annotation.refresh_from_db()
    assert annotation.state == Annotation.State.DRAFT
    assert annotation.revision == 2
    assert _decisions(annotation) == {"Спорт: Футбол": Decision.REJECT}


def test_two_annotators_of_one_video_each_keep_their_own_annotation(
    video: Video, expert: User, admin_user: User, football: Tag, hockey: Tag
) -> None:
    mine = _opened_with(video, expert, football, "accept")
    theirs = _opened_with(video, admin_user, hockey, "accept")
    annotation_submit(annotation=mine, revision=mine.revision)
    annotation_submit(annotation=theirs, revision=theirs.revision)
    assert _decisions(Annotation.objects.get(pk=mine.pk)) == {"Спорт: Футбол": "accept"}
    assert _decisions(Annotation.objects.get(pk=theirs.pk)) == {"Спорт: Хоккей": "accept"}


def test_submit_records_time_and_makes_the_slot_permanent(
    video: Video, expert: User, football: Tag
) -> None:
    annotation = _opened_with(video, expert, football, "accept", active_seconds=12.5)
    result = annotation_submit(annotation=annotation, revision=2, active_seconds=7.5)
    assert result.annotation.state == Annotation.State.SUBMITTED
    assert result.annotation.submitted_at is not None
    assert result.annotation.seconds_spent == pytest.approx(20.0)
    assert Assignment.objects.get(video=video, annotator=expert).lease_expires_at is None


def test_active_seconds_from_a_broken_clock_are_bounded(
    video: Video, expert: User, football: Tag
) -> None:
    annotation = _opened_with(video, expert, football, "accept", active_seconds=-50)
    assert annotation.seconds_spent == 0
    annotation = decision_set(
        annotation=annotation, tag=football, decision=None, revision=2, active_seconds=1e9
    )
    assert annotation.seconds_spent == 3600


def test_editing_a_submitted_annotation_reopens_it_and_the_next_submit_counts_as_a_second(
    project: Project, video: Video, expert: User, football: Tag, hockey: Tag
) -> None:
    project.auto_confirm_agreement = False  # the labels wait for review: still editable
    project.save()
    annotation = annotation_start(video=video, annotator=expert)
    annotation = decision_set(annotation=annotation, tag=football, decision="accept", revision=1)
    annotation = annotation_submit(annotation=annotation, revision=2).annotation
    assert (annotation.submit_count, annotation.resubmitted) == (1, False)
    annotation = decision_set(annotation=annotation, tag=hockey, decision="accept", revision=3)
    assert annotation.state == Annotation.State.DRAFT
    assert annotation.submitted_at is None
    annotation = annotation_submit(annotation=annotation, revision=4).annotation
    annotation.refresh_from_db()
    assert (annotation.state, annotation.submit_count, annotation.resubmitted) == (
        Annotation.State.SUBMITTED,
        2,
        True,
    )


def test_an_answer_whose_labels_were_confirmed_by_agreement_is_locked(
    video: Video, expert: User, football: Tag, hockey: Tag
) -> None:
    annotation = annotation_start(video=video, annotator=expert)
    annotation = decision_set(annotation=annotation, tag=football, decision="accept", revision=1)
    result = annotation_submit(annotation=annotation, revision=2)
    assert result.auto_confirmed
    with pytest.raises(AnnotationLocked):
        decision_set(annotation=result.annotation, tag=hockey, decision="accept", revision=3)
    with pytest.raises(AnnotationLocked):
        annotation_skip(annotation=result.annotation, revision=3, reason="changed my mind")
    result.annotation.refresh_from_db()
    assert result.annotation.state == Annotation.State.SUBMITTED
    assert _decisions(result.annotation) == {"Спорт: Футбол": "accept"}


def test_skip_needs_a_reason_and_gives_the_leased_slot_back(video: Video, expert: User) -> None:
    annotation = annotation_start(video=video, annotator=expert)
    with pytest.raises(ValidationError):
        annotation_skip(annotation=annotation, revision=1, reason="   ")
    annotation = annotation_skip(annotation=annotation, revision=1, reason=" не  открывается ")
    assert annotation.state == Annotation.State.SKIPPED
    assert annotation.skip_reason == "не открывается"
    assert not Assignment.objects.filter(video=video, annotator=expert).exists()


def test_a_crowd_workers_own_assignment_survives_a_skip(video: Video, crowd: User) -> None:
    assign(video, crowd)
    annotation = annotation_start(video=video, annotator=crowd)
    annotation_skip(annotation=annotation, revision=1, reason="no sound")
    assert Assignment.objects.filter(video=video, annotator=crowd).exists()


def test_a_tag_of_another_project_is_refused(video: Video, expert: User) -> None:
    foreign = make_tag(make_project("Other"), "Спорт")
    annotation = annotation_start(video=video, annotator=expert)
    with pytest.raises(ValidationError):
        decision_set(annotation=annotation, tag=foreign, decision="add", revision=1)


# --- Pages -------------------------------------------------------------------------


def test_label_page_shows_suggestions_transcript_and_guidelines(
    project: Project, video: Video, expert: User
) -> None:
    project.guidelines = "## Rules\n\n* be **precise**\n\n<script>alert(1)</script>"
    project.save()
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=0, end_seconds=2.5, text="Гол!", source="asr"
    )
    response = client_for(expert).get(f"/videos/{video.pk}/label/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Футбол" in html and "0.91" in html and "v3" in html
    assert 'data-seek="0.0"' in html and "Гол!" in html
    assert "<strong>precise</strong>" in html
    assert "<script>alert" not in html


def test_the_labeling_page_says_when_a_video_opened_directly_is_already_confirmed(
    project: Project, video: Video, expert: User, crowd: User, admin_user: User, football: Tag
) -> None:
    expert_client = client_for(expert)
    assert b'id="labeling-closed"' not in expert_client.get(f"/videos/{video.pk}/label/").content
    imported_label(video, football)
    html = expert_client.get(f"/videos/{video.pk}/label/").content.decode()
    assert 'id="labeling-closed"' in html and "already confirmed" in html
    assert Annotation.objects.get(video=video, annotator=expert).state == Annotation.State.DRAFT
    # Gold is confirmed too, but the page never tells it apart from work still to do.
    gold = ready_video(project)
    imported_label(gold, football)
    gold_mark(video=gold, user=admin_user)
    assign(gold, crowd)
    assert b'id="labeling-closed"' not in client_for(crowd).get(f"/videos/{gold.pk}/label/").content


def test_crowd_worker_cannot_open_an_unassigned_video_for_labeling(
    video: Video, crowd: User
) -> None:
    assert client_for(crowd).get(f"/videos/{video.pk}/label/").status_code == 404
    assert not Annotation.objects.exists()
    assign(video, crowd)
    assert client_for(crowd).get(f"/videos/{video.pk}/label/").status_code == 200


def test_nobody_can_post_decisions_to_someone_elses_annotation(
    video: Video, expert: User, admin_user: User, football: Tag
) -> None:
    annotation = annotation_start(video=video, annotator=expert)
    response = client_for(admin_user).post(
        f"/annotations/{annotation.pk}/decisions/",
        {"tag": football.pk, "decision": "accept", "revision": 1},
    )
    assert response.status_code == 404
    assert not annotation.decisions.exists()


def _open(client: Client, video: Video, user: User) -> Annotation:
    assert client.get(f"/videos/{video.pk}/label/").status_code == 200
    return Annotation.objects.get(video=video, annotator=user)


def test_a_stale_decision_is_answered_with_409_and_the_current_state(
    video: Video, expert: User, football: Tag, hockey: Tag
) -> None:
    client = client_for(expert)
    annotation = _open(client, video, expert)
    url = f"/annotations/{annotation.pk}/decisions/"
    ok = client.post(url, {"tag": football.pk, "decision": "accept", "revision": 1}, headers=HTMX)
    assert ok.status_code == 200
    assert 'id="revision" name="revision" value="2"' in ok.content.decode()
    stale = client.post(url, {"tag": hockey.pk, "decision": "accept", "revision": 1}, headers=HTMX)
    assert stale.status_code == 409
    assert stale["HX-Retarget"] == "#decisions"
    assert "another tab" in stale.content.decode()
    assert _decisions(annotation) == {"Спорт: Футбол": "accept"}


@pytest.mark.parametrize("tag", ["abc", "", "-1", "1.0", "²", "9" * 30, "0"])
def test_a_decision_for_a_tag_that_is_not_a_tag_of_the_project_is_refused_in_the_panel(
    video: Video, expert: User, football: Tag, tag: str
) -> None:
    client = client_for(expert)
    annotation = _open(client, video, expert)
    response = client.post(
        f"/annotations/{annotation.pk}/decisions/",
        {"tag": tag, "decision": "accept", "revision": 1},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#decisions"
    html = response.content.decode()
    assert "not in this project&#x27;s taxonomy" in html
    assert 'id="revision" name="revision" value="1"' in html
    assert not annotation.decisions.exists()


def test_a_tag_of_another_project_is_refused_in_the_panel(video: Video, expert: User) -> None:
    foreign = make_tag(make_project("Other"), "Спорт")
    client = client_for(expert)
    annotation = _open(client, video, expert)
    response = client.post(
        f"/annotations/{annotation.pk}/decisions/",
        {"tag": foreign.pk, "decision": "add", "revision": 1},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "not in this project&#x27;s taxonomy" in response.content.decode()
    assert not annotation.decisions.exists()


def test_submit_answers_with_the_next_video_and_pushes_its_address(
    project: Project, video: Video, expert: User, football: Tag
) -> None:
    following = ready_video(project, title="Следующее видео")
    client = client_for(expert)
    annotation = _open(client, video, expert)
    client.post(
        f"/annotations/{annotation.pk}/decisions/",
        {"tag": football.pk, "decision": "accept", "revision": 1},
        headers=HTMX,
    )
    response = client.post(f"/annotations/{annotation.pk}/submit/", {"revision": 2}, headers=HTMX)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/videos/{following.pk}/label/"
    html = response.content.decode()
    assert "Следующее видео" in html and 'id="label-main"' in html
    assert "<html" not in html
    assert Annotation.objects.get(pk=annotation.pk).state == Annotation.State.SUBMITTED


def test_submit_without_a_tag_says_why_and_keeps_the_draft(video: Video, expert: User) -> None:
    client = client_for(expert)
    annotation = _open(client, video, expert)
    response = client.post(f"/annotations/{annotation.pk}/submit/", {"revision": 1}, headers=HTMX)
    assert response.status_code == 422
    assert "at least one tag" in response.content.decode()
    assert Annotation.objects.get(pk=annotation.pk).state == Annotation.State.DRAFT


def test_the_last_submit_shows_the_empty_queue(video: Video, expert: User, football: Tag) -> None:
    client = client_for(expert)
    annotation = _open(client, video, expert)
    decision_set(annotation=annotation, tag=football, decision="accept", revision=1)
    response = client.post(f"/annotations/{annotation.pk}/submit/", {"revision": 2}, headers=HTMX)
    assert "Nothing left in your queue" in response.content.decode()
    assert response["HX-Push-Url"] == f"/projects/{video.project_id}/label/"


def test_skip_from_the_page_needs_a_reason(video: Video, expert: User) -> None:
    client = client_for(expert)
    annotation = _open(client, video, expert)
    url = f"/annotations/{annotation.pk}/skip/"
    assert client.post(url, {"revision": 1, "reason": ""}, headers=HTMX).status_code == 422
    assert client.post(url, {"revision": 1, "reason": "нет звука"}, headers=HTMX).status_code == 200
    assert Annotation.objects.get(pk=annotation.pk).skip_reason == "нет звука"


def test_activity_adds_active_seconds_without_a_new_revision(video: Video, expert: User) -> None:
    client = client_for(expert)
    annotation = _open(client, video, expert)
    response = client.post(f"/annotations/{annotation.pk}/activity/", {"active_seconds": "4.5"})
    assert response.status_code == 204
    annotation.refresh_from_db()
    assert annotation.seconds_spent == pytest.approx(4.5)
    assert annotation.revision == 1


def test_tag_search_is_case_insensitive_in_russian_and_ranks_by_the_model_score(
    project: Project, video: Video, expert: User, football: Tag, hockey: Tag
) -> None:
    make_tag(project, "Спорт: Футбольные новости")  # matches, but has no score
    client = client_for(expert)
    _open(client, video, expert)
    html = client.get(f"/videos/{video.pk}/label/tags/", {"q": "СПОРТ"}).content.decode()
    order = [html.index(name) for name in ("Футбол<", "Хоккей<", "Футбольные новости<")]
    assert order == sorted(order)
    assert 'class="parent">Спорт<' in html  # a child is shown with its parents
    nothing = client.get(f"/videos/{video.pk}/label/tags/", {"q": "кулинария"})
    assert "No tag matches" in nothing.content.decode()


def test_a_confirmed_label_needs_agreement_not_a_single_submit(
    project: Project, video: Video, expert: User, admin_user: User, football: Tag
) -> None:
    project.annotators_per_video = 2
    project.save()
    for user in (expert, admin_user):
        annotation = _opened_with(video, user, football, "accept")
        result = annotation_submit(annotation=annotation, revision=2)
        assert result.auto_confirmed == (user == admin_user)
    assert list(ConfirmedLabel.objects.values_list("tag__path", "source")) == [
        ("Спорт: Футбол", "agreement")
    ]


def test_the_labeling_page_says_whether_the_answer_can_still_change(
    project: Project, video: Video, expert: User, football: Tag
) -> None:
    project.auto_confirm_agreement = False
    project.save()
    annotation = annotation_start(video=video, annotator=expert)
    annotation = decision_set(annotation=annotation, tag=football, decision="accept", revision=1)
    annotation_submit(annotation=annotation, revision=2)
    client = client_for(expert)
    page = client.get(f"/videos/{video.pk}/label/").content.decode()
    assert "can still change it until the video" in page
    assert 'id="submit-button" data-submit disabled' not in page
    Annotation.objects.filter(pk=annotation.pk).update(locked_at=timezone.now())
    page = client.get(f"/videos/{video.pk}/label/").content.decode()
    assert "it can no longer change" in page
    assert 'id="submit-button" data-submit disabled' in page
