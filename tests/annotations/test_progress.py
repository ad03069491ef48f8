"""Progress: each video's labeling state, the pace, the estimated finish, the burn-down, the
dashboard page, and the video list's thumbnails, tags and states."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from annotations.models import (
    Annotation,
    Keyframe,
    LabelSource,
    Project,
    ReviewRequest,
    Video,
    VideoStatus,
)
from annotations.roles import Role
from annotations.selectors.progress import LabelingState, project_progress, state_counts
from annotations.selectors.review import videos_needing_review
from annotations.services.labeling.gold import annotator_work_to_review, gold_mark
from tests.annotations.labeling_fixtures import confirm_now, imported_label, ready_video, submitted
from tests.factories import assign, client_for, confirm_label, make_member, make_tag, make_user


@pytest.fixture
def two_annotators(roles: None, project: Project) -> list[User]:
    project.annotators_per_video = 2
    project.save()
    users = [make_user(Role.CROWD, f"pace{i}") for i in range(2)]
    for user in users:
        make_member(project, user)
    return users


def _states_example(project: Project, first: User, second: User) -> dict[str, int]:
    football, hockey = make_tag(project, "Спорт: Футбол"), make_tag(project, "Спорт: Хоккей")
    ready_video(project, title="новое")
    Annotation.objects.create(video=ready_video(project, title="черновик"), annotator=first)
    submitted(ready_video(project, title="ждёт второго"), first, [football])
    disputed = ready_video(project, title="спор")
    submitted(disputed, first, [football])
    submitted(disputed, second, [hockey])
    imported_label(ready_video(project, title="подтверждено"), football)
    Annotation.objects.create(
        video=ready_video(project, title="пропущено"),
        annotator=first,
        state=Annotation.State.SKIPPED,
        skip_reason="не грузится",
    )
    ready_video(project, title="битое", status=VideoStatus.FAILED)
    return {
        "new": 1,
        "in_progress": 1,
        "submitted": 1,
        "review": 1,
        "confirmed": 1,
        "skipped": 1,
    }


def test_each_video_is_in_exactly_one_labeling_state(
    project: Project, two_annotators: list[User]
) -> None:
    expected = _states_example(project, *two_annotators)
    assert state_counts(project) == expected


def _submitted_days_ago(video: Video, user: User, days: int, today: dt.date) -> None:
    moment = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days), dt.time(12)))
    annotation = submitted(video, user, [])
    Annotation.objects.filter(pk=annotation.pk).update(submitted_at=moment)


def test_the_pace_of_the_last_week_gives_the_finish_and_the_burn_down(
    project: Project, two_annotators: list[User]
) -> None:
    first, second = two_annotators
    today = dt.date(2025, 3, 20)
    Project.objects.filter(pk=project.pk).update(
        created_at=timezone.make_aware(dt.datetime(2025, 3, 1, 9))
    )
    project.refresh_from_db()
    videos = [ready_video(project) for _ in range(10)]  # 20 answers needed
    for video in videos[:7]:  # 7 answers in the last week: one a day
        _submitted_days_ago(video, first, videos.index(video), today)
    _submitted_days_ago(videos[0], second, 12, today)  # counts, but not toward the pace
    _submitted_days_ago(videos[8], second, 30, today)  # before the chart starts
    progress = project_progress(project, today=today)
    assert (progress.needed, progress.done, progress.remaining) == (20, 9, 11)
    assert progress.per_day == 1.0
    assert progress.finish == today + dt.timedelta(days=11)
    assert progress.days[0] == dt.date(2025, 2, 19) and progress.days[-1] == today
    assert progress.remaining_by_day[0] == 19 and progress.remaining_by_day[-1] == 11
    assert [row.user for row in progress.annotators] == [first, second]
    assert (progress.annotators[0].last_days, progress.annotators[1].last_days) == (7, 0)


def test_a_video_with_confirmed_tags_counts_as_done_with_the_answers_it_has(
    project: Project, two_annotators: list[User]
) -> None:
    first, _second = two_annotators
    football = make_tag(project, "Спорт: Футбол")
    imported_label(ready_video(project), football)  # imported with its tag, no answer
    answered = ready_video(project)
    submitted(answered, first, [football])
    imported_label(answered, football)  # confirmed after one of its two answers
    ready_video(project)  # still needs both answers
    progress = project_progress(project)
    assert (progress.needed, progress.done, progress.remaining) == (3, 1, 2)
    submitted(project.videos.unlabeled().get(), first, [])
    assert project_progress(project).remaining == 1


def test_without_recent_answers_there_is_no_finish_date(
    project: Project, two_annotators: list[User]
) -> None:
    ready_video(project)
    assert project_progress(project).finish is None


def test_the_dashboard_shows_states_pace_and_chart_data(
    project: Project, two_annotators: list[User], expert: User, crowd: User
) -> None:
    _states_example(project, *two_annotators)
    response = client_for(expert).get(f"/projects/{project.pk}/dashboard/")
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(r'data-state="review"><strong>1</strong>', html)
    burndown = json.loads(
        html.split('id="chart-burndown" type="application/json">')[1].split("<")[0]
    )
    actual = [value for value in burndown["datasets"][0]["data"] if value is not None]
    # 5 videos x 2 answers - 3 given; the confirmed one needs none.
    assert burndown["type"] == "line" and actual[-1] == 7
    assert 'data-chart="chart-states"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "<script>" not in html  # data travels through json_script only
    assert client_for(crowd).get(f"/projects/{project.pk}/dashboard/").status_code == 403


def test_the_video_list_shows_thumbnails_confirmed_tags_and_states_and_filters_by_state(
    project: Project, two_annotators: list[User], expert: User
) -> None:
    first, _second = two_annotators
    _states_example(project, *two_annotators)
    confirmed = project.videos.get(title="подтверждено")
    Keyframe.objects.create(video=confirmed, timestamp_seconds=1.0, image="keyframes/x.jpg")
    client = client_for(expert)
    html = client.get(f"/projects/{project.pk}/videos/").content.decode()
    row = html.split(f'data-video="{confirmed.pk}"')[1].split("</tr>")[0]
    assert 'data-state="confirmed"' in html and "Спорт: Футбол" in row
    assert f"/videos/{confirmed.pk}/keyframes/" in row
    only_review = client.get(f"/projects/{project.pk}/videos/?state=review").content.decode()
    assert only_review.count("data-video=") == 1 and "спор" in only_review

    # A crowd worker sees the state of their own work, and no confirmed tags.
    waiting = project.videos.get(title="ждёт второго")
    assign(confirmed, first)
    assign(waiting, first)
    own = client_for(first).get(f"/projects/{project.pk}/videos/").content.decode()
    assert 'class="chip"' not in own
    assert f'data-video="{confirmed.pk}" data-state="new"' in own  # not started by them
    mine = client_for(first).get(f"/projects/{project.pk}/videos/?state=submitted")
    assert re.findall(r'data-video="(\d+)"', mine.content.decode()) == [str(waiting.pk)]


def _listed(client: Client, project: Project, state: str) -> set[int]:
    """The ids of the videos the project's list shows in ``state``, each row showing it."""
    html = client.get(f"/projects/{project.pk}/videos/?state={state}").content.decode()
    rows = re.findall(r'data-video="(\d+)" data-state="([a-z_]+)"', html)
    assert {shown for _video, shown in rows} <= {state}
    return {int(video) for video, _shown in rows}


