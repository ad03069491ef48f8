"""A project's tags through the API: a page like every list, in path order, with a page
large enough for a whole taxonomy of the usual size."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import Project
from tests.api.conftest import token_client

# As many tags as a large real taxonomy (the IAB content taxonomy has about 610): 30 top
# tags, each with 4 tags below, each of those with 5 more.
TOP, MIDDLE, BOTTOM = 30, 4, 5


def _taxonomy_lines() -> str:
    lines = []
    for top in range(TOP):
        for middle in range(MIDDLE):
            for bottom in range(BOTTOM):
                lines.append(f"Тема {top:02}: Раздел {middle}: Рубрика {bottom}")
    return "\n".join(lines)


def _imported(client: APIClient, project: Project) -> int:
    response = client.post(
        f"/api/v1/projects/{project.pk}/tags/",
        {"text": _taxonomy_lines(), "format": "lines"},
        format="json",
    )
    assert response.status_code == 200, response.content
    created: int = response.json()["created"]
    return created


def _page(client: APIClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    page: dict[str, Any] = response.json()
    return page


def test_a_taxonomy_of_the_usual_size_comes_in_one_page_in_path_order(
    project: Project, admin_user: User
) -> None:
    client = token_client(admin_user)
    created = _imported(client, project)
    assert created == TOP * (1 + MIDDLE * (1 + BOTTOM)) > 700
    page = _page(client, f"/api/v1/projects/{project.pk}/tags/")
    assert set(page) == {"next", "previous", "results"}
    assert page["next"] is None
    tags = page["results"]
    assert [tag["path"] for tag in tags] == list(
        project.tags.order_by("path").values_list("path", flat=True)
    )
    seen: set[int] = set()
    for tag in tags:
        assert tag["parent"] is None or tag["parent"] in seen, tag["path"]
        seen.add(tag["id"])
    assert set(tags[0]) == {
        "id",
        "path",
        "name",
        "depth",
        "parent",
        "active",
        "hotkey",
        "labeled_videos",
    }


def test_smaller_pages_walk_the_same_order_with_the_cursor(
    project: Project, admin_user: User
) -> None:
    client = token_client(admin_user)
    _imported(client, project)
    whole = _page(client, f"/api/v1/projects/{project.pk}/tags/")["results"]
    walked: list[dict[str, Any]] = []
    url: str | None = f"/api/v1/projects/{project.pk}/tags/?page_size=100"
    while url is not None:
        page = _page(client, url)
        assert len(page["results"]) <= 100
        walked.extend(page["results"])
        url = page["next"]
    assert walked == whole
    refused = client.get(f"/api/v1/projects/{project.pk}/tags/?page_size=1001")
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["page_size"]
