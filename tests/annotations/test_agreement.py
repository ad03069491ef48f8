"""Agreement (Krippendorff's alpha, percent per tag) and effort, against hand computation."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import Decision, Project, Tag, TagDecision, Video
from annotations.selectors.agreement import Codings, Unit, alpha, project_agreement
from tests.annotations.labeling_fixtures import ready_video, submitted
from tests.factories import client_for, make_tag


@pytest.fixture
def tags(project: Project) -> list[Tag]:
    return [make_tag(project, name) for name in ("T1", "T2", "T3")]


def _reject(video: Video, user: User, tag: Tag) -> None:
    annotation = video.annotations.get(annotator=user)
    TagDecision.objects.create(annotation=annotation, tag=tag, decision=Decision.REJECT)


@pytest.fixture
def labeled(project: Project, tags: list[Tag], crowd: User, other_crowd: User) -> Project:
    t1, t2, t3 = tags
    v1, v2, alone = (ready_video(project) for _ in range(3))
    # v1: both choose T1; crowd also chooses T2, which the other rejects.
    submitted(v1, crowd, [t1, t2], seconds=30)
    submitted(v1, other_crowd, [t1], seconds=20)
    _reject(v1, other_crowd, t2)
    # v2: both choose T3 and reject T1 and T2.
    submitted(v2, crowd, [t3], seconds=60)
    submitted(v2, other_crowd, [t3], seconds=40)
    for user in (crowd, other_crowd):
        _reject(v2, user, t1)
        _reject(v2, user, t2)
    # Labeled by one annotator only: no unit to compare.
    submitted(alone, crowd, [t1], seconds=90)
    return project


def test_alpha_matches_the_hand_computed_value(labeled: Project) -> None:
    # Units (crowd, other): v1/T1 (1,1), v1/T2 (1,0), v2/T1 (0,0), v2/T2 (0,0), v2/T3 (1,1).
    # Coincidences: o11 = 4, o00 = 4, o01 = o10 = 1; n1 = n0 = 5, n = 10.
    # alpha = 1 - (n - 1) * (o01 + o10) / (2 * n0 * n1) = 1 - 9 * 2 / 50 = 0.64
    result = project_agreement(labeled)
    assert result.units == 5
    assert result.videos == 2
    assert result.alpha == pytest.approx(0.64)


def test_percent_agreement_per_tag(labeled: Project) -> None:
    per_tag = {row.tag.path: (row.units, row.agreed) for row in project_agreement(labeled).per_tag}
    assert per_tag == {"T1": (2, 2), "T2": (2, 1), "T3": (1, 1)}
    assert project_agreement(labeled).per_tag[0].percent == pytest.approx(50.0)


def test_effort_per_annotator(labeled: Project, crowd: User, other_crowd: User) -> None:
    efforts = {e.user: e for e in project_agreement(labeled).annotators}
    mine = efforts[crowd]
    assert (mine.submitted, mine.active_seconds, mine.median_seconds) == (3, 180, 60)
    assert mine.videos_per_hour == pytest.approx(3 / (180 / 3600))
    # crowd agrees with the other annotator on 4 of 5 shared units.
    assert mine.agreement_percent == pytest.approx(80.0)
    assert efforts[other_crowd].median_seconds == 30


def test_alpha_with_a_missing_coder_and_three_annotators() -> None:
    # Krippendorff (2011), reliability data with missing values, reduced to a
    # binary example: unit a = (1, 1, -), b = (0, 0, 0), c = (1, 0, 1).
    # Pairable values: a gives o11 += 2; b gives o00 += 6/2 = 3; c (m=3) gives
    # o11 += 2/2, o10 += 2/2, o01 += 2/2. So o11 = 3, o00 = 3, o01 = o10 = 1;
    # n1 = 4, n0 = 4, n = 8; alpha = 1 - 7 * 2 / (2 * 4 * 4) = 1 - 14/32 = 0.5625
    codings = Codings(
        {
            Unit(1, 1): {10: 1, 11: 1},
            Unit(1, 2): {10: 0, 11: 0, 12: 0},
            Unit(1, 3): {10: 1, 11: 0, 12: 1},
        }
    )
    assert alpha(codings) == pytest.approx(0.5625)


def test_alpha_is_undefined_without_variation_or_overlap() -> None:
    assert alpha(Codings({Unit(1, 1): {1: 1, 2: 1}, Unit(1, 2): {1: 1, 2: 1}})) is None
    assert alpha(Codings({Unit(1, 1): {1: 1}, Unit(2, 1): {2: 0}})) is None


def test_team_page_is_for_experts_and_admins(
    labeled: Project, expert: User, admin_user: User, crowd: User
) -> None:
    url = f"/projects/{labeled.pk}/team/"
    page = client_for(expert).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="project-alpha">0.640<' in html
    assert "carl_crowd" in html and "cora_crowd" in html
    assert client_for(admin_user).get(url).status_code == 200
    assert client_for(crowd).get(url).status_code == 403
