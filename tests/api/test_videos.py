"""Videos through the API: cursor pages, filters, creating by upload, URL or text, detail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from annotations.models import (
    ConfirmedLabel,
    Keyframe,
    LabelSource,
    ProcessingStep,
    Project,
    Suggestion,
    TranscriptSegment,
    Video,
    VideoStatus,
)
from tests.api.conftest import Labeled
from tests.factories import make_tag, make_video, video_upload


def _all_pages(client: APIClient, url: str) -> list[list[int]]:
    pages = []
    while url:
        body = client.get(url).json()
        pages.append([video["id"] for video in body["results"]])
        url = body["next"]
    return pages


def test_cursor_pages_list_every_video_once_in_id_order(
    project: Project, clients: dict[str, APIClient]
) -> None:
    videos = [make_video(project) for _ in range(23)]
    admin = clients["admin_user"]
    pages = _all_pages(admin, f"/api/v1/projects/{project.pk}/videos/?page_size=10")
    assert [len(page) for page in pages] == [10, 10, 3]
    assert [pk for page in pages for pk in page] == [v.pk for v in videos]
    second = admin.get(f"/api/v1/projects/{project.pk}/videos/?page_size=10").json()["next"]
    back = admin.get(admin.get(second).json()["previous"]).json()
    assert [video["id"] for video in back["results"]] == pages[0]


def test_a_video_added_while_paging_does_not_shift_the_pages(
    project: Project, clients: dict[str, APIClient]
) -> None:
    first = [make_video(project) for _ in range(4)]
    admin = clients["admin_user"]
    page = admin.get(f"/api/v1/projects/{project.pk}/videos/?page_size=2").json()
    make_video(project)  # newest: appended at the end, not pushed into the next page
    following = admin.get(page["next"]).json()
    assert [v["id"] for v in following["results"]] == [first[2].pk, first[3].pk]


@pytest.fixture
def varied(project: Project) -> dict[str, Video]:
    football = make_tag(project, "Спорт: Футбол")
    make_tag(project, "Музыка")
    videos = {
        "football": make_video(project, title="Финал кубка", status=VideoStatus.READY),
        "pending": make_video(project, title="Ещё не готово"),
        "suggested": make_video(project, title="Про еду", description="Рецепт пирога"),
        "failed": make_video(project, title="Битый файл", status=VideoStatus.FAILED),
    }
    ConfirmedLabel.objects.create(video=videos["football"], tag=football, source=LabelSource.IMPORT)
    Suggestion.objects.create(video=videos["suggested"], tag=football, score=0.4, rank=1)
    return videos


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=ready", ["football"]),
        ("status=failed", ["failed"]),
        ("tag=Спорт", ["football"]),
        ("tag=Спорт: Футбол", ["football"]),
        ("tag=Музыка", []),
        ("confirmed=true", ["football"]),
        ("confirmed=false", ["pending", "suggested", "failed"]),
        ("has_suggestions=true", ["suggested"]),
        ("has_suggestions=false&confirmed=false", ["pending", "failed"]),
        ("search=пирог", ["suggested"]),
        ("search=кубка&status=ready", ["football"]),
    ],
)
def test_video_list_filters(
    project: Project,
    varied: dict[str, Video],
    clients: dict[str, APIClient],
    query: str,
    expected: list[str],
) -> None:
    response = clients["expert"].get(f"/api/v1/projects/{project.pk}/videos/?{query}")
    assert response.status_code == 200, response.content
    assert [v["id"] for v in response.json()["results"]] == [varied[k].pk for k in expected]


def test_create_a_text_only_video_with_tags(
    project: Project, clients: dict[str, APIClient], expert: User
) -> None:
    make_tag(project, "Спорт: Футбол")
    response = clients["expert"].post(
        f"/api/v1/projects/{project.pk}/videos/",
        {
            "title": "Обзор тура",
            "external_id": "rt-1",
            "tags": ["Спорт:Футбол", "Кино"],
            "metadata": {"channel": "Спорт ТВ"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["confirmed_tags"] == ["Спорт: Футбол"]
    assert body["warnings"] == ["unknown tag 'Кино' kept in metadata only"]
    video = Video.objects.get(pk=body["id"])
    assert video.metadata["channel"] == "Спорт ТВ" and video.external_id == "rt-1"
    again = clients["expert"].post(
        f"/api/v1/projects/{project.pk}/videos/", {"title": "x", "external_id": "rt-1"}
    )
    assert again.status_code == 400
    assert "already imported" in again.json()["detail"]


def test_create_by_upload_processes_the_file_and_reports_progress_as_a_job(
    project: Project,
    clients: dict[str, APIClient],
    tiny_clip: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    upload = video_upload(tiny_clip)
    with django_capture_on_commit_callbacks(execute=True):
        response = clients["admin_user"].post(
            f"/api/v1/projects/{project.pk}/videos/",
            {"file": upload, "title": "Клип"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    video_id = response.json()["id"]
    job = clients["admin_user"].get(f"/api/v1/jobs/ingest-{video_id}/").json()
    assert job["state"] in ("done", "failed") and job["progress"] == 1.0
    detail = clients["admin_user"].get(f"/api/v1/videos/{video_id}/").json()
    assert detail["duration_seconds"] == pytest.approx(1.0, abs=0.2)
    assert {step["name"] for step in detail["steps"]} >= {"probe", "transcript"}


def test_create_by_url_fetches_from_an_allowed_host(
    project: Project, clients: dict[str, APIClient], media_server: str, tiny_clip: Path
) -> None:
    response = clients["expert"].post(
        f"/api/v1/projects/{project.pk}/videos/",
        {"url": f"{media_server}/{tiny_clip.name}", "title": "По ссылке"},
        format="json",
    )
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["id"])
    assert video.source_name.endswith("clip.mp4") and video.size_bytes == tiny_clip.stat().st_size


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:9/clip.mp4", "private or local address"),
        ("http://169.254.169.254/latest/meta-data/", "private or local address"),
        ("file:///etc/passwd", "url"),
        ("ftp://example.org/clip.mp4", "http and https"),
    ],
)
def test_create_by_url_refuses_unsafe_urls(
    project: Project, clients: dict[str, APIClient], url: str, reason: str
) -> None:
    response = clients["admin_user"].post(
        f"/api/v1/projects/{project.pk}/videos/", {"url": url}, format="json"
    )
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not Video.objects.exists()


def test_bulk_rows_import_once_and_refuse_server_paths(
    project: Project, clients: dict[str, APIClient]
) -> None:
    make_tag(project, "Музыка")
    rows = [
        {"video_id": "a1", "title": "Песня", "tags": "Музыка", "channel": "Хиты"},
        {"video_id": "a2", "title": "Ещё песня"},
        {"video_id": "a3", "title": "С диска", "file": "/etc/hostname"},
    ]
    url = f"/api/v1/projects/{project.pk}/videos/bulk/"
    first = clients["expert"].post(url, {"rows": rows}, format="json").json()
    assert (first["imported"], first["skipped"], first["failed"]) == (2, 0, 1)
    assert "only http(s) URLs" in first["rows"][2]["message"]
    second = clients["expert"].post(url, {"rows": rows[:2]}, format="json").json()
    assert (second["imported"], second["skipped"]) == (0, 2)
    song = Video.objects.get(external_id="a1")
    assert song.metadata["channel"] == "Хиты"
    assert list(song.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]


def test_video_detail_has_transcript_summary_keyframes_suggestions_and_labels(
    labeled: Labeled, clients: dict[str, APIClient]
) -> None:
    video = labeled.assigned
    video.summary = "Коротко о матче."
    video.save()
    TranscriptSegment.objects.create(
        video=video, index=0, start_seconds=0, end_seconds=2, text="Добрый вечер", source="asr"
    )
    TranscriptSegment.objects.create(
        video=video, index=1, start_seconds=2, end_seconds=4, text="начинаем матч", source="asr"
    )
    Keyframe.objects.create(video=video, timestamp_seconds=1.5, image="keyframes/x/1.jpg")
    Suggestion.objects.create(
        video=video, tag=labeled.tags["Спорт: Футбол"], score=0.91, rank=1, above_threshold=True
    )
    ConfirmedLabel.objects.create(
        video=video, tag=labeled.tags["Спорт"], source=LabelSource.AGREEMENT
    )
    ProcessingStep.objects.create(video=video, name="probe", state="skipped", message="no file")
    body = clients["crowd"].get(f"/api/v1/videos/{video.pk}/").json()
    assert body["transcript"] == "Добрый вечер начинаем матч"
    assert [s["start"] for s in body["segments"]] == [0.0, 2.0]
    assert body["summary"] == "Коротко о матче."
    assert body["keyframes"][0]["timestamp"] == 1.5
    assert body["keyframes"][0]["image_url"].startswith(f"/videos/{video.pk}/keyframes/")
    assert body["suggestions"] == [
        {
            "tag": "Спорт: Футбол",
            "score": 0.91,
            "rank": 1,
            "above_threshold": True,
            "model_version": None,
        }
    ]
    assert body["confirmed_labels"] == []  # a crowd worker does not see the answers
    assert body["steps"][0]["message"] == "no file"
    expert_view = clients["expert"].get(f"/api/v1/videos/{video.pk}/").json()
    assert expert_view["confirmed_labels"][0]["tag"] == "Спорт"
    assert expert_view["confirmed_labels"][0]["source"] == "agreement"
