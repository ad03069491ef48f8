"""The demo hands its crowd workers only the videos left to label."""

from __future__ import annotations

from annotations.management.commands.setup_demo import Command
from annotations.models import Assignment, Project
from annotations.roles import Role
from annotations.services.labeling.queue import next_video_for
from tests.annotations.labeling_fixtures import imported_label, ready_video
from tests.factories import make_tag, make_user


def test_the_demo_assigns_its_crowd_workers_overlapping_shares_of_the_unlabeled_videos(
    roles: None, project: Project
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    videos = [ready_video(project) for _ in range(9)]
    unlabeled = [video for n, video in enumerate(videos, start=1) if n % 3 == 0]
    for video in videos:
        if video not in unlabeled:
            imported_label(video, football)
    for username, role in (("expert", Role.EXPERT), ("crowd1", Role.CROWD), ("crowd2", Role.CROWD)):
        make_user(role, username)

    Command()._assign(project)

    given = {
        username: sorted(
            Assignment.objects.filter(annotator__username=username).values_list("video", flat=True)
        )
        for username in ("crowd1", "crowd2")
    }
    ids = [video.pk for video in unlabeled]
    assert given == {"crowd1": ids[:2], "crowd2": ids[1:]}  # the middle third overlaps
    first = Assignment.objects.filter(annotator__username="crowd1").first()
    assert first is not None
    assert next_video_for(first.annotator, project) == unlabeled[0]
