"""Model versions and the prediction service through the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from annotations.models import ModelEvent, ModelVersion, PredictionJob, Project, Video, VideoStatus
from annotations.services.learning.registry import model_promote
from tests.factories import PLANTED_TAGS, PlantedProject, make_planted_project, video_upload

FOOTBALL = PLANTED_TAGS[0]


@pytest.fixture
def planted(project: Project, settings: Settings, zero_shot_model: None) -> PlantedProject:
    """Twelve labeled videos per planted tag, text only, so a model trains in seconds."""
    settings.MODEL_SEARCH = "none"
    settings.MIN_TRAINING_VIDEOS = 10
    return make_planted_project(project, per_tag=12)


@pytest.fixture
def trainable(planted: PlantedProject) -> Project:
    return planted.project


def _retrain(
    client: APIClient, project: Project, run_on_commit: Callable[..., Any]
) -> dict[str, Any]:
    with run_on_commit(execute=True):
        response = client.post(f"/api/v1/projects/{project.pk}/models/retrain/")
    assert response.status_code == 202, response.content
    job = client.get(f"/api/v1/jobs/{response.json()['job']}/").json()
    assert job["state"] == "done", job
    return client.get(f"/api/v1/models/{response.json()['id']}/").json()


PredictInBackground = Callable[[APIClient, dict[str, Any], str], dict[str, Any]]


@pytest.fixture
def predicted_in_background(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> PredictInBackground:
    """Asks for a prediction for a file or URL and gives its job's status, once it has run."""

    def predict(client: APIClient, data: dict[str, Any], fmt: str) -> dict[str, Any]:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/predict/", data, format=fmt)
        assert response.status_code == 202, response.content
        return client.get(response.json()["status_url"]).json()

    return predict


