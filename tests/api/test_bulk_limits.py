"""The bulk import's row limit and body limit agree: 5,000 rows of realistic Russian text
fit in one request, and a larger body is a 413 that says how to split it."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.models import User

from annotations.api.videos import MAX_BULK_BYTES, MAX_BULK_ROWS
from annotations.models import Project, Video
from tests.api.conftest import token_client

# A Rutube-like row: a title, a description of a few paragraphs, tags and a channel.
TITLE = "Обзор матча: «Спартак» — «Зенит», все голы и лучшие моменты второго тайма"
DESCRIPTION = (
    "В этом выпуске разбираем ключевые эпизоды встречи, тактику обеих команд и решения "
    "судьи. Смотрите интервью тренеров после игры, мнения экспертов и статистику матча. "
) * 6
TAGS = "Спорт: Футбол, Спорт: Футбол: Российская премьер-лига"


def _rows(count: int) -> list[dict[str, str]]:
    # A server path: the endpoint refuses each such row at once, without importing
    # anything, so the test pays for reading the body, not for 5,000 imports.
    return [
        {
            "video_id": f"rt-{index}",
            "title": TITLE,
            "description": DESCRIPTION,
            "tags": TAGS,
            "channel": "Футбольный канал",
            "url": f"/srv/videos/{index}.mp4",
        }
        for index in range(count)
    ]


def test_the_row_limit_of_russian_text_fits_in_one_request(
    project: Project, admin_user: User
) -> None:
    body = json.dumps({"rows": _rows(MAX_BULK_ROWS)})  # Cyrillic escaped as \\uXXXX
    assert len(body) > 5 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert len(body) < MAX_BULK_BYTES
    response = token_client(admin_user).post(
        f"/api/v1/projects/{project.pk}/videos/bulk/", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:300]
    report = response.json()
    assert (report["failed"], len(report["rows"])) == (MAX_BULK_ROWS, MAX_BULK_ROWS)
    assert "only http(s) URLs" in report["rows"][0]["message"]
    assert not Video.objects.exists()


def test_a_body_over_the_limit_is_a_413_saying_how_to_split_it(
    project: Project, admin_user: User
) -> None:
    padding = "ж" * (MAX_BULK_BYTES // 6 + 10)
    body = json.dumps({"rows": [{"video_id": "big", "title": "x", "description": padding}]})
    response = token_client(admin_user).post(
        f"/api/v1/projects/{project.pk}/videos/bulk/", body, content_type="application/json"
    )
    assert response.status_code == 413
    detail = response.json()["detail"]
    assert "32 MB" in detail and "5,000 rows" in detail and "several requests" in detail


def test_more_rows_than_the_limit_are_refused_saying_to_send_them_apart(
    project: Project, admin_user: User
) -> None:
    rows = [{"video_id": str(i), "title": "т"} for i in range(MAX_BULK_ROWS + 1)]
    response = token_client(admin_user).post(
        f"/api/v1/projects/{project.pk}/videos/bulk/", {"rows": rows}, format="json"
    )
    assert response.status_code == 400
    assert "At most 5,000 rows per request" in response.json()["detail"]


def test_other_endpoints_keep_djangos_body_limit(project: Project, admin_user: User) -> None:
    body = json.dumps({"name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = token_client(admin_user).post(
        "/api/v1/projects/", body, content_type="application/json"
    )
    assert response.status_code == 413
