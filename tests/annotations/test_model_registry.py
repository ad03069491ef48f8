"""The model registry: promotions and rollbacks are recorded, and rollbacks walk back."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import ModelEvent, ModelVersion, Project
from annotations.services.learning.registry import (
    PromotionRefused,
    model_promote,
    model_rollback,
    version_promote_by_gate,
)
from tests.factories import client_for


def _trained(project: Project, number: int) -> ModelVersion:
    return ModelVersion.objects.create(
        project=project,
        number=number,
        state=ModelVersion.State.CANDIDATE,
        artifact_path=f"/models/v{number}",
    )


def _promoted(project: Project) -> int:
    return ModelVersion.objects.filter(project=project).promoted().get().number


@pytest.fixture
def three_promoted(project: Project, admin_user: User) -> list[ModelVersion]:
    versions = [_trained(project, n) for n in (1, 2, 3)]
    version_promote_by_gate(version=versions[0], reason="first model")
    for version in versions[1:]:
        model_promote(version=version, user=admin_user, reason="better on the held-out videos")
    return versions


def test_two_rollbacks_walk_back_two_versions(
    project: Project, admin_user: User, three_promoted: list[ModelVersion]
) -> None:
    assert _promoted(project) == 3
    assert model_rollback(project=project, user=admin_user).number == 2
    assert _promoted(project) == 2
    assert model_rollback(project=project, user=admin_user).number == 1
    assert _promoted(project) == 1
    with pytest.raises(PromotionRefused, match="no earlier promoted version"):
        model_rollback(project=project, user=admin_user)
    assert _promoted(project) == 1


def test_a_promotion_after_a_rollback_is_rolled_back_to_the_version_before_it(
    project: Project, admin_user: User, three_promoted: list[ModelVersion]
) -> None:
    model_rollback(project=project, user=admin_user)  # v3 -> v2
    fourth = _trained(project, 4)
    model_promote(version=fourth, user=admin_user)
    assert model_rollback(project=project, user=admin_user).number == 2
    assert model_rollback(project=project, user=admin_user).number == 1


def test_every_change_is_an_event_with_who_why_and_what_it_replaced(
    project: Project, admin_user: User, three_promoted: list[ModelVersion]
) -> None:
    model_rollback(project=project, user=admin_user, reason="v3 mislabels cooking videos")
    events = list(ModelEvent.objects.filter(project=project).order_by("at", "id"))
    assert [(e.action, e.version.number) for e in events] == [
        ("promoted", 1),
        ("promoted", 2),
        ("promoted", 3),
        ("rolled_back", 2),
    ]
    first, last = events[0], events[-1]
    assert first.by is None and first.previous is None and first.reason == "first model"
    assert last.by == admin_user and last.previous is not None and last.previous.number == 3
    assert last.reason == "v3 mislabels cooking videos"


def test_the_current_version_cannot_be_promoted_again(
    project: Project, admin_user: User, three_promoted: list[ModelVersion]
) -> None:
    with pytest.raises(PromotionRefused, match="already the promoted one"):
        model_promote(version=three_promoted[2], user=admin_user)
    assert ModelEvent.objects.filter(project=project).count() == 3


def test_a_version_without_a_trained_model_cannot_be_promoted(
    project: Project, admin_user: User
) -> None:
    failed = ModelVersion.objects.create(project=project, number=1, state="failed")
    with pytest.raises(PromotionRefused, match="no trained model"):
        model_promote(version=failed, user=admin_user)
    assert not ModelVersion.objects.filter(project=project).promoted().exists()


def test_rollbacks_of_one_project_do_not_read_another_projects_history(
    project: Project, admin_user: User, three_promoted: list[ModelVersion]
) -> None:
    other = Project.objects.create(name="Other")
    version_promote_by_gate(version=_trained(other, 1), reason="first model")
    with pytest.raises(PromotionRefused):
        model_rollback(project=other, user=admin_user)
    assert model_rollback(project=project, user=admin_user).number == 2


def test_the_models_page_lists_the_history_and_a_rollback_keeps_its_reason(
    project: Project, admin_user: User, three_promoted: list[ModelVersion]
) -> None:
    client = client_for(admin_user)
    response = client.post(
        f"/projects/{project.pk}/models/rollback/", {"reason": "v3 tags cats as dogs"}
    )
    assert response.status_code == 302
    assert _promoted(project) == 2
    page = client.get(f"/projects/{project.pk}/models/").content.decode()
    history = page[page.index('id="model-history"') :]
    assert history.index("back to v2") < history.index("v3 promoted") < history.index("v1 promoted")
    assert "v3 tags cats as dogs" in history and "replacing v3" in history


def test_the_models_page_offers_a_rollback_only_while_an_earlier_version_is_there(
    project: Project, admin_user: User
) -> None:
    client = client_for(admin_user)
    rollback_form = f'action="/projects/{project.pk}/models/rollback/"'
    versions = [_trained(project, n) for n in (1, 2)]
    version_promote_by_gate(version=versions[0], reason="first model")
    assert rollback_form not in client.get(f"/projects/{project.pk}/models/").content.decode()
    model_promote(version=versions[1], user=admin_user, reason="better")
    assert rollback_form in client.get(f"/projects/{project.pk}/models/").content.decode()
    model_rollback(project=project, user=admin_user)
    assert rollback_form not in client.get(f"/projects/{project.pk}/models/").content.decode()
