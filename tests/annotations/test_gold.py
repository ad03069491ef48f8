"""Gold videos check the annotators: assigned with their work and handed out like any other
video, never changed by answers (what a crowd worker sees of them: test_gold_unseen)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import (
    Assignment,
    ConfirmedLabel,
    GoldVideo,
    Project,
    ProjectQuality,
    ReviewRequest,
    Tag,
    Video,
)
from annotations.selectors.quality import annotator_accuracy
from annotations.selectors.review import videos_needing_review
from annotations.services.labeling.assignment import work_reassign
from annotations.services.labeling.queue import next_video_for, queue_remaining
from tests.annotations.gold_fixtures import assign_all, gold_video
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted
from tests.factories import assign, client_for, make_member

pytestmark = pytest.mark.label_audit


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
    golds = [gold_video(project, football, admin_user) for _ in range(4)]
    for _ in range(9):
        ready_video(project)
    assign_all(project, admin_user, crowd)

    # The worker gets gold wrong: cooking instead of football.
    handed = _answer_all(crowd, project, [cooking])

    gold_ids = {video.pk for video in golds}
    given = [video for video in handed if video.pk in gold_ids]
    # A quarter of their work: three gold videos with nine others (of four there are).
    assert len(handed) == 12 and len(given) == 3
    # Gold comes in the queue's order, as every video assigned to them does.
    assert [video.pk for video in handed] == sorted(video.pk for video in handed)
    for video in given:
        assert list(ConfirmedLabel.objects.filter(video=video).values_list("tag", flat=True)) == [
            football.pk
        ]
    assert not set(given) & set(videos_needing_review(project))
    # Nothing on the crowd's labeling page tells gold apart.
    page = client_for(crowd).get(f"/videos/{given[0].pk}/").content.decode()
    assert "gold" not in page.lower()


def test_gold_keeps_its_share_of_the_queue_while_other_confirmed_videos_leave_it(
    project: Project, football: Tag, crowd: User, admin_user: User
) -> None:
    ProjectQuality.objects.create(project=project, gold_share=0.25)
    golds = {gold_video(project, football, admin_user) for _ in range(3)}
    imported = set()
    for _ in range(4):
        confirmed = ready_video(project)
        assign(confirmed, crowd)
        imported_label(confirmed, football)  # after it was assigned: it is passed by
        imported.add(confirmed)
    for _ in range(9):
        ready_video(project)
    assign_all(project, admin_user, crowd)

    handed = _answer_all(crowd, project, [football])

    given = golds & set(handed)
    assert not imported & set(handed)
    # A quarter of the work they do: the videos passed by are none of it.
    assert len(handed) == 12 and len(given) == 3


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
        gold = gold_video(project, football, admin_user)
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


def test_gold_goes_with_the_work_a_crowd_worker_is_given_and_stays_when_it_moves_on(
    project: Project,
    football: Tag,
    crowd: User,
    other_crowd: User,
    expert: User,
    admin_user: User,
) -> None:
    ProjectQuality.objects.create(project=project, gold_share=0.25)
    golds = {gold_video(project, football, admin_user).pk for _ in range(3)}
    for _ in range(12):
        ready_video(project)
    for person in (crowd, other_crowd):
        make_member(project, person)
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/assign/",
        {"annotators": [crowd.pk, expert.pk], "mode": "each", "count": 6},
        follow=True,
    )

    def gold_of(user: User) -> set[int]:
        held = Assignment.objects.filter(annotator=user, video__project=project)
        return set(held.filter(video__in=golds).values_list("video", flat=True))

    # Six videos each; the crowd worker also gets the two gold that go with six.
    assert len(gold_of(crowd)) == 2 and not gold_of(expert)
    assert "2 gold videos went with them" in response.content.decode()

    work_reassign(project=project, from_user=crowd, to_users=[other_crowd])

    assert not Assignment.objects.filter(annotator=crowd).exists()
    assert len(gold_of(other_crowd)) == 2
    assert queue_remaining(other_crowd, project) == 8
