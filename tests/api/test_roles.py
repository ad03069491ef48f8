"""Every endpoint for every role: who is let in, who is refused, and how."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from annotations.models import ExportSnapshot, Job, ModelVersion
from annotations.selectors.review import labels_revision
from annotations.services.export import ExportFilters, export_request
from tests.api.conftest import Labeled
from tests.factories import make_job, run_job_of

ADMIN, EXPERT, CROWD, NOBODY, ANON = "admin_user", "expert", "crowd", "no_role_user", "anonymous"
ROLE_ORDER = (ADMIN, EXPERT, CROWD, NOBODY, ANON)

LS_FILE = b'[{"data": {"title": "Imported", "video_id": "ls-1"}, "annotations": []}]'

# (method, url, body, expected status for admin, expert, crowd, no role, anonymous)
MATRIX: list[tuple[str, str, Any, tuple[int, int, int, int, int]]] = [
    ("get", "/api/v1/auth/me/", None, (200, 200, 200, 200, 401)),
    ("delete", "/api/v1/auth/token/", None, (204, 204, 204, 204, 401)),
    ("get", "/api/v1/projects/", None, (200, 200, 200, 403, 401)),
    ("post", "/api/v1/projects/", {"name": "Новый"}, (201, 403, 403, 403, 401)),
    ("get", "/api/v1/projects/{project}/", None, (200, 200, 200, 403, 401)),
    ("patch", "/api/v1/projects/{project}/", {"guidelines": "x"}, (200, 403, 403, 403, 401)),
    ("get", "/api/v1/projects/{project}/tags/", None, (200, 200, 200, 403, 401)),
    (
        "post",
        "/api/v1/projects/{project}/tags/",
        {"text": "Кино\n", "format": "lines"},
        (200, 403, 403, 403, 401),
    ),
    ("get", "/api/v1/projects/{project}/videos/", None, (200, 200, 200, 403, 401)),
    (
        "post",
        "/api/v1/projects/{project}/videos/",
        {"title": "Только текст"},
        (201, 201, 403, 403, 401),
    ),
    (
        "post",
        "/api/v1/projects/{project}/videos/bulk/",
        {"rows": [{"title": "Строка"}]},
        (200, 200, 403, 403, 401),
    ),
    ("get", "/api/v1/videos/{assigned}/", None, (200, 200, 200, 403, 401)),
    ("get", "/api/v1/videos/{unassigned}/", None, (200, 200, 404, 403, 401)),
    ("get", "/api/v1/videos/{assigned}/annotations/", None, (200, 200, 200, 403, 401)),
    (
        "put",
        "/api/v1/videos/{assigned}/annotations/mine/",
        {"decisions": [{"tag": "Спорт: Футбол", "decision": "add"}], "revision": 0},
        (200, 200, 200, 403, 401),
    ),
    (
        "put",
        "/api/v1/videos/{unassigned}/annotations/mine/",
        {"decisions": [{"tag": "Музыка", "decision": "add"}], "revision": 0},
        (200, 200, 404, 403, 401),
    ),
    ("get", "/api/v1/videos/{assigned}/annotations/mine/", None, (200, 200, 200, 403, 401)),
    ("get", "/api/v1/videos/{confirmed}/annotations/mine/", None, (404, 404, 404, 403, 401)),
    ("get", "/api/v1/projects/{project}/annotations/", None, (200, 200, 200, 403, 401)),
    ("get", "/api/v1/projects/{project}/reviews/", None, (200, 200, 403, 403, 401)),
    ("get", "/api/v1/videos/{confirmed}/review/", None, (200, 200, 403, 403, 401)),
    (
        "post",
        "/api/v1/videos/{confirmed}/review/",
        {"tags": ["Музыка"], "reason": "not what the import said"},
        (428, 428, 403, 403, 401),
    ),
    (
        "post",
        "/api/v1/videos/{confirmed}/review/",
        {"tags": ["Музыка"], "reason": "not what the import said", "revision": "{revision}"},
        (200, 200, 403, 403, 401),
    ),
    ("get", "/api/v1/projects/{project}/models/", None, (200, 200, 403, 403, 401)),
    ("get", "/api/v1/models/{version}/", None, (200, 200, 403, 403, 401)),
    ("post", "/api/v1/models/{version}/promote/", None, (409, 403, 403, 403, 401)),
    ("post", "/api/v1/projects/{project}/models/rollback/", None, (409, 403, 403, 403, 401)),
    ("post", "/api/v1/projects/{project}/models/retrain/", None, (202, 403, 403, 403, 401)),
    ("get", "/api/v1/projects/{project}/exports/", None, (200, 403, 403, 403, 401)),
    ("post", "/api/v1/projects/{project}/exports/", {"format": "csv"}, (202, 403, 403, 403, 401)),
    ("get", "/api/v1/exports/{export}/", None, (200, 403, 403, 403, 401)),
    ("get", "/api/v1/exports/{export}/download/", None, (200, 403, 403, 403, 401)),
    ("get", "/api/v1/projects/{project}/labelstudio-config/", None, (200, 403, 403, 403, 401)),
    ("post", "/api/v1/projects/{project}/dataset-imports/", "ls-file", (202, 403, 403, 403, 401)),
    ("get", "/api/v1/jobs/", None, (200, 200, 200, 403, 401)),
    ("get", "/api/v1/jobs/ingest-{assigned}/", None, (200, 200, 200, 403, 401)),
    ("get", "/api/v1/jobs/ingest-{unassigned}/", None, (200, 200, 404, 403, 401)),
    ("get", "/api/v1/jobs/export-{export}/", None, (200, 403, 403, 403, 401)),
    ("get", "/api/v1/jobs/training-{version}/", None, (200, 200, 403, 403, 401)),
    # A queued job is handed over again; a done one cannot be cancelled (409).
    ("post", "/api/v1/jobs/ingest-{assigned}/retry/", None, (200, 403, 403, 403, 401)),
    ("post", "/api/v1/jobs/export-{export}/cancel/", None, (409, 403, 403, 403, 401)),
    (
        "post",
        "/api/v1/predict/",
        {"project": "{project}", "title": "Футбол: лучшие голы"},
        (200, 200, 200, 403, 401),
    ),
    (
        "post",
        "/api/v1/predict/",
        {"project": "{project}", "url": "http://127.0.0.1/clip.mp4"},
        (400, 400, 403, 403, 401),
    ),
]


@pytest.fixture
def ids(labeled: Labeled, admin_user: User, settings: Settings, tmp_path: Path) -> dict[str, int]:
    settings.MODEL_DIR = tmp_path / "models"
    version = ModelVersion.objects.create(
        project=labeled.project,
        number=1,
        state=ModelVersion.State.CANDIDATE,
        metrics={"holdout": {"f1_micro": 0.5}},
    )
    make_job(Job.Kind.TRAINING, version.pk, labeled.project, state=Job.State.DONE)
    snapshot = export_request(
        project=labeled.project, user=admin_user, fmt="jsonl", filters=ExportFilters()
    )
    run_job_of(Job.Kind.EXPORT, snapshot.pk)
    assert ExportSnapshot.objects.get(pk=snapshot.pk).state == "ready"
    return {
        "project": labeled.project.pk,
        "assigned": labeled.assigned.pk,
        "unassigned": labeled.unassigned.pk,
        "confirmed": labeled.confirmed.pk,
        "revision": labels_revision(labeled.confirmed),
        "version": version.pk,
        "export": snapshot.pk,
    }


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        filled = value.format(**ids)
        return int(filled) if value.startswith("{") and filled.isdigit() else filled
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _call(client: APIClient, method: str, url: str, body: Any) -> Any:
    if body == "ls-file":
        upload = SimpleUploadedFile("tasks.json", LS_FILE, content_type="application/json")
        return client.post(url, {"file": upload, "format": "labelstudio"}, format="multipart")
    return getattr(client, method)(url, body, format="json")


@pytest.mark.parametrize("role", ROLE_ORDER)
def test_each_role_gets_the_expected_status_from_each_endpoint(
    role: str,
    clients: dict[str, APIClient],
    ids: dict[str, int],
    zero_shot_model: None,
) -> None:
    failures = []
    for method, template, body, expected in MATRIX:
        url = template.format(**ids)
        want = expected[ROLE_ORDER.index(role)]
        response = _call(clients[role], method, url, _fill(body, ids))
        if response.status_code != want:
            failures.append(f"{method.upper()} {url}: {response.status_code}, expected {want}")
        if response.status_code >= 400:
            body_json = response.json()
            assert isinstance(body_json["detail"], str) and body_json["detail"], url
        if method == "delete" and response.status_code == 204:
            # The token is gone: log the client in again with a fresh one for the next rows.
            from tests.api.conftest import token_client

            clients[role] = token_client(User.objects.get(username=_username(role)))
    assert not failures, "\n".join(failures)


def _username(role: str) -> str:
    return {
        ADMIN: "alice_admin",
        EXPERT: "eve_expert",
        CROWD: "carl_crowd",
        NOBODY: "nobody",
    }[role]


def test_an_anonymous_request_is_told_how_to_authenticate(clients: dict[str, APIClient]) -> None:
    response = clients[ANON].get("/api/v1/projects/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_a_session_works_like_a_token_with_the_same_rules(labeled: Labeled, crowd: User) -> None:
    client = APIClient()
    client.force_login(crowd)
    listed = client.get(f"/api/v1/projects/{labeled.project.pk}/videos/").json()
    assert [video["id"] for video in listed["results"]] == [labeled.assigned.pk]
    assert client.get(f"/api/v1/videos/{labeled.unassigned.pk}/").status_code == 404


def test_a_session_post_without_a_csrf_token_is_refused(labeled: Labeled, expert: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(expert)
    response = client.post(
        f"/api/v1/projects/{labeled.project.pk}/videos/", {"title": "x"}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_a_token_is_issued_for_the_right_password_only(expert: User) -> None:
    from tests.factories import PASSWORD

    client = APIClient(enforce_csrf_checks=True)
    wrong = client.post("/api/v1/auth/token/", {"username": expert.username, "password": "no"})
    assert wrong.status_code == 400
    assert wrong.json()["detail"] == "Wrong user name or password."
    right = client.post(
        "/api/v1/auth/token/", {"username": expert.username, "password": PASSWORD}, format="json"
    )
    assert right.status_code == 200
    body = right.json()
    assert body["role"] == "expert" and len(body["token"]) == 40
    again = client.post(
        "/api/v1/auth/token/", {"username": expert.username, "password": PASSWORD}, format="json"
    )
    assert again.json()["token"] == body["token"]
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.get("/api/v1/auth/me/").json()["username"] == expert.username
