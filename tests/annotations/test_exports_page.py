"""The exports page: a snapshot asked for with a format and filters, listed with what it
holds, and downloaded byte for byte."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.http import FileResponse

from annotations.models import ExportSnapshot, ModelVersion, Project
from annotations.services.labeling.review import video_confirm_by_model
from tests.annotations.labeling_fixtures import imported_label, ready_video
from tests.factories import client_for, make_tag


def test_an_admin_exports_a_filtered_snapshot_and_downloads_it(
    project: Project, admin_user: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    football, cooking = make_tag(project, "Спорт: Футбол"), make_tag(project, "Еда: Кулинария")
    imported_label(ready_video(project, title="Матч"), football)
    imported_label(ready_video(project, title="Борщ"), cooking)
    ModelVersion.objects.create(project=project, number=3, state="promoted")
    client = client_for(admin_user)
    form = client.get(f"/projects/{project.pk}/exports/").content.decode()
    assert 'value="labelstudio"' in form and "Label Studio JSON" in form
    with django_capture_on_commit_callbacks(execute=True):  # the build job runs here
        response = client.post(
            f"/projects/{project.pk}/exports/",
            {"format": "csv", "scope": "confirmed", "tags": ["Спорт"]},
        )
    assert response.status_code == 302
    snapshot = ExportSnapshot.objects.get()
    assert (snapshot.state, snapshot.row_count, snapshot.filters["tags"]) == ("ready", 1, ["Спорт"])
    page = client.get(f"/projects/{project.pk}/exports/").content.decode()
    row = page.split(f'data-snapshot="{snapshot.pk}"')[1].split("</tr>")[0]
    assert snapshot.sha256[:12] in row and "v3" in row and admin_user.username in row
    assert f"/api/v1/exports/{snapshot.pk}/download/" in row
    download = client.get(f"/api/v1/exports/{snapshot.pk}/download/")
    assert isinstance(download, FileResponse)
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == snapshot.sha256
    assert "Матч" in body.decode("utf-8") and "Борщ" not in body.decode("utf-8")


def test_a_refused_export_form_answers_422_and_builds_nothing(
    project: Project, admin_user: User
) -> None:
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/exports/",
        {"format": "xml", "scope": "confirmed", "date_from": "2025-02-01", "date_to": "2025-01-01"},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "format" in errors and "__all__" in errors
    assert not ExportSnapshot.objects.exists()


def test_a_snapshot_being_built_keeps_the_list_polling(project: Project, admin_user: User) -> None:
    ExportSnapshot.objects.create(project=project, format="jsonl", created_by=admin_user)
    html = client_for(admin_user).get(f"/projects/{project.pk}/exports/").content.decode()
    assert 'hx-trigger="every 2s"' in html and 'data-state="building"' in html


@pytest.mark.parametrize("who", ["expert", "crowd"])
def test_only_admins_see_the_exports_page(
    request: pytest.FixtureRequest, project: Project, who: str
) -> None:
    client = client_for(request.getfixturevalue(who))
    assert client.get(f"/projects/{project.pk}/exports/").status_code == 403
    assert client.post(f"/projects/{project.pk}/exports/", {"format": "csv"}).status_code == 403
    assert not ExportSnapshot.objects.exists()


@pytest.mark.label_audit
def test_an_admin_exports_people_s_labels_only(
    project: Project, admin_user: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    football, hockey = make_tag(project, "Спорт: Футбол"), make_tag(project, "Спорт: Хоккей")
    imported_label(ready_video(project, title="Матч"), football)
    version = ModelVersion.objects.create(project=project, number=2, state="promoted")
    video_confirm_by_model(
        video=ready_video(project, title="Шайба"), tag_ids=[hockey.pk], version=version
    )
    client = client_for(admin_user)
    form = client.get(f"/projects/{project.pk}/exports/").content.decode()
    assert 'name="human_only"' in form and "only the model confirmed" in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{project.pk}/exports/",
            {"format": "csv", "scope": "confirmed", "human_only": "on"},
        )
    assert response.status_code == 302
    snapshot = ExportSnapshot.objects.get()
    assert (snapshot.state, snapshot.row_count, snapshot.filters["human_only"]) == (
        "ready",
        1,
        True,
    )
    page = client.get(f"/projects/{project.pk}/exports/").content.decode()
    row = page.split(f'data-snapshot="{snapshot.pk}"')[1].split("</tr>")[0]
    assert "people's labels only" in row
    body = b"".join(client.get(f"/api/v1/exports/{snapshot.pk}/download/").streaming_content)  # type: ignore[attr-defined]
    assert "Матч" in body.decode("utf-8") and "Шайба" not in body.decode("utf-8")
