"""The queue: overlap, leases, crowd assignments, order, and no slot handed out twice."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.utils import timezone

from annotations.models import (
    Annotation,
    Assignment,
    LabelSource,
    Project,
    QueueOrder,
    Tag,
    Video,
    VideoStatus,
)
from annotations.roles import Role
from annotations.services.labeling.annotation import annotation_skip, annotation_start
from annotations.services.labeling.queue import (
    MARK_REFRESH,
    lease_duration,
    next_video_for,
    queue_mark,
    queue_remaining,
)
from tests.annotations.labeling_fixtures import imported_label, ready_video, submitted, suggest
from tests.factories import assign, confirm_label, make_member, make_tag, make_user, make_video


@pytest.fixture
def experts(roles: None, project: Project) -> list[User]:
    """Three experts, members of the project."""
    users = [make_user(Role.EXPERT, f"expert{i}") for i in range(3)]
    for user in users:
        make_member(project, user)
    return users


def test_upload_order_hands_out_the_oldest_ready_video(project: Project, expert: User) -> None:
    make_video(project, title="still processing", status=VideoStatus.PROCESSING)
    first, second = ready_video(project), ready_video(project)
    assert next_video_for(expert, project) == first
    assert Assignment.objects.get(annotator=expert).video == first
    # Asking again gives the same video back while its lease runs.
    assert next_video_for(expert, project) == first
    submitted(first, expert, [])
    assert next_video_for(expert, project) == second


def test_each_video_is_handed_to_as_many_annotators_as_the_project_asks(
    project: Project, experts: list[User]
) -> None:
    project.annotators_per_video = 2
    project.save()
    first, second = ready_video(project), ready_video(project)
    got = [next_video_for(user, project) for user in experts]
    assert got == [first, first, second]


def test_a_lease_that_runs_out_returns_the_slot(project: Project, experts: list[User]) -> None:
    video = ready_video(project)
    now = timezone.now()
    assert next_video_for(experts[0], project, now=now) == video
    assert next_video_for(experts[1], project, now=now) is None
    later = now + lease_duration() + dt.timedelta(seconds=1)
    assert next_video_for(experts[1], project, now=later) == video


def test_a_submitted_slot_never_expires(project: Project, experts: list[User]) -> None:
    video = ready_video(project)
    assert next_video_for(experts[0], project) == video
    Assignment.objects.filter(annotator=experts[0]).update(lease_expires_at=None)
    submitted(video, experts[0], [])
    far = timezone.now() + dt.timedelta(days=30)
    assert next_video_for(experts[1], project, now=far) is None


def test_a_skip_returns_the_slot_and_the_skipper_never_gets_the_video_again(
    project: Project, experts: list[User]
) -> None:
    video = ready_video(project)
    assert next_video_for(experts[0], project) == video
    annotation = annotation_start(video=video, annotator=experts[0])
    annotation_skip(annotation=annotation, revision=1, reason="broken")
    assert next_video_for(experts[0], project) is None
    assert next_video_for(experts[1], project) == video


def test_a_video_behind_the_queue_mark_that_regains_a_slot_comes_back_after_the_refresh(
    project: Project, experts: list[User]
) -> None:
    done, first_open = ready_video(project), ready_video(project)
    now = timezone.now()
    annotation = submitted(done, experts[0], [])
    Assignment.objects.create(video=done, annotator=experts[0])  # standing: the slot is used
    assert next_video_for(experts[1], project, now=now) == first_open  # the mark moved past
    Annotation.objects.filter(pk=annotation.pk).update(state=Annotation.State.SKIPPED)
    assert next_video_for(experts[2], project, now=now) is None  # first_open is leased
    later = now + MARK_REFRESH + dt.timedelta(seconds=1)
    assert next_video_for(experts[2], project, now=later) == done


def test_crowd_workers_get_only_their_assignments_drafts_first(
    project: Project, crowd: User, other_crowd: User
) -> None:
    project.annotators_per_video = 2
    project.save()
    theirs, mine_first, mine_second = (ready_video(project) for _ in range(3))
    assign(theirs, other_crowd)
    assign(mine_first, crowd)
    assign(mine_second, crowd)
    annotation_start(video=mine_second, annotator=crowd)  # a draft is resumed first
    assert next_video_for(crowd, project) == mine_second
    Annotation.objects.filter(video=mine_second, annotator=crowd).update(
        state=Annotation.State.SUBMITTED, submitted_at=timezone.now()
    )
    assert next_video_for(crowd, project) == mine_first
    submitted(mine_first, crowd, [])
    assert next_video_for(crowd, project) is None


def test_an_assigned_video_already_labeled_by_enough_others_is_not_handed_out(
    project: Project, crowd: User, expert: User
) -> None:
    video = ready_video(project)
    assign(video, crowd)
    submitted(video, expert, [])
    assert next_video_for(crowd, project) is None


def test_experts_fill_the_slots_crowd_assignments_leave_open(
    project: Project, crowd: User, other_crowd: User, expert: User
) -> None:
    project.annotators_per_video = 2
    project.save()
    both, one = ready_video(project), ready_video(project)
    for user in (crowd, other_crowd):
        assign(both, user)
    assign(one, crowd)
    assert next_video_for(expert, project) == one


@pytest.mark.parametrize("source", LabelSource.values)
def test_a_pool_annotator_is_not_served_a_video_whose_tags_are_confirmed(
    project: Project, expert: User, football: Tag, source: str
) -> None:
    confirmed, still_open = ready_video(project), ready_video(project)
    confirm_label(confirmed, football, source=source)
    assert next_video_for(expert, project) == still_open
    submitted(still_open, expert, [football])
    assert next_video_for(expert, project) is None


def test_the_queue_counts_exactly_the_videos_it_hands_out(
    project: Project, expert: User, football: Tag
) -> None:
    videos = [ready_video(project) for _ in range(6)]
    for imported in videos[::2]:  # imported with their tags, between the open ones
        imported_label(imported, football)
    assert queue_remaining(expert, project) == 3
    handed: list[Video] = []
    while (video := next_video_for(expert, project)) is not None:
        assert queue_remaining(expert, project, besides=video) == 3 - len(handed) - 1
        handed.append(video)
        submitted(video, expert, [])
    assert handed == videos[1::2]
    assert queue_remaining(expert, project) == 0


def test_the_queue_mark_skips_the_videos_imported_with_their_tags(
    project: Project, expert: User, football: Tag
) -> None:
    imported = [ready_video(project) for _ in range(3)]
    for video in imported:
        imported_label(video, football)
    first_open = ready_video(project)
    mark = queue_mark(project)
    assert mark is not None and mark.video_id == first_open.pk


def test_a_video_confirmed_while_leased_is_not_resumed(
    project: Project, expert: User, football: Tag
) -> None:
    leased, other = ready_video(project), ready_video(project)
    assert next_video_for(expert, project) == leased
    annotation_start(video=leased, annotator=expert)
    confirm_label(leased, football, source=LabelSource.REVIEW)
    assert next_video_for(expert, project) == other
    # The draft is left as it is: opened again, the page says the video is confirmed.
    assert Annotation.objects.get(video=leased, annotator=expert).state == Annotation.State.DRAFT


def test_a_crowd_workers_assignment_of_a_confirmed_video_is_not_served_not_even_its_draft(
    project: Project, crowd: User, football: Tag
) -> None:
    imported, reviewed, still_open = (ready_video(project) for _ in range(3))
    for video in (imported, reviewed, still_open):
        assign(video, crowd)
    imported_label(imported, football)
    annotation_start(video=reviewed, annotator=crowd)  # a draft would be served first
    confirm_label(reviewed, football, source=LabelSource.REVIEW)
    assert queue_remaining(crowd, project) == 1
    assert next_video_for(crowd, project) == still_open
    submitted(still_open, crowd, [football])
    assert next_video_for(crowd, project) is None
    assert queue_remaining(crowd, project) == 0


def test_a_user_without_a_role_gets_nothing(project: Project, no_role_user: User) -> None:
    ready_video(project)
    assert next_video_for(no_role_user, project) is None


def test_uncertain_order_starts_with_the_smallest_margin(project: Project, expert: User) -> None:
    project.queue_order = QueueOrder.UNCERTAIN
    project.save()
    sure, unsure, nothing_proposed, unscored = (ready_video(project) for _ in range(4))
    a, b = make_tag(project, "A"), make_tag(project, "B")
    suggest(sure, a, 0.95)
    suggest(sure, b, 0.05, rank=2, above=False)
    suggest(unsure, a, 0.52)
    suggest(unsure, b, 0.48, rank=2, above=False)
    suggest(nothing_proposed, a, 0.30, above=False)
    order = []
    for _ in range(4):
        video = next_video_for(expert, project)
        assert video is not None
        order.append(video)
        submitted(video, expert, [])
    assert order == [nothing_proposed, unsure, sure, unscored]


def test_random_order_hands_out_every_video_once(project: Project, expert: User) -> None:
    project.queue_order = QueueOrder.RANDOM
    project.save()
    videos = {ready_video(project) for _ in range(6)}
    seen = []
    while (video := next_video_for(expert, project)) is not None:
        seen.append(video)
        submitted(video, expert, [])
    assert set(seen) == videos and len(seen) == len(videos)


@pytest.mark.django_db(transaction=True)
def test_annotators_asking_at_the_same_time_never_get_the_same_slot() -> None:
    from annotations.roles import roles_bootstrap
    from tests.factories import make_project

    roles_bootstrap()
    project = make_project("Race", annotators_per_video=2)
    videos = [ready_video(project) for _ in range(3)]
    users = [make_user(Role.EXPERT, f"racer{i}") for i in range(8)]  # 8 askers, 6 slots
    for user in users:
        make_member(project, user)
    barrier = threading.Barrier(len(users))
    results: dict[str, int | None] = {}
    errors: list[BaseException] = []

    def ask(user: User) -> None:
        try:
            barrier.wait()
            for _attempt in range(200):
                try:
                    video = next_video_for(user, project)
                except OperationalError as exc:
                    # The in-memory SQLite test database shares one cache between
                    # threads and reports a busy table at once instead of waiting
                    # as a database file does; the claim rolled back, so ask again.
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.005)
                    continue
                results[user.username] = video.pk if video else None
                return
            raise AssertionError("the database stayed locked")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=ask, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    per_video = Counter(results.values())
    expected: Counter[int | None] = Counter({video.pk: 2 for video in videos})
    expected[None] = 2
    assert per_video == expected
    held = Counter(Assignment.objects.values_list("video_id", flat=True))
    assert all(count == 2 for count in held.values())
