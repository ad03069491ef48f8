"""Malformed requests: each is a 4xx with a JSON body that says what is wrong, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from tests.api.conftest import Labeled, schema_of

P, V = "{project}", "{video}"

# (case name, method, url, body, content type, expected status, words the detail contains)
CASES: list[tuple[str, str, str, Any, str, int, str]] = [
    ("broken JSON", "post", "/api/v1/projects/", '{"name": ', "json-raw", 400, "JSON parse"),
    ("JSON list, not object", "post", "/api/v1/projects/", "[1, 2]", "json-raw", 400, "dictionary"),
    ("missing field", "post", "/api/v1/projects/", {}, "json", 400, "name: This field"),
    ("duplicate name", "post", "/api/v1/projects/", {"name": "Demo"}, "json", 400, "already"),
    (
        "number out of range",
        "post",
        "/api/v1/projects/",
        {"name": "x", "annotators_per_video": 0},
        "json",
        400,
        "annotators_per_video",
    ),
    (
        "unknown choice",
        "post",
        "/api/v1/projects/",
        {"name": "x", "labeling_mode": "weird"},
        "json",
        400,
        "not a valid choice",
    ),
    ("wrong type", "patch", f"/api/v1/projects/{P}/", {"name": ["a"]}, "json", 400, "name"),
    ("unsupported media type", "post", "/api/v1/projects/", "<p/>", "xml", 415, "Unsupported"),
    ("method not allowed", "delete", "/api/v1/projects/", None, "json", 405, "not allowed"),
    (
        "malformed taxonomy",
        "post",
        f"/api/v1/projects/{P}/tags/",
        {"text": '[{"name": "A", "children": 5}]', "format": "json"},
        "json",
        400,
        "",
    ),
    ("empty taxonomy", "post", f"/api/v1/projects/{P}/tags/", {"text": ""}, "json", 400, "text"),
    (
        "bad status filter",
        "get",
        f"/api/v1/projects/{P}/videos/?status=nope",
        None,
        "",
        400,
        "status",
    ),
    (
        "bad boolean filter",
        "get",
        f"/api/v1/projects/{P}/videos/?confirmed=maybe",
        None,
        "",
        400,
        "confirmed",
    ),
    ("forged cursor", "get", f"/api/v1/projects/{P}/videos/?cursor=zzz", None, "", 400, "cursor"),
    ("page size 0", "get", f"/api/v1/projects/{P}/videos/?page_size=0", None, "", 400, "page_size"),
    (
        "page size not a number",
        "get",
        f"/api/v1/projects/{P}/videos/?page_size=abc",
        None,
        "",
        400,
        "page_size",
    ),
    (
        "tag filter not a tag",
        "get",
        f"/api/v1/projects/{P}/videos/?tag=Нет такого",
        None,
        "",
        400,
        "tag: No tag “Нет такого”",
    ),
    (
        "unknown annotation state",
        "get",
        f"/api/v1/projects/{P}/annotations/?state=done",
        None,
        "",
        400,
        "state",
    ),
    (
        "page size huge",
        "get",
        f"/api/v1/projects/{P}/videos/?page_size=999999",
        None,
        "",
        400,
        "page_size",
    ),
    ("not a URL", "post", f"/api/v1/projects/{P}/videos/", {"url": "nope"}, "json", 400, "url"),
    ("no title, no file", "post", f"/api/v1/projects/{P}/videos/", {}, "json", 400, "title"),
    (
        "tags not a list",
        "post",
        f"/api/v1/projects/{P}/videos/",
        {"title": "x", "tags": 5},
        "json",
        400,
        "tags",
    ),
    (
        "not a video",
        "post",
        f"/api/v1/projects/{P}/videos/",
        "not-media",
        "multipart",
        400,
        "not a video or audio file",
    ),
    ("no rows", "post", f"/api/v1/projects/{P}/videos/bulk/", {"rows": []}, "json", 400, "rows"),
    (
        "rows not objects",
        "post",
        f"/api/v1/projects/{P}/videos/bulk/",
        {"rows": [1]},
        "json",
        400,
        "rows",
    ),
    (
        "decisions not a list",
        "put",
        f"/api/v1/videos/{V}/annotations/mine/",
        {"decisions": "all"},
        "json",
        400,
        "decisions",
    ),
    (
        "negative revision",
        "put",
        f"/api/v1/videos/{V}/annotations/mine/",
        {"revision": -1},
        "json",
        400,
        "revision",
    ),
    (
        "unknown action",
        "put",
        f"/api/v1/videos/{V}/annotations/mine/",
        {"action": "publish"},
        "json",
        400,
        "action",
    ),
    ("review tags missing", "post", f"/api/v1/videos/{V}/review/", {}, "json", 400, "tags"),
    (
        "unknown export format",
        "post",
        f"/api/v1/projects/{P}/exports/",
        {"format": "xml"},
        "json",
        400,
        "format",
    ),
    (
        "bad date",
        "post",
        f"/api/v1/projects/{P}/exports/",
        {"format": "csv", "date_from": "yesterday"},
        "json",
        400,
        "date_from",
    ),
    (
        "dates reversed",
        "post",
        f"/api/v1/projects/{P}/exports/",
        {"format": "csv", "date_from": "2025-02-01", "date_to": "2025-01-01"},
        "json",
        400,
        "date_from is after date_to",
    ),
    (
        "agreement above 1",
        "post",
        f"/api/v1/projects/{P}/exports/",
        {"format": "csv", "min_agreement": 2},
        "json",
        400,
        "min_agreement",
    ),
    (
        "export of an unknown tag",
        "post",
        f"/api/v1/projects/{P}/exports/",
        {"format": "csv", "tags": ["Нет такого"]},
        "json",
        400,
        "Нет такого",
    ),
    ("predict without project", "post", "/api/v1/predict/", {"title": "x"}, "json", 400, "project"),
    ("predict without text", "post", "/api/v1/predict/", {"project": 1}, "json", 400, "title"),
    (
        "predict for no project",
        "post",
        "/api/v1/predict/",
        {"project": 999999, "title": "x"},
        "json",
        404,
        "No such project",
    ),
    (
        "predict a local file URL",
        "post",
        "/api/v1/predict/",
        {"project": P, "url": "file:///etc/passwd"},
        "json",
        400,
        "url",
    ),
    ("unknown job kind", "get", "/api/v1/jobs/banana-1/", None, "", 404, "job ids look like"),
    ("job id not a number", "get", "/api/v1/jobs/export-abc/", None, "", 404, "job ids"),
    ("unknown endpoint", "get", "/api/v1/nothing/here/", None, "", 404, "No API endpoint"),
    ("id too long", "get", "/api/v1/videos/99999999999999999999999/", None, "", 404, "No API"),
    ("no such video", "get", "/api/v1/videos/999999/", None, "", 404, "No such video"),
    (
        "dataset import without format",
        "post",
        f"/api/v1/projects/{P}/dataset-imports/",
        "dataset-file",
        "multipart",
        400,
        "format",
    ),
]


def _send(client: APIClient, method: str, url: str, body: Any, kind: str) -> Any:
    if kind == "json-raw":
        return client.generic(method.upper(), url, body, content_type="application/json")
    if kind == "xml":
        return client.generic(method.upper(), url, body, content_type="application/xml")
    if kind == "multipart":
        upload = SimpleUploadedFile("x.mp4", b"this is not a video at all" * 10)
        return client.post(url, {"file": upload}, format="multipart")
    return getattr(client, method)(url, body, format=kind or None)


@pytest.mark.parametrize(
    ("method", "url", "body", "kind", "status", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_malformed_request_is_a_clear_json_4xx(
    labeled: Labeled,
    clients: dict[str, APIClient],
    method: str,
    url: str,
    body: Any,
    kind: str,
    status: int,
    words: str,
) -> None:
    ids = {"project": labeled.project.pk, "video": labeled.assigned.pk}
    url = url.format(**ids)
    if isinstance(body, dict) and body.get("project") == P:
        body = {**body, "project": labeled.project.pk}
    response = _send(clients["admin_user"], method, url, body, kind)
    assert response.status_code == status, response.content
    error = response.json()
    assert isinstance(error["detail"], str) and error["detail"]
    assert isinstance(error["code"], str) and error["code"]
    assert words in error["detail"], error


def test_there_are_at_least_twenty_kinds_of_malformed_request() -> None:
    assert len(CASES) >= 20


def test_an_invalid_token_is_refused_with_401(labeled: Labeled) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."


def test_an_upload_over_the_size_limit_is_refused(
    labeled: Labeled, clients: dict[str, APIClient], settings: Settings
) -> None:
    settings.MAX_UPLOAD_BYTES = 100
    upload = SimpleUploadedFile("big.mp4", b"0" * 500)
    response = clients["admin_user"].post(
        f"/api/v1/projects/{labeled.project.pk}/videos/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert "over the limit of 100" in response.json()["detail"]


def test_a_path_without_its_slash_is_redirected_keeping_the_method(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    response = clients["admin_user"].get(f"/api/v1/projects/{labeled.project.pk}?x=1")
    assert response.status_code == 308
    assert response["Location"] == f"/api/v1/projects/{labeled.project.pk}/?x=1"


def _list_operations(schema: dict[str, Any]) -> dict[str, str]:
    """Each GET whose answer is a list, with the name of its answer's schema."""
    lists = {}
    for path, operations in schema["paths"].items():
        answer = operations.get("get", {}).get("responses", {}).get("200", {})
        body = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if body.get("type") == "array":
            lists[path] = "array"
        elif body.get("$ref", "").endswith("Page"):
            lists[path] = body["$ref"].rpartition("/")[2]
    return lists


def test_every_list_is_a_page_that_refuses_bad_page_parameters(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    schema = schema_of(clients["anonymous"])
    lists = _list_operations(schema)
    assert {path for path, kind in lists.items() if kind == "array"} == set()
    pages = list(lists)
    assert "/api/v1/projects/{project_id}/tags/" in pages
    assert len(pages) >= 8
    ids = {"project_id": labeled.project.pk, "video_id": labeled.assigned.pk}
    for path in pages:
        url = path.format(**ids)
        body = clients["admin_user"].get(f"{url}?page_size=1").json()
        assert set(body) == {"next", "previous", "results"}, url
        assert len(body["results"]) <= 1
        for query, name in (("page_size=abc", "page_size"), ("cursor=zzz", "cursor")):
            refused = clients["admin_user"].get(f"{url}?{query}")
            assert refused.status_code == 400, url
            assert list(refused.json()["errors"]) == [name], url
