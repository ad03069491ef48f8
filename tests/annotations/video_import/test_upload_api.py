"""Uploading one video through the API, with a token or a session."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from annotations.models import Project, Video
from tests.annotations.video_import.helpers import Library, sha256_of, stored_videos, upload_file
from tests.factories import client_for, make_tag

pytestmark = [pytest.mark.django_db, pytest.mark.label_audit]


def test_api_upload_with_a_token_creates_the_video(
    admin_user: User, project: Project, library: Library
) -> None:
    make_tag(project, "Музыка")
    token = Token.objects.create(user=admin_user)

    response = Client().post(
        f"/api/v1/projects/{project.pk}/videos/",
        {"file": upload_file(library, "b", "clip.mp4"), "title": "Клип", "tags": "Музыка, Балет"},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    video = Video.objects.get(pk=body["id"])
    assert body["title"] == "Клип" == video.title
    assert body["sha256"] == sha256_of(library["b"])
    assert body["status"] == "pending"
    assert body["warnings"] == ["unknown tag 'Балет' kept in metadata only"]
    assert list(video.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]


def test_api_upload_with_a_session_as_expert_creates_the_video(
    expert: User, project: Project, library: Library
) -> None:
    response = client_for(expert).post(
        f"/api/v1/projects/{project.pk}/videos/", {"file": upload_file(library, "c", "c.mp4")}
    )

    assert response.status_code == 201, response.content
    assert Video.objects.get().title == "c"


def test_api_upload_of_a_non_video_is_a_400_with_the_reason(
    admin_user: User, project: Project, library: Library
) -> None:
    response = client_for(admin_user).post(
        f"/api/v1/projects/{project.pk}/videos/", {"file": upload_file(library, "text", "x.mp4")}
    )

    assert response.status_code == 400
    assert "not a video or audio file" in response.json()["detail"]
    assert not Video.objects.exists()


def test_api_upload_by_a_crowd_worker_is_forbidden(
    crowd: User, project: Project, library: Library
) -> None:
    token = Token.objects.create(user=crowd)

    response = Client().post(
        f"/api/v1/projects/{project.pk}/videos/",
        {"file": upload_file(library, "a", "a.mp4")},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 403
    assert not Video.objects.exists()
    assert stored_videos() == []


def test_api_upload_without_credentials_is_refused(project: Project, library: Library) -> None:
    response = Client().post(
        f"/api/v1/projects/{project.pk}/videos/", {"file": upload_file(library, "a", "a.mp4")}
    )

    assert response.status_code in (401, 403)
    assert not Video.objects.exists()
