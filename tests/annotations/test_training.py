"""The model loop: training from confirmed labels, the promotion gate, suggestions, schedule."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django_q.models import Schedule
from pytest_django.fixtures import Settings

from annotations.models import (
    ConfirmedLabel,
    LabelSource,
    ModelVersion,
    Project,
    Suggestion,
    Video,
    VideoStatus,
)
from annotations.services.learning.prediction import predict_for_text
from annotations.services.learning.suggestions import suggestions_refresh
from annotations.services.learning.training import (
    TrainingAlreadyRunning,
    model_promote,
    model_rollback,
    scheduled_retraining,
    training_request,
)
from tests.factories import client_for, make_tag, make_video

TOPICS = {
    "Спорт: Футбол": ["футбол", "мяч", "гол", "вратарь", "матч"],
    "Еда и напитки: Кулинария": ["рецепт", "тесто", "духовка", "суп", "повар"],
    "Транспорт: Автомобили": ["автомобиль", "двигатель", "седан", "колесо", "дорога"],
}
FILLER = ["сегодня", "видео", "новый", "выпуск", "друзья", "смотрите", "канал", "большой"]


@pytest.fixture(autouse=True)
def _small_fast_models(settings: Settings, tmp_path: Path) -> None:
    settings.MODEL_DIR = tmp_path / "models"
    settings.EMBEDDING_MODEL = str(tmp_path / "no-embedding-model")  # cannot load: text only
    settings.MODEL_SEARCH = "none"
    settings.MIN_TRAINING_VIDEOS = 10


def _text(rng: random.Random, words: list[str]) -> str:
    return " ".join(rng.sample(words, 3) + rng.sample(FILLER, 4))


def _labeled_project(project: Project, *, per_topic: int = 12, unlabeled: int = 3) -> list[Video]:
    rng = random.Random(7)
    tags = {path: make_tag(project, path) for path in TOPICS}
    unlabeled_videos = []
    for path, words in TOPICS.items():
        for index in range(per_topic + unlabeled):
            video = make_video(
                project,
                title=_text(rng, words),
                description=_text(rng, words),
                status=VideoStatus.READY,
            )
            if index < per_topic:
                ConfirmedLabel.objects.create(
                    video=video, tag=tags[path], source=LabelSource.IMPORT
                )
            else:
                unlabeled_videos.append(video)
    return unlabeled_videos


def _train(project: Project, run_on_commit: Callable[..., Any]) -> ModelVersion:
    with run_on_commit(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    return version


def test_first_model_learns_the_planted_topics_is_promoted_and_refreshes_suggestions(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    unlabeled = _labeled_project(project)
    version = _train(project, django_capture_on_commit_callbacks)
    assert version.state == ModelVersion.State.PROMOTED, version.note
    assert version.metrics["holdout"]["hierarchical_iou"] > 0.7
    assert len(version.training_data["videos"]) == 36
    assert Path(version.artifact_path, "manifest.json").exists()
    assert "scikit-learn" in version.library_versions or "sklearn" in version.library_versions
    football = next(
        v for v in unlabeled if "мяч" in v.title or "гол" in v.title or "футбол" in v.title
    )
    top = Suggestion.objects.filter(video=football).order_by("rank").first()
    assert top is not None and top.model_version == version
    assert top.tag.path == "Спорт: Футбол"


def test_training_fits_in_parallel_as_configured_and_stores_convergence_counts(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.MODEL_N_JOBS = 2
    _labeled_project(project)

    version = _train(project, django_capture_on_commit_callbacks)

    assert version.state == ModelVersion.State.PROMOTED, version.note
    manifest = json.loads(Path(version.artifact_path, "manifest.json").read_text("utf-8"))
    assert manifest["config"]["n_jobs"] == 2
    assert version.metrics["convergence_warnings"] == 0
    assert version.metrics["convergence_warning_tags"] == {}


def test_too_few_labeled_videos_fail_the_version_with_a_readable_reason(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    make_video(project)
    version = _train(project, django_capture_on_commit_callbacks)
    assert version.state == ModelVersion.State.FAILED
    assert "at least 10 are needed" in version.note


def test_two_retrain_requests_at_once_start_one_training(project: Project) -> None:
    first = training_request(project=project)
    with pytest.raises(TrainingAlreadyRunning) as raised:
        training_request(project=project)
    assert raised.value.version == first
    assert ModelVersion.objects.filter(project=project).count() == 1


def test_a_candidate_that_does_not_beat_the_current_model_is_not_promoted(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _labeled_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    settings.PROMOTION_MARGIN = 0.5  # no model can be this much better
    second = _train(project, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.state == ModelVersion.State.PROMOTED
    assert second.state == ModelVersion.State.CANDIDATE
    assert "kept as a candidate" in second.note
    assert "same" in second.note


def test_a_candidate_at_least_as_good_replaces_the_current_model(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _labeled_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    second = _train(project, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert second.state == ModelVersion.State.PROMOTED, second.note
    assert first.state == ModelVersion.State.RETIRED


def test_admins_can_roll_back_and_promote_by_hand(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _labeled_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    second = _train(project, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        rolled = model_rollback(project=project)
    assert rolled == first
    second.refresh_from_db()
    assert second.state == ModelVersion.State.RETIRED
    with django_capture_on_commit_callbacks(execute=True):
        model_promote(version=second)
    first.refresh_from_db()
    assert first.state == ModelVersion.State.RETIRED


def test_cold_start_suggestions_are_zero_shot_and_labelled_as_such(project: Project) -> None:
    make_tag(project, "Спорт: Футбол")
    make_tag(project, "Еда и напитки: Кулинария")
    video = make_video(project, title="Футбол: лучшие голы матча", status=VideoStatus.READY)
    run = suggestions_refresh(video=video)
    assert "zero-shot" in run.describe()
    suggestions = list(Suggestion.objects.filter(video=video).order_by("rank"))
    assert suggestions and all(s.model_version is None for s in suggestions)
    assert suggestions[0].tag.path.startswith("Спорт")


def test_prediction_uses_the_promoted_model(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    _labeled_project(project)
    version = _train(project, django_capture_on_commit_callbacks)
    prediction = predict_for_text(
        project=project, title="рецепт супа", description="тесто духовка повар"
    )
    assert prediction.model_version == version
    assert not prediction.zero_shot
    assert prediction.tags[0][0] == "Еда и напитки: Кулинария"


def test_scheduled_retraining_waits_for_enough_new_labels(
    project: Project, settings: Settings
) -> None:
    _labeled_project(project, per_topic=4, unlabeled=0)
    settings.RETRAIN_MIN_NEW_LABELS = 100
    assert "not needed" in scheduled_retraining()
    assert not ModelVersion.objects.exists()
    settings.RETRAIN_MIN_NEW_LABELS = 5
    assert project.name in scheduled_retraining().split(";")[0]
    assert ModelVersion.objects.filter(state=ModelVersion.State.TRAINING).count() == 1


def test_schedule_command_is_idempotent(db: None, settings: Settings) -> None:
    call_command("schedule_retraining")
    settings.RETRAIN_CRON = "30 4 * * *"
    call_command("schedule_retraining")
    schedules = Schedule.objects.filter(func="annotations.tasks.retrain_if_needed")
    assert schedules.count() == 1
    assert schedules.get().cron == "30 4 * * *"


def test_model_pages_are_for_experts_and_retraining_for_admins(
    project: Project, admin_user: User, expert: User, crowd: User
) -> None:
    url = f"/projects/{project.pk}/models/"
    assert client_for(crowd).get(url).status_code in (403, 404)
    assert client_for(expert).get(url).status_code == 200
    assert client_for(expert).post(f"/projects/{project.pk}/models/retrain/").status_code == 403
    response = client_for(admin_user).post(f"/projects/{project.pk}/models/retrain/")
    assert response.status_code == 302
    version = ModelVersion.objects.get(project=project)
    assert version.requested_by == admin_user
    page = client_for(admin_user).get(url).content.decode()
    assert "Training version 1" in page or "v1" in page


def test_a_training_job_delivered_twice_trains_once(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from annotations.services.learning.training import model_train

    _labeled_project(project)
    version = _train(project, django_capture_on_commit_callbacks)
    finished = version.finished_at
    again = model_train(version_id=version.pk)
    assert again.state == ModelVersion.State.PROMOTED
    assert again.finished_at == finished
    assert "v1's" not in again.note  # never compared with itself
