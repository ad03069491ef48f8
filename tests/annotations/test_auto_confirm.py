"""Auto-confirmation with an audited precision, on a real (small) model.

The model learns three planted topics. People then check its suggestions: on cooking,
3 of 40 are wrong, so its point precision (0.925) is above the 0.9 target while the true
precision of such a tag may well be below it; the Wilson lower bound keeps it untrusted,
so a rule that over-estimated precision (point estimate, or counting the model's
suggestions on its own training videos) would fail these tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User

from annotations.models import (
    ConfirmedLabel,
    LabelSource,
    ModelVersion,
    Project,
    ProjectQuality,
    ReviewRequest,
    Suggestion,
    Tag,
    TagTrust,
    Video,
)
from annotations.selectors.review import videos_needing_review
from annotations.services.labeling.queue import next_video_for
from annotations.services.learning.examples import examples_for_videos
from annotations.services.learning.registry import model_promote
from annotations.services.learning.suggestions import (
    suggestions_refresh_many,
    suggestions_refresh_project,
)
from annotations.services.learning.training import training_request
from annotations.services.learning.trust import tag_trust_refresh, trust_evidence
from ml.compare import wilson_lower_bound
from tests.annotations.labeling_fixtures import confirm_now
from tests.factories import PLANTED_TAGS, client_for, make_planted_project

FOOTBALL, COOKING, CARS = PLANTED_TAGS
CHECKED = 40
WRONG_COOKING = 3

pytestmark = [pytest.mark.label_audit, pytest.mark.usefixtures("text_only_training")]


def _tag(project: Project, path: str) -> Tag:
    return Tag.objects.get(project=project, path=path)


def _qualifying(project: Project, videos: list[Video], path: str) -> list[Video]:
    """Of ``videos``, those on which the model chose ``path`` with at least 0.5."""
    chosen = set(
        Suggestion.objects.filter(
            video__in=videos, tag__path=path, above_threshold=True, score__gte=0.5
        ).values_list("video_id", flat=True)
    )
    return [video for video in videos if video.pk in chosen]


@pytest.fixture
def checked_project(
    project: Project, expert: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> tuple[Project, dict[str, list[Video]], ModelVersion]:
    """A promoted model whose football and cooking suggestions people checked on 40 videos
    each; 3 of the cooking ones were really about cars."""
    planted = make_planted_project(project, per_tag=12, unlabeled_per_tag=CHECKED + 10)
    ProjectQuality.objects.create(project=project, target_precision=0.9, audit_share=1.0)
    with django_capture_on_commit_callbacks(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    assert version.state == ModelVersion.State.PROMOTED, version.note
    for path in (FOOTBALL, COOKING):
        videos = _qualifying(project, planted.unlabeled[path][:CHECKED], path)
        assert len(videos) >= CHECKED - 2, f"the model missed too many {path} videos"
        for n, video in enumerate(videos):
            truth = CARS if path == COOKING and n < WRONG_COOKING else path
            confirm_now(video, [_tag(project, truth).pk], expert)
    # In-sample suggestions on the training videos: right every time, and no evidence.
    suggestions_refresh_many(project=project, videos=planted.labeled)
    return project, planted.unlabeled, version


def test_precision_is_measured_on_checked_videos_only_with_a_lower_bound(
    checked_project: tuple[Project, dict[str, list[Video]], ModelVersion],
) -> None:
    project, unlabeled, version = checked_project

    evidence = trust_evidence(project, min_score=0.5, version=version)
    trust = tag_trust_refresh(project=project)

    cooking, football = _tag(project, COOKING), _tag(project, FOOTBALL)
    checked_cooking = _qualifying(project, unlabeled[COOKING][:CHECKED], COOKING)
    held_out = Video.objects.filter(
        pk__in=[int(pk) for pk in version.training_data["split"]["holdout"]],
        confirmed_labels__tag=cooking,
    )
    # The checked videos and the model's held-out ones count, not the videos it trained on.
    expected = len(checked_cooking) + len(_qualifying(project, list(held_out), COOKING))
    assert evidence[cooking.pk].checked == expected < len(checked_cooking) + 12
    assert evidence[cooking.pk].right == expected - WRONG_COOKING
    point = evidence[cooking.pk].right / evidence[cooking.pk].checked
    assert point >= 0.9  # a point estimate would trust cooking...
    assert not trust[cooking.pk].trusted  # ...the lower bound does not
    assert trust[cooking.pk].lower_bound == pytest.approx(
        wilson_lower_bound(evidence[cooking.pk].right, evidence[cooking.pk].checked)
    )
    assert trust[cooking.pk].lower_bound < 0.9 <= point
    assert trust[football.pk].trusted
    assert trust[football.pk].right == trust[football.pk].checked >= CHECKED - 2


def test_trusted_tags_are_confirmed_by_the_model_audited_and_trust_stops_when_audits_fail(
    checked_project: tuple[Project, dict[str, list[Video]], ModelVersion],
    expert: User,
    crowd: User,
    admin_user: User,
) -> None:
    project, unlabeled, version = checked_project
    ProjectQuality.objects.filter(project=project).update(auto_confirm=True)
    football = _tag(project, FOOTBALL)

    run = suggestions_refresh_project(project=project)

    fresh_football = unlabeled[FOOTBALL][CHECKED:]
    by_model = ConfirmedLabel.objects.filter(source=LabelSource.MODEL)
    assert run.auto_confirmed == by_model.values("video").distinct().count() > 0
    assert set(by_model.values_list("tag__path", flat=True)) == {FOOTBALL}
    assert set(by_model.values_list("model_version", flat=True)) == {version.pk}
    confirmed_videos = [v for v in fresh_football if v.confirmed_labels.exists()]
    assert len(confirmed_videos) == run.auto_confirmed
    # Nothing about cooking was confirmed by the model: it has not earned trust.
    assert not ConfirmedLabel.objects.filter(
        video__in=unlabeled[COOKING][CHECKED:], source=LabelSource.MODEL
    ).exists()
    # Every one is audited (audit share 1.0) and waits for an expert; none is queued.
    audits = ReviewRequest.objects.filter(reason=ReviewRequest.Reason.AUDIT, resolved_at=None)
    assert set(audits.values_list("video_id", flat=True)) == {v.pk for v in confirmed_videos}
    assert set(confirmed_videos) <= set(videos_needing_review(project))
    # Training leaves the model's own labels out by default.
    examples = examples_for_videos(confirmed_videos, with_tags=True, human_only=True)
    assert all(example.tags == () for example in examples)

    # The audits find half of them wrong: the bound falls and trust stops by itself.
    for n, video in enumerate(confirmed_videos):
        if n % 2 == 0:
            confirm_now(video, [_tag(project, CARS).pk], expert, reason="about cars")
        else:
            confirm_now(video, [football.pk], expert)
    trust = TagTrust.objects.get(tag=football)
    assert not trust.trusted and trust.changed_at is not None
    assert trust.lower_bound < 0.9
    assert not audits.exists()

    later = Video.objects.create(
        project=project,
        title=fresh_football[0].title,
        description=fresh_football[0].description,
        status="ready",
    )
    suggestions_refresh_many(project=project, videos=[later])
    assert not later.confirmed_labels.exists()
    assert later.suggestions.filter(tag=football, above_threshold=True).exists()
    # The crowd's queue never hands out a video the model confirmed.
    assert next_video_for(crowd, project) is None
    # The models page says the model stopped confirming football by itself.
    page = client_for(admin_user).get(f"/projects/{project.pk}/models/").content.decode()
    row = page[page.index(f"<td>{FOOTBALL}</td>") :].split("</tr>")[0]
    assert "the bound fell below the target" in row


def test_admins_turn_auto_confirmation_on_from_the_models_page(
    project: Project, admin_user: User, expert: User
) -> None:
    url = f"/projects/{project.pk}/quality/"
    fields = {
        "auto_confirm": "on",
        "target_precision": "0.97",
        "min_score": "0.6",
        "audit_share": "0.1",
        "gold_share": "0.1",
        "gold_min_accuracy": "0.7",
        "gold_min_checks": "5",
    }
    assert client_for(expert).post(url, fields).status_code == 403
    assert client_for(admin_user).post(url, fields).status_code == 302
    quality = ProjectQuality.objects.get(project=project)
    assert quality.auto_confirm and quality.target_precision == 0.97
    client_for(admin_user).post(url, {**fields, "target_precision": "2"})
    quality.refresh_from_db()
    assert quality.target_precision == 0.97  # refused, with the reason in a message


def _check(project: Project, videos: list[Video], path: str, expert: User) -> int:
    """People confirm ``path`` on those of ``videos`` where the model chose it: all right."""
    checked = _qualifying(project, videos, path)
    for video in checked:
        confirm_now(video, [_tag(project, path).pk], expert)
    return len(checked)


def test_a_newly_promoted_version_earns_trust_of_its_own_before_it_confirms_anything(
    project: Project,
    expert: User,
    admin_user: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    planted = make_planted_project(project, per_tag=12, unlabeled_per_tag=2 * CHECKED + 5)
    ProjectQuality.objects.create(project=project, target_precision=0.9, audit_share=0.0)
    football = _tag(project, FOOTBALL)
    videos = planted.unlabeled[FOOTBALL]
    with django_capture_on_commit_callbacks(execute=True):
        first = training_request(project=project)
    first.refresh_from_db()
    assert first.state == ModelVersion.State.PROMOTED, first.note
    assert _check(project, videos[:CHECKED], FOOTBALL, expert) >= CHECKED - 2
    trust = tag_trust_refresh(project=project)[football.pk]
    assert trust.trusted and trust.model_version == first

    with django_capture_on_commit_callbacks(execute=True):
        second = training_request(project=project)
    second.refresh_from_db()
    if second.state != ModelVersion.State.PROMOTED:
        with django_capture_on_commit_callbacks(execute=True):
            model_promote(version=second, reason="newer labels")
    # What the first version earned is not the second's: it starts with what it proposed
    # on its own held-out videos, too little evidence to trust football.
    trust = TagTrust.objects.get(tag=football)
    held_out = trust_evidence(project, min_score=0.5, version=second)[football.pk]
    assert (trust.model_version, trust.trusted) == (second, False)
    assert trust.checked == held_out.checked < CHECKED - 2
    assert trust.changed_at is None  # not "stopped": it never started
    page = client_for(admin_user).get(f"/projects/{project.pk}/models/").content.decode()
    assert "Auto-confirmation waits for evidence on v2" in page
    row = page[page.index(f"<td>{FOOTBALL}</td>") :].split("</tr>")[0]
    assert f'<td class="num">{held_out.checked}</td>' in row and "not yet" in row

    ProjectQuality.objects.filter(project=project).update(auto_confirm=True)
    run = suggestions_refresh_project(project=project)
    assert run.model_version == second and run.auto_confirmed == 0
    assert not ConfirmedLabel.objects.filter(source=LabelSource.MODEL).exists()

    # People check the second version's own suggestions: now it has earned trust.
    assert _check(project, videos[CHECKED : 2 * CHECKED], FOOTBALL, expert) >= CHECKED - 2
    run = suggestions_refresh_many(project=project, videos=videos[2 * CHECKED :])
    assert run.auto_confirmed > 0
    by_model = ConfirmedLabel.objects.filter(source=LabelSource.MODEL)
    assert set(by_model.values_list("model_version", flat=True)) == {second.pk}
    trust = TagTrust.objects.get(tag=football)
    assert trust.trusted and trust.model_version == second
    assert trust.checked == trust.right >= CHECKED - 2
    page = client_for(admin_user).get(f"/projects/{project.pk}/models/").content.decode()
    assert "Auto-confirmation waits for evidence" not in page

    # Rolling back brings back what the first version earned on its own.
    with django_capture_on_commit_callbacks(execute=True):
        model_promote(version=first, reason="back")
    trust = TagTrust.objects.get(tag=football)
    assert trust.trusted and trust.model_version == first