def test_in_review_means_waiting_on_the_review_page_on_the_dashboard_and_in_the_list_alike(
    project: Project, two_annotators: list[User], admin_user: User, expert: User
) -> None:
    first, second = two_annotators
    football, cooking = make_tag(project, "Спорт: Футбол"), make_tag(project, "Еда: Кулинария")
    # Gold both annotators got wrong: a check of them, never a video to review.
    gold = ready_video(project, title="золото")
    imported_label(gold, football)
    gold_mark(video=gold, user=admin_user)
    submitted(gold, first, [cooking])
    submitted(gold, second, [cooking])
    # The model confirmed it, and it was drawn for an audit.
    audited = ready_video(project, title="аудит")
    confirm_label(audited, football, source=LabelSource.MODEL)
    ReviewRequest.objects.create(video=audited, reason=ReviewRequest.Reason.AUDIT)
    # One answer of two, by an annotator flagged on gold whose work went to review.
    flagged = ready_video(project, title="под подозрением")
    submitted(flagged, first, [football])
    annotator_work_to_review(project=project, annotator=first, by=admin_user)
    disputed = ready_video(project, title="спор")
    submitted(disputed, first, [football])
    submitted(disputed, second, [cooking])
    imported_label(ready_video(project, title="подтверждено"), football)
    ready_video(project, title="новое")
    ready_video(project, title="битое", status=VideoStatus.FAILED)
    in_review = {audited.pk, flagged.pk, disputed.pk}

    assert {video.pk for video in videos_needing_review(project)} == in_review
    counts = state_counts(project)
    assert counts == {
        **dict.fromkeys(LabelingState.values, 0),
        LabelingState.REVIEW: 3,
        LabelingState.CONFIRMED: 2,
        LabelingState.NEW: 1,
    }
    assert sum(counts.values()) == project.videos.exclude(status=VideoStatus.FAILED).count()
    client = client_for(admin_user)
    dashboard = client.get(f"/projects/{project.pk}/dashboard/").content.decode()
    assert re.search(r'data-state="review"><strong>3</strong>', dashboard)
    assert _listed(client, project, "review") == in_review
    assert gold.pk in _listed(client, project, "confirmed")
    listed = sum(len(_listed(client, project, state)) for state in LabelingState.values)
    assert listed == project.videos.count()
    review_page = client.get(f"/projects/{project.pk}/review/").context["page"]
    assert {video.pk for video in review_page} == in_review

    # An expert's answer to the audit ends it everywhere: the video is confirmed.
    confirm_now(audited, [football.pk], expert)
    assert audited.pk not in {video.pk for video in videos_needing_review(project)}
    assert state_counts(project)["review"] == 2
    assert audited.pk in _listed(client, project, "confirmed")