def test_retrain_promote_predict_and_roll_back_through_the_api(
    planted: PlantedProject,
    clients: dict[str, APIClient],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    admin = clients["admin_user"]
    trainable = planted.project
    before = admin.post(
        "/api/v1/predict/",
        {"project": trainable.pk, "title": "Вратарь отбил пенальти в финальном матче"},
        format="json",
    ).json()
    assert before["zero_shot"] is True and before["model_version"] is None

    first = _retrain(admin, trainable, django_capture_on_commit_callbacks)
    assert first["state"] == "promoted", first["note"]
    assert first["metrics"]["holdout"]["hierarchical_iou"] > 0.6
    assert first["training_data_size"]["videos"] == 36

    about_football = planted.probe(FOOTBALL)
    predicted = admin.post(
        "/api/v1/predict",  # as other services call it, without the slash
        {
            "project": trainable.pk,
            "title": about_football.title,
            "description": about_football.description,
        },
        format="json",
    )
    assert predicted.status_code == 200, predicted.content
    body = predicted.json()
    assert body["zero_shot"] is False and body["model_version"] == first["number"]
    assert body["tags"][0]["tag"] == FOOTBALL
    assert 0.0 <= body["tags"][0]["score"] <= 1.0

    second = _retrain(admin, trainable, django_capture_on_commit_callbacks)
    listed = admin.get(f"/api/v1/projects/{trainable.pk}/models/").json()["results"]
    assert [v["number"] for v in listed] == [second["number"], first["number"]]
    if second["state"] == "promoted":
        rolled = admin.post(f"/api/v1/projects/{trainable.pk}/models/rollback/").json()
        assert rolled["number"] == first["number"] and rolled["state"] == "promoted"
        promoted = admin.post(f"/api/v1/models/{second['id']}/promote/").json()
        assert promoted["number"] == second["number"] and promoted["state"] == "promoted"
        assert ModelVersion.objects.get(pk=first["id"]).state == "retired"
    else:
        promoted = admin.post(f"/api/v1/models/{second['id']}/promote/").json()
        assert promoted["state"] == "promoted"
    assert (
        admin.post(
            "/api/v1/predict/", {"project": trainable.pk, "title": "рецепт супа"}, format="json"
        ).json()["model_version"]
        == second["number"]
    )


def test_a_second_retrain_while_one_runs_is_a_conflict(
    project: Project, clients: dict[str, APIClient]
) -> None:
    url = f"/api/v1/projects/{project.pk}/models/retrain/"
    first = clients["admin_user"].post(url)
    assert first.status_code == 202
    second = clients["admin_user"].post(url)
    assert second.status_code == 409
    assert f"training-{first.json()['id']}" in second.json()["detail"]
    job = clients["admin_user"].get(f"/api/v1/jobs/training-{first.json()['id']}/").json()
    assert job["state"] == "queued"


def test_promoting_or_rolling_back_with_nothing_to_promote_is_a_conflict_that_says_why(
    project: Project, clients: dict[str, APIClient]
) -> None:
    failed = ModelVersion.objects.create(project=project, number=1, state="failed")
    promote = clients["admin_user"].post(f"/api/v1/models/{failed.pk}/promote/")
    assert promote.status_code == 409
    assert promote.json() == {
        "detail": "Version 1 has no trained model to promote.",
        "code": "conflict",
    }
    rollback = clients["admin_user"].post(f"/api/v1/projects/{project.pk}/models/rollback/")
    assert rollback.status_code == 409
    assert "no earlier promoted version" in rollback.json()["detail"]


def test_a_video_file_is_predicted_in_the_background_and_can_be_left_out(
    trainable: Project,
    clients: dict[str, APIClient],
    tiny_clip: Path,
    predicted_in_background: PredictInBackground,
) -> None:
    upload = video_upload(tiny_clip, "match.mp4")
    videos_before = Video.objects.count()
    job = predicted_in_background(
        clients["expert"],
        {
            "project": trainable.pk,
            "file": upload,
            "title": "Футбол и спорт: лучшие голы",
            "keep_video": "false",
        },
        "multipart",
    )
    assert job["state"] == "done", job
    assert job["progress"] == 1.0
    assert job["result"]["zero_shot"] is True
    assert job["result"]["duration_seconds"] == pytest.approx(1.0, abs=0.2)
    assert job["result"]["video_id"] is None
    assert job["result"]["tags"][0]["tag"] == FOOTBALL
    assert Video.objects.count() == videos_before
    stored = PredictionJob.objects.get()
    assert not stored.upload  # the uploaded copy is removed once used


def test_a_video_url_is_predicted_and_kept_as_a_video(
    trainable: Project,
    clients: dict[str, APIClient],
    media_server: str,
    tiny_clip: Path,
    predicted_in_background: PredictInBackground,
) -> None:
    job = predicted_in_background(
        clients["admin_user"],
        {"project": trainable.pk, "url": f"{media_server}/{tiny_clip.name}", "title": "Суп"},
        "json",
    )
    assert job["state"] == "done", job
    video = Video.objects.get(pk=job["result"]["video_id"])
    assert video.metadata["origin"] == "prediction"
    assert video.status == VideoStatus.READY


def test_a_prediction_job_reports_a_file_that_is_not_media(
    project: Project,
    clients: dict[str, APIClient],
    zero_shot_model: None,
    predicted_in_background: PredictInBackground,
) -> None:
    upload = SimpleUploadedFile("fake.mp4", b"not a video" * 100, content_type="video/mp4")
    job = predicted_in_background(
        clients["admin_user"],
        {"project": project.pk, "file": upload},
        "multipart",
    )
    assert job["state"] == "failed"
    assert "not a video or audio file" in job["error"]


def test_only_the_requester_and_admins_see_a_prediction_job(
    project: Project, clients: dict[str, APIClient], tiny_clip: Path
) -> None:
    upload = video_upload(tiny_clip)
    response = clients["expert"].post(
        "/api/v1/predict/", {"project": project.pk, "file": upload}, format="multipart"
    )
    url = response.json()["status_url"]
    assert clients["expert"].get(url).json()["state"] == "queued"
    assert clients["admin_user"].get(url).status_code == 200
    assert clients["crowd"].get(url).status_code == 404


def test_predictions_are_throttled(
    project: Project, clients: dict[str, APIClient], settings: Settings, zero_shot_model: None
) -> None:
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "predict": "3/min"}
    codes = [
        clients["expert"]
        .post("/api/v1/predict/", {"project": project.pk, "title": "x"}, format="json")
        .status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_any_background_task_can_be_followed_by_its_id(
    project: Project, clients: dict[str, APIClient]
) -> None:
    from django_q.tasks import async_task

    task_id = async_task("math.floor", 2.5)  # run at once: the tests' cluster is synchronous
    job = clients["admin_user"].get(f"/api/v1/jobs/task-{task_id}/").json()
    assert (job["state"], job["result"]) == ("done", {"result": "2"})
    assert clients["expert"].get(f"/api/v1/jobs/task-{task_id}/").status_code == 403
    assert clients["admin_user"].get("/api/v1/jobs/task-nope/").status_code == 404


def test_rollbacks_through_the_api_walk_back_and_keep_the_reason(
    project: Project, clients: dict[str, APIClient]
) -> None:
    for number in (1, 2, 3):
        version = ModelVersion.objects.create(
            project=project, number=number, state="candidate", artifact_path=f"v{number}"
        )
        model_promote(version=version)
    url = f"/api/v1/projects/{project.pk}/models/rollback/"
    first = clients["admin_user"].post(url, {"reason": "v3 confuses sports"}, format="json")
    second = clients["admin_user"].post(url, {}, format="json")
    assert (first.json()["number"], second.json()["number"]) == (2, 1)
    latest = ModelEvent.objects.filter(project=project).order_by("-id")[1]
    assert (latest.action, latest.reason, latest.by_id) == (
        "rolled_back",
        "v3 confuses sports",
        User.objects.get(username="alice_admin").pk,
    )
    third = clients["admin_user"].post(url, {}, format="json")
    assert third.status_code == 409 and "no earlier promoted version" in third.json()["detail"]
