"""The model loop: training from confirmed labels, the promotion gate, suggestions, schedule."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sklearn
from django.contrib.auth.models import User
from django.core.management import call_command
from django_q.models import Schedule
from pytest_django.fixtures import Settings

from annotations.models import ModelVersion, Project, Suggestion, Video, VideoStatus
from annotations.services.labeling.review import video_confirm_by_model
from annotations.services.learning.examples import examples_for_videos, labeled_videos
from annotations.services.learning.model_store import model_for
from annotations.services.learning.prediction import predict_for_text
from annotations.services.learning.registry import model_promote, model_rollback
from annotations.services.learning.suggestions import suggestions_refresh
from annotations.services.learning.training import (
    TrainingAlreadyRunning,
    gate,
    new_labels_since_last_version,
    scheduled_retraining,
    training_request,
)
from ml.compare import MIN_GATE_VIDEOS
from tests.factories import PLANTED_TAGS, client_for, make_planted_project, make_tag, make_video

pytestmark = pytest.mark.label_audit

COOKING = PLANTED_TAGS[1]


@pytest.fixture(autouse=True)
def _small_fast_models(text_only_training: None, settings: Settings) -> None:
    settings.MIN_TRAINING_VIDEOS = 10


def _train(project: Project, run_on_commit: Callable[..., Any]) -> ModelVersion:
    with run_on_commit(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    return version


def _scores_on_held_out(
    candidate: ModelVersion, current: ModelVersion, metric: str
) -> tuple[float, float, int]:
    """Both versions' ``metric`` on all the candidate's held-out videos, and their number."""
    held_out = candidate.training_data["split"]["holdout"]
    unseen = set(held_out) - set(current.training_data["split"]["train"])
    # Too few that the current model never saw: the gate compares on all of them.
    assert len(unseen) < MIN_GATE_VIDEOS
    examples = examples_for_videos(
        Video.objects.filter(pk__in=[int(pk) for pk in held_out]).order_by("id"), with_tags=True
    )
    candidate_model, current_model = model_for(candidate), model_for(current)
    return (
        candidate_model.evaluate(examples)[metric],
        current_model.evaluate(examples)[metric],
        len(examples),
    )


def test_first_model_learns_the_planted_topics_is_promoted_and_refreshes_suggestions(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    planted = make_planted_project(project, per_tag=12, unlabeled_per_tag=3)
    version = _train(project, django_capture_on_commit_callbacks)
    assert version.state == ModelVersion.State.PROMOTED, version.note
    assert version.metrics["holdout"]["hierarchical_iou"] > 0.7
    # The first model beat the zero-shot scorer on the same held-out videos, and says by
    # how much, with the bootstrap interval of the difference.
    gate = version.metrics["gate"]
    assert gate["against"] == "zero-shot" and gate["difference"] >= 0
    assert gate["low"] <= gate["difference"] <= gate["high"]
    assert version.note.startswith("promoted: hierarchical_iou") and "95% CI" in version.note
    assert model_for(version).calibrated
    assert "after" in version.metrics["decision"]["calibration"]
    assert len(version.training_data["videos"]) == 36
    assert Path(version.artifact_path, "manifest.json").exists()
    assert version.library_versions["sklearn"] == sklearn.__version__
    for tag, videos in planted.unlabeled.items():
        for video in videos:
            top = Suggestion.objects.filter(video=video).order_by("rank").first()
            assert top is not None and top.model_version == version
            assert top.tag.path == tag


def test_training_fits_in_parallel_as_configured_and_stores_convergence_counts(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.MODEL_N_JOBS = 2
    make_planted_project(project)

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
    make_planted_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    settings.PROMOTION_MARGIN = 0.5  # no model can be this much better
    second = _train(project, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.state == ModelVersion.State.PROMOTED
    assert second.state == ModelVersion.State.CANDIDATE
    metric = settings.PROMOTION_METRIC
    candidate_score, current_score, count = _scores_on_held_out(second, first, metric)
    assert second.note.startswith(
        f"kept as a candidate (not above v1 + margin 0.5): {metric} {candidate_score:.3f} (v1: "
        f"{current_score:.3f}) on the same {count} held-out videos (v1 had trained on some of "
        f"them); difference {candidate_score - current_score:+.3f} (95% CI "
    )
    gate = second.metrics["gate"]
    assert gate["against"] == "v1" and not gate["promote"]
    assert gate["low"] <= gate["difference"] <= gate["high"]


def test_a_candidate_only_as_good_as_the_current_model_stays_a_candidate(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    make_planted_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    # The same data again: both versions tag every held-out video right.
    second = _train(project, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert first.state == ModelVersion.State.PROMOTED
    assert second.state == ModelVersion.State.CANDIDATE, second.note
    metric = settings.PROMOTION_METRIC
    candidate_score, current_score, count = _scores_on_held_out(second, first, metric)
    assert candidate_score == current_score
    gate = second.metrics["gate"]
    assert gate["difference"] == 0 and not gate["promote"]
    assert second.note.startswith(
        f"kept as a candidate (not above v1 + margin 0.0): {metric} {candidate_score:.3f} (v1: "
        f"{current_score:.3f}) on the same {count} held-out videos (v1 had trained on some of "
        f"them); difference +0.000 (95% CI +0.000 to +0.000)"
    )


def test_the_same_model_compared_with_itself_is_not_promoted(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    make_planted_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    twin = ModelVersion.objects.create(
        project=project,
        number=2,
        state=ModelVersion.State.CANDIDATE,
        artifact_path=first.artifact_path,
        metrics=first.metrics,
        training_data=first.training_data,
    )
    held_out = Video.objects.filter(
        pk__in=[int(pk) for pk in first.training_data["split"]["holdout"]]
    ).order_by("id")

    decision = gate(candidate=twin, evaluation=examples_for_videos(held_out, with_tags=True))

    assert not decision.promote
    assert decision.comparison is not None and decision.comparison.difference == 0
    assert decision.note.startswith("kept as a candidate (not above v1 + margin 0.0)")
    assert "95% CI +0.000 to +0.000" in decision.note


def test_a_candidate_that_beats_the_current_model_replaces_it(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    football, cooking, cars = PLANTED_TAGS
    make_planted_project(project, tags=(football, cars))
    first = _train(project, django_capture_on_commit_callbacks)
    assert first.state == ModelVersion.State.PROMOTED, first.note
    # Cooking videos arrive: the next version learns a topic the first never saw.
    make_planted_project(project, tags=(cooking,), seed=1)
    second = _train(project, django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert second.state == ModelVersion.State.PROMOTED, second.note
    assert first.state == ModelVersion.State.RETIRED
    gate = second.metrics["gate"]
    assert gate["against"] == "v1" and gate["promote"] and gate["difference"] > 0
    assert second.note.startswith(f"promoted: {settings.PROMOTION_METRIC} ")
    assert "95% CI" in second.note


def test_admins_can_roll_back_and_promote_by_hand(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    make_planted_project(project)
    first = _train(project, django_capture_on_commit_callbacks)
    second = _train(project, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        model_promote(version=second, reason="as good, and newer")
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
    planted = make_planted_project(project)
    version = _train(project, django_capture_on_commit_callbacks)
    about_cooking = planted.probe(COOKING)
    prediction = predict_for_text(
        project=project, title=about_cooking.title, description=about_cooking.description
    )
    assert prediction.model_version == version
    assert not prediction.zero_shot
    assert prediction.tags[0][0] == COOKING


def test_scheduled_retraining_waits_for_enough_new_labels(
    project: Project, settings: Settings
) -> None:
    make_planted_project(project, per_tag=4)
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
    project: Project,
    admin_user: User,
    expert: User,
    crowd: User,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    make_planted_project(project)
    url = f"/projects/{project.pk}/models/"
    assert client_for(crowd).get(url).status_code in (403, 404)
    assert client_for(expert).get(url).status_code == 200
    assert client_for(expert).post(f"/projects/{project.pk}/models/retrain/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(f"/projects/{project.pk}/models/retrain/")
    assert response.status_code == 302
    version = ModelVersion.objects.get(project=project)
    assert version.requested_by == admin_user
    assert version.state == ModelVersion.State.PROMOTED, version.note
    page = client_for(admin_user).get(url).content.decode()
    row = next(row for row in page.split("<tr>") if ">v1</a>" in row)
    assert '<span class="status status-promoted">Promoted</span>' in row
    for name in ("hierarchical_iou", "f1_micro", "f1_macro", "precision_at_1", "precision_at_3"):
        assert f'<td class="num">{version.metrics["holdout"][name]:.3f}</td>' in row
    gate = version.metrics["gate"]
    assert "Promoted by the gate" in row
    assert f"{gate['candidate']:.3f}, zero-shot {gate['reference']:.3f}" in row


def test_a_training_job_delivered_twice_trains_once(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    from annotations.models import Job
    from annotations.services.jobs.control import job_run

    make_planted_project(project)
    version = _train(project, django_capture_on_commit_callbacks)
    finished = version.finished_at
    job_run(Job.objects.of(Job.Kind.TRAINING, version.pk).get().pk)
    again = ModelVersion.objects.get(pk=version.pk)
    assert again.state == ModelVersion.State.PROMOTED
    assert again.finished_at == finished
    metric = settings.PROMOTION_METRIC
    # The first model's note: compared with the zero-shot scorer, never with itself.
    assert again.note == version.note
    assert again.note.startswith(f"promoted: {metric} ") and "(zero-shot: " in again.note


def test_changes_of_the_promoted_model_that_the_states_refuse_are_shown_with_409(
    project: Project, admin_user: User
) -> None:
    failed = ModelVersion.objects.create(project=project, number=1, state="failed")
    client = client_for(admin_user)
    promote = client.post(f"/models/{failed.pk}/promote/")
    assert promote.status_code == 409
    assert "Version 1 has no trained model to promote" in promote.content.decode()
    rollback = client.post(f"/projects/{project.pk}/models/rollback/")
    assert rollback.status_code == 409
    assert "no earlier promoted version to roll back to" in rollback.content.decode()
    assert list(project.model_versions.values_list("state", flat=True)) == ["failed"]


def test_an_admin_promotes_a_retired_version_from_the_models_page(
    project: Project, admin_user: User, expert: User
) -> None:
    older = ModelVersion.objects.create(
        project=project, number=1, state="retired", artifact_path="1"
    )
    newer = ModelVersion.objects.create(
        project=project, number=2, state="promoted", artifact_path="v2"
    )
    url = f"/models/{older.pk}/promote/"
    assert client_for(expert).post(url).status_code == 403
    response = client_for(admin_user).post(url, follow=True)
    assert response.redirect_chain == [(f"/projects/{project.pk}/models/", 302)]
    assert "Version 1 is now the promoted model." in response.content.decode()
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.state, newer.state) == (ModelVersion.State.PROMOTED, ModelVersion.State.RETIRED)


def test_a_model_version_page_is_for_experts_and_an_unknown_one_is_not_found(
    project: Project, expert: User, crowd: User
) -> None:
    version = ModelVersion.objects.create(project=project, number=1, state="promoted")
    assert client_for(expert).get(f"/models/{version.pk}/").status_code == 200
    assert client_for(crowd).get(f"/models/{version.pk}/").status_code == 403
    assert client_for(expert).get(f"/models/{version.pk + 1}/").status_code == 404


def _confirmed_by_model(project: Project, videos: list[Video], version: ModelVersion) -> None:
    tag = make_tag(project, COOKING)
    for video in videos:
        assert video_confirm_by_model(video=video, tag_ids=[tag.pk], version=version)


def test_the_models_own_confirmations_do_not_count_as_new_labels_for_the_schedule(
    project: Project, settings: Settings
) -> None:
    make_planted_project(project, per_tag=4)
    settings.RETRAIN_MIN_NEW_LABELS = 5
    version = ModelVersion.objects.create(
        project=project, number=1, state=ModelVersion.State.PROMOTED, artifact_path="v1"
    )
    _confirmed_by_model(project, [make_video(project) for _ in range(8)], version)

    # Training leaves them out, so they are no reason to train.
    assert new_labels_since_last_version(project) == 0
    assert "not needed" in scheduled_retraining()
    assert not ModelVersion.objects.filter(state=ModelVersion.State.TRAINING).exists()
    settings.TRAIN_ON_MODEL_LABELS = True
    assert new_labels_since_last_version(project) == 8
    assert project.name in scheduled_retraining().split(";")[0]


def test_videos_only_the_model_confirmed_do_not_count_towards_the_minimum_to_train(
    project: Project, settings: Settings, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    planted = make_planted_project(project, per_tag=2)  # 6 videos people labeled
    helper = ModelVersion.objects.create(
        project=project, number=1, state=ModelVersion.State.RETIRED, artifact_path="v1"
    )
    _confirmed_by_model(project, [make_video(project) for _ in range(6)], helper)

    assert list(labeled_videos(project.pk)) == planted.labeled
    version = _train(project, django_capture_on_commit_callbacks)
    assert version.state == ModelVersion.State.FAILED
    assert version.note.startswith("only 6 videos have confirmed labels; at least 10 are needed")
    settings.TRAIN_ON_MODEL_LABELS = True
    assert len(labeled_videos(project.pk)) == 12


def test_a_video_the_model_knows_nothing_about_gets_only_possible_suggestions(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    make_planted_project(project)
    version = _train(project, django_capture_on_commit_callbacks)
    assert version.state == ModelVersion.State.PROMOTED, version.note
    title, description = "Тестовая таблица", "цветные полосы и сигнал 1 кГц"
    video = make_video(project, title=title, description=description, status=VideoStatus.READY)

    suggestions_refresh(video=video)

    rows = list(
        video.suggestions.order_by("rank").values_list("tag__path", "score", "above_threshold")
    )
    assert rows and not any(likely for _, _, likely in rows)
    kinds_by_score: dict[float, set[bool]] = {}
    for _, score, likely in rows:
        kinds_by_score.setdefault(score, set()).add(likely)
    assert all(len(kinds) == 1 for kinds in kinds_by_score.values())
    # A prediction still names the model's best guess, first among the possible suggestions.
    example = examples_for_videos([video], with_tags=False)
    predicted = model_for(version).predict(example, parents=False)[0]
    assert [tag for tag, _ in predicted] == [path for path, _, _ in rows[: len(predicted)]]
