"""A client using nothing but the documented API, from an empty site to predictions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from ml.synthetic_media import write_video
from tests.factories import PASSWORD, PLANTED_TAGS, planted_catalogue

pytestmark = pytest.mark.label_audit

FOOTBALL, COOKING = TAGS = PLANTED_TAGS[:2]


def test_a_script_can_run_the_whole_loop_through_the_api(
    admin_user: User,
    tmp_path: Path,
    text_only_training: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    api = APIClient()
    token = api.post(
        "/api/v1/auth/token/", {"username": admin_user.username, "password": PASSWORD}
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    project = api.post("/api/v1/projects/", {"name": "Script"}, format="json").json()
    catalogue = planted_catalogue(10, unseen_per_tag=2, tags=TAGS)
    taxonomy = "\n".join(TAGS)
    imported = api.post(
        f"/api/v1/projects/{project['id']}/tags/", {"text": taxonomy, "format": "lines"}
    )
    assert imported.status_code in (200, 201), imported.content

    with django_capture_on_commit_callbacks(execute=True):
        for text in catalogue.labeled:
            created = api.post(
                f"/api/v1/projects/{project['id']}/videos/",
                {"title": text.title, "description": text.description, "tags": list(text.tags)},
                format="json",
            )
            assert created.status_code == 201, created.content
        about_cooking = catalogue.unseen[COOKING][0]
        unlabeled = api.post(
            f"/api/v1/projects/{project['id']}/videos/",
            {"title": about_cooking.title, "description": about_cooking.description},
            format="json",
        )
        assert unlabeled.status_code == 201, unlabeled.content
        clip = write_video(tmp_path / "clip.mp4", seconds=1.0, width=96, height=64, scene="field")
        about_football = catalogue.unseen[FOOTBALL][0]
        with clip.open("rb") as handle:
            uploaded = api.post(
                f"/api/v1/projects/{project['id']}/videos/",
                {
                    "file": handle,
                    "title": about_football.title,
                    "description": about_football.description,
                },
                format="multipart",
            )
        assert uploaded.status_code == 201, uploaded.content
    video_id = uploaded.json()["id"]

    detail = api.get(f"/api/v1/videos/{video_id}/").json()
    assert detail["status"] == "ready"

    saved = api.put(
        f"/api/v1/videos/{video_id}/annotations/mine/",
        {"decisions": [{"tag": FOOTBALL, "decision": "add"}], "action": "submit", "revision": 0},
        format="json",
    )
    assert saved.status_code == 200, saved.content

    with django_capture_on_commit_callbacks(execute=True):
        started = api.post(f"/api/v1/projects/{project['id']}/models/retrain/")
    assert started.status_code == 202, started.content
    versions = api.get(f"/api/v1/projects/{project['id']}/models/").json()["results"]
    assert versions[0]["state"] == "promoted", versions[0]
    suggested = api.get(f"/api/v1/videos/{unlabeled.json()['id']}/").json()["suggestions"]
    top = suggested[0]
    assert (top["tag"], top["model_version"], top["above_threshold"]) == (COOKING, 1, True)

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

    about_cooking = catalogue.unseen[COOKING][1]
    predicted = api.post(
        "/api/v1/predict",
        {
            "project": project["id"],
            "title": about_cooking.title,
            "description": about_cooking.description,
        },
        format="json",
    ).json()
    assert predicted["model_version"] == versions[0]["number"]
    assert predicted["tags"][0]["tag"] == COOKING
