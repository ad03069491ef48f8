"""Gold videos check the annotators: handed out like any other, never changed by answers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import (
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
from annotations.services.labeling.gold import gold_mark
from annotations.services.labeling.queue import next_video_for
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted
from tests.factories import assign, client_for

pytestmark = pytest.mark.label_audit


def _gold(project: Project, tag: Tag, admin: User) -> Video:
    video = ready_video(project)
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
