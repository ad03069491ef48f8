"""Uploading one video through the upload page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from annotations.models import Project, Video
from tests.annotations.video_import.helpers import Library, sha256_of, stored_videos, upload_file
from tests.factories import client_for, make_tag

pytestmark = pytest.mark.django_db


def test_admin_uploads_a_video_and_is_sent_to_its_page(
    admin_user: User, project: Project, library: Library, private_tempdir: Path
) -> None:
    make_tag(project, "Спорт: Футбол")

    response = client_for(admin_user).post(
        f"/projects/{project.pk}/videos/new/",
        {
            "file": upload_file(library, "a", "Матч.mp4"),
            "title": "",
            "description": "Обзор",
            "tags": "Спорт:Футбол, Неизвестное",
        },
    )

    video = Video.objects.get(project=project)
    assert response.status_code == 302
    assert response["Location"] == f"/videos/{video.pk}/"
    assert video.title == "Матч"
    assert video.sha256 == sha256_of(library["a"])
    assert video.source_name == "Матч.mp4"
    assert list(video.confirmed_labels.values_list("tag__path", "source")) == [
        ("Спорт: Футбол", "import")
    ]
    assert video.confirmed_labels.get().confirmed_by == admin_user
    assert video.metadata["unknown_tags"] == ["Неизвестное"]
    assert list(private_tempdir.iterdir()) == []


def test_uploading_a_file_that_is_not_a_video_shows_a_form_error(
    admin_user: User, project: Project, library: Library, private_tempdir: Path
) -> None:
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/videos/new/", {"file": upload_file(library, "text", "clip.mp4")}
    )

    assert response.status_code == 200
    assert "not a video or audio file" in " ".join(response.context["form"].errors["file"])
    assert not Video.objects.exists()
    assert stored_videos() == []
    assert list(private_tempdir.iterdir()) == []


def test_uploading_the_same_video_twice_is_refused(
    admin_user: User, project: Project, library: Library
) -> None:
    client = client_for(admin_user)
    client.post(f"/projects/{project.pk}/videos/new/", {"file": upload_file(library, "a", "a.mp4")})

    response = client.post(
        f"/projects/{project.pk}/videos/new/", {"file": upload_file(library, "a", "b.mp4")}
    )

    assert response.status_code == 200
    assert "already imported" in " ".join(response.context["form"].errors["file"])
    assert Video.objects.count() == 1
    assert len(stored_videos()) == 1


def test_upload_over_the_limit_is_refused_before_probing(
    settings: Settings, admin_user: User, project: Project, library: Library
) -> None:
    settings.MAX_UPLOAD_BYTES = 1000

    response = client_for(admin_user).post(
        f"/projects/{project.pk}/videos/new/", {"file": upload_file(library, "a", "a.mp4")}
    )

    assert response.status_code == 200
    assert "larger than the upload limit" in " ".join(response.context["form"].errors["file"])
    assert not Video.objects.exists()


def test_crowd_worker_cannot_open_or_post_the_upload_page(
    crowd: User, project: Project, library: Library
) -> None:
    client = client_for(crowd)

    assert client.get(f"/projects/{project.pk}/videos/new/").status_code == 403
    response = client.post(
        f"/projects/{project.pk}/videos/new/", {"file": upload_file(library, "a", "a.mp4")}
    )

    assert response.status_code == 403
    assert not Video.objects.exists()
