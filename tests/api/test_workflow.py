"""A client using nothing but the documented API, from an empty site to predictions."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from ml.synthetic_media import write_video
from tests.factories import PASSWORD

TOPICS = {
    "Спорт: Футбол": ["футбол", "мяч", "гол", "вратарь", "матч", "пенальти"],
    "Еда и напитки: Кулинария": ["рецепт", "тесто", "духовка", "суп", "повар", "пирог"],
}
FILLER = ["сегодня", "видео", "новый", "выпуск", "друзья", "смотрите", "канал"]


def test_a_script_can_run_the_whole_loop_through_the_api(
    admin_user: User,
    tmp_path: Path,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.MODEL_DIR = tmp_path / "models"
    settings.EMBEDDING_MODEL = str(tmp_path / "no-embedding-model")
    settings.MODEL_SEARCH = "none"
    api = APIClient()
    token = api.post(
        "/api/v1/auth/token/", {"username": admin_user.username, "password": PASSWORD}
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    project = api.post("/api/v1/projects/", {"name": "Script"}, format="json").json()
    taxonomy = "\n".join(TOPICS)
    imported = api.post(
        f"/api/v1/projects/{project['id']}/tags/", {"text": taxonomy, "format": "lines"}
    )
    assert imported.status_code in (200, 201), imported.content

    rng = random.Random(3)
    with django_capture_on_commit_callbacks(execute=True):
        for tag, words in TOPICS.items():
            for _ in range(10):
                title = " ".join(rng.sample(words, 3) + rng.sample(FILLER, 3))
                created = api.post(
                    f"/api/v1/projects/{project['id']}/videos/",
                    {"title": title, "description": " ".join(rng.sample(words, 3)), "tags": [tag]},
                    format="json",
                )
                assert created.status_code == 201, created.content
        clip = write_video(tmp_path / "clip.mp4", seconds=1.0, width=96, height=64, scene="field")
        with clip.open("rb") as handle:
            uploaded = api.post(
                f"/api/v1/projects/{project['id']}/videos/",
                {"file": handle, "title": "Вратарь и мяч: лучший матч"},
                format="multipart",
            )
        assert uploaded.status_code == 201, uploaded.content
    video_id = uploaded.json()["id"]

    detail = api.get(f"/api/v1/videos/{video_id}/").json()
    assert detail["status"] == "ready"
    assert "suggestions" in detail

    saved = api.put(
        f"/api/v1/videos/{video_id}/annotations/mine/",
        {"decisions": [{"tag": "Спорт: Футбол", "decision": "add"}], "action": "submit"},
        format="json",
    )
    assert saved.status_code == 200, saved.content

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/projects/{project['id']}/models/retrain/")
    assert started.status_code == 202, started.content
    versions = api.get(f"/api/v1/projects/{project['id']}/models/").json()["results"]
    assert versions[0]["state"] == "promoted", versions[0]

    with django_capture_on_commit_callbacks(execute=True):
        export = api.post(
            f"/api/v1/projects/{project['id']}/exports/", {"format": "csv"}, format="json"
        )
    assert export.status_code == 202, export.content
    snapshot = api.get(f"/api/v1/exports/{export.json()['id']}/").json()
    assert snapshot["state"] == "ready", snapshot
    download = api.get(snapshot["download_url"])
    body = b"".join(download.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.splitlines()[0] == "video_id,title,description,tags"
    assert len(body.splitlines()) == 1 + snapshot["row_count"] >= 21

    predicted = api.post(
        "/api/v1/predict",
        {"project": project["id"], "title": "рецепт пирога", "description": "тесто и духовка"},
        format="json",
    ).json()
    assert predicted["model_version"] == versions[0]["number"]
    assert predicted["tags"][0]["tag"] == "Еда и напитки: Кулинария"
