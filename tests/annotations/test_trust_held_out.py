"""A promoted version's trust starts from its own held-out predictions, on a real (small) model.

The model learns three planted topics from enough videos that its held-out part holds more
than a dozen videos of each: what it proposes there, checked against people's labels, is
enough to trust a tag at a 0.8 target the moment it is promoted. The tests would fail if
that evidence were counted too kindly: held-out predictions people's labels contradict,
labels the model confirmed, or another version's held-out videos.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from annotations.models import (
    ConfirmedLabel,
    LabelSource,
    ModelVersion,
    Project,
    ProjectQuality,
    Suggestion,
    Tag,
    TagTrust,
    Video,
)
from annotations.services.labeling.review import video_confirm_by_model
from annotations.services.learning.registry import model_promote
from annotations.services.learning.suggestions import suggestions_refresh_project
from annotations.services.learning.training import training_request
from annotations.services.learning.trust import tag_trust_refresh, trust_evidence
from tests.annotations.labeling_fixtures import confirm_now
from tests.factories import PLANTED_TAGS, PlantedProject, make_planted_project

FOOTBALL, COOKING, CARS = PLANTED_TAGS
TARGET = 0.8
# At a 0.8 target the lower bound needs 11 right in a row: 80 videos a tag hold out ~16.
PER_TAG = 80

pytestmark = [pytest.mark.label_audit, pytest.mark.usefixtures("text_only_training")]


def _tag(project: Project, path: str) -> Tag:
    return Tag.objects.get(project=project, path=path)


def _train(project: Project, capture: Callable[..., Any]) -> ModelVersion:
    with capture(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    return version


def _held_out(version: ModelVersion, path: str) -> list[Video]:
    """The version's held-out videos that people labeled with ``path``."""
    ids = [int(pk) for pk in version.training_data["split"]["holdout"]]
    return list(Video.objects.filter(pk__in=ids, confirmed_labels__tag__path=path))


@pytest.fixture
def planted(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> tuple[PlantedProject, ModelVersion]:
    """A first version trained on 80 planted videos a tag, promoted by the gate."""
    planted = make_planted_project(project, per_tag=PER_TAG, unlabeled_per_tag=10)
    ProjectQuality.objects.create(project=project, target_precision=TARGET, audit_share=0.0)
    version = _train(project, django_capture_on_commit_callbacks)
    assert version.state == ModelVersion.State.PROMOTED, version.note
    return planted, version


def test_a_version_with_enough_right_held_out_predictions_is_trusted_when_promoted(
    planted: tuple[PlantedProject, ModelVersion],
) -> None:
    project_data, version = planted
    project = project_data.project
    football = _tag(project, FOOTBALL)

    # No person has checked a single suggestion of this version yet...
    assert not Suggestion.objects.filter(
        model_version=version, video__confirmed_labels__isnull=False
    ).exists()
    # ...but it proposed football on its held-out football videos, and was right.
    trust = TagTrust.objects.get(tag=football)
    assert trust.model_version == version and trust.trusted
    assert trust.right == trust.checked >= 11
    assert trust.checked <= len(_held_out(version, FOOTBALL))
    assert trust.lower_bound >= TARGET

    ProjectQuality.objects.filter(project=project).update(auto_confirm=True)
    run = suggestions_refresh_project(project=project)

    assert run.model_version == version and run.auto_confirmed > 0
    by_model = ConfirmedLabel.objects.filter(source=LabelSource.MODEL)
    assert set(by_model.values_list("model_version", flat=True)) == {version.pk}
    for path, videos in project_data.unlabeled.items():
        confirmed = set(by_model.filter(video__in=videos).values_list("tag__path", flat=True))
        assert confirmed <= {path}, f"the model confirmed {confirmed} on {path} videos"


def test_held_out_predictions_people_contradict_stop_trust(
    planted: tuple[PlantedProject, ModelVersion], expert: User
) -> None:
    project_data, version = planted
    project = project_data.project
    football, cars = _tag(project, FOOTBALL), _tag(project, CARS)
    assert TagTrust.objects.get(tag=football).trusted

    # An expert finds the held-out "football" videos were about cars all along: every
    # football the version proposed there is now wrong.
    for video in _held_out(version, FOOTBALL):
        confirm_now(video, [cars.pk], expert, reason="about cars")
    ProjectQuality.objects.filter(project=project).update(auto_confirm=True)
    run = suggestions_refresh_project(project=project)

    trust = TagTrust.objects.get(tag=football)
    assert trust.checked > 0 and trust.right == 0
    assert not trust.trusted and trust.changed_at is not None
    assert run.auto_confirmed > 0  # cooking and cars are still trusted
    assert not ConfirmedLabel.objects.filter(source=LabelSource.MODEL, tag=football).exists()


def test_held_out_evidence_of_one_version_does_not_count_for_another(
    planted: tuple[PlantedProject, ModelVersion],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    project_data, first = planted
    project = project_data.project
    football = _tag(project, FOOTBALL)
    assert TagTrust.objects.get(tag=football).trusted

    second = _train(project, django_capture_on_commit_callbacks)
    if second.state != ModelVersion.State.PROMOTED:
        with django_capture_on_commit_callbacks(execute=True):
            model_promote(version=second, reason="newer")
    # A version trained before held-out predictions were stored: none of its own.
    second.training_data.pop("holdout_likely")
    second.save(update_fields=["training_data"])
    trust = tag_trust_refresh(project=project)[football.pk]

    assert (trust.model_version, trust.checked, trust.trusted) == (second, 0, False)
    assert trust_evidence(project, min_score=0.5, version=second) == {}

    with django_capture_on_commit_callbacks(execute=True):
        model_promote(version=first, reason="back")
    trust = TagTrust.objects.get(tag=football)
    assert trust.model_version == first and trust.trusted


def test_labels_the_model_confirmed_never_vouch_for_it(
    project: Project,
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.TRAIN_ON_MODEL_LABELS = True
    planted = make_planted_project(project, per_tag=12, unlabeled_per_tag=40)
    football = _tag(project, FOOTBALL)
    first = _train(project, django_capture_on_commit_callbacks)
    assert first.state == ModelVersion.State.PROMOTED, first.note
    by_model = {video.pk for video in planted.unlabeled[FOOTBALL]}
    for video in planted.unlabeled[FOOTBALL]:
        assert video_confirm_by_model(video=video, tag_ids=[football.pk], version=first)

    # The next version learns from the model's labels too, and holds some of them out.
    second = _train(project, django_capture_on_commit_callbacks)
    proposed = {
        int(pk)
        for pk, row in second.training_data["holdout_likely"].items()
        if any(tag == FOOTBALL and score >= 0.5 for tag, score in row)
    }
    assert proposed & by_model, "no video the model labeled was held out: nothing tested"
    evidence = trust_evidence(project, min_score=0.5, version=second)
    assert evidence[football.pk].checked == len(proposed - by_model)
