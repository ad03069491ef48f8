"""The role matrix: each role against each page and action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import ConfirmedLabel, LabelSource, Project, Video
from tests.factories import assign, client_for, make_tag, make_video

ROLES = ["admin_user", "expert", "crowd", "no_role_user"]


@pytest.fixture
def users(request: pytest.FixtureRequest) -> dict[str, User]:
    return {name: request.getfixturevalue(name) for name in ROLES}


@pytest.fixture
def assigned_video(project: Project, crowd: User) -> Video:
    video = make_video(project, title="Assigned to carl")
    assign(video, crowd)
    return video


@pytest.fixture
def unassigned_video(project: Project, other_crowd: User) -> Video:
    video = make_video(project, title="Assigned to cora only")
    assign(video, other_crowd)
    return video


PAGE_MATRIX = [
    # (url template, admin, expert, crowd, no role)
    ("/", 200, 200, 200, 403),
    ("/projects/{project}/", 200, 200, 200, 404),
    ("/projects/{project}/taxonomy/", 200, 200, 200, 404),
    ("/projects/{project}/videos/new/", 200, 200, 403, 403),
    ("/videos/{assigned}/", 200, 200, 200, 404),
    ("/videos/{unassigned}/", 200, 200, 404, 404),
    (
        "/videos/{unassigned}/file/",
        404,
        404,
        404,
        404,
    ),  # no media file: 404 for those who may see it
    ("/api/v1/projects/", 200, 200, 200, 403),
    ("/api/v1/projects/{project}/videos/", 200, 200, 200, 403),
    ("/api/v1/videos/{assigned}/", 200, 200, 200, 403),
    ("/api/v1/videos/{unassigned}/", 200, 200, 404, 403),
]


@pytest.mark.parametrize(("url", "as_admin", "as_expert", "as_crowd", "as_nobody"), PAGE_MATRIX)
def test_each_role_gets_the_expected_status_for_each_page(
    users: dict[str, User],
    project: Project,
    assigned_video: Video,
    unassigned_video: Video,
    url: str,
    as_admin: int,
    as_expert: int,
    as_crowd: int,
    as_nobody: int,
) -> None:
    path = url.format(
        project=project.pk, assigned=assigned_video.pk, unassigned=unassigned_video.pk
    )
    expected = dict(zip(ROLES, [as_admin, as_expert, as_crowd, as_nobody], strict=True))
    actual = {role: client_for(user).get(path).status_code for role, user in users.items()}
    assert actual == expected


@pytest.mark.parametrize("url", ["/", "/projects/1/", "/videos/1/", "/projects/1/videos/new/"])
def test_anonymous_visitors_are_sent_to_the_login_page(db: None, url: str) -> None:
    response = client_for(None).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_anonymous_api_calls_are_refused(db: None) -> None:
    assert client_for(None).get("/api/v1/projects/").status_code in (401, 403)


def test_only_admins_may_import_a_taxonomy(users: dict[str, User], project: Project) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    statuses = {}
    for role, user in users.items():
        upload = SimpleUploadedFile(
            "tags.txt", "Спорт: Футбол\n".encode(), content_type="text/plain"
        )
        response = client_for(user).post(
            f"/projects/{project.pk}/taxonomy/import/", {"file": upload, "format": "auto"}
        )
        statuses[role] = response.status_code
    assert statuses == {"admin_user": 302, "expert": 403, "crowd": 403, "no_role_user": 403}
    assert sorted(project.tags.values_list("path", flat=True)) == ["Спорт", "Спорт: Футбол"]


def test_crowd_worker_sees_only_assigned_videos_in_the_project_list(
    crowd: User, project: Project, assigned_video: Video, unassigned_video: Video
) -> None:
    page = client_for(crowd).get(f"/projects/{project.pk}/").content.decode()
    assert assigned_video.title in page
    assert unassigned_video.title not in page


def test_crowd_worker_sees_no_project_without_an_assignment(crowd: User, project: Project) -> None:
    make_video(project)
    page = client_for(crowd).get("/").content.decode()
    assert project.name not in page


def test_confirmed_labels_are_shown_to_experts_but_not_to_crowd_workers(
    expert: User, crowd: User, project: Project, assigned_video: Video
) -> None:
    tag = make_tag(project, "Спорт: Хоккей")
    ConfirmedLabel.objects.create(video=assigned_video, tag=tag, source=LabelSource.REVIEW)
    url = f"/videos/{assigned_video.pk}/"
    assert "Спорт: Хоккей" in client_for(expert).get(url).content.decode()
    assert "Спорт: Хоккей" not in client_for(crowd).get(url).content.decode()


def test_a_crowd_token_reads_only_its_assignments(
    crowd: User, project: Project, assigned_video: Video, unassigned_video: Video
) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=crowd).key}")
    listed = api.get(f"/api/v1/projects/{project.pk}/videos/").json()
    assert [video["id"] for video in listed["results"]] == [assigned_video.pk]


def test_django_admin_site_is_for_admins_only(admin_user: User, expert: User) -> None:
    assert client_for(admin_user).get("/admin/annotations/video/").status_code == 200
    assert client_for(expert).get("/admin/annotations/video/").status_code == 302


def test_logout_requires_post_and_ends_the_session(expert: User) -> None:
    client = client_for(expert)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_login_page_logs_a_user_in(expert: User) -> None:
    from tests.factories import PASSWORD

    client = client_for(None)
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": expert.username, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_csrf_is_enforced_on_forms(admin_user: User, project: Project) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post(f"/projects/{project.pk}/taxonomy/import/", {})
    assert response.status_code == 403


def test_the_tags_a_video_came_with_are_hidden_from_crowd_workers(
    expert: User, crowd: User, project: Project, assigned_video: Video
) -> None:
    assigned_video.metadata = {"original_tags": ["Спорт: Хоккей"], "channel": "Хоккей ТВ"}
    assigned_video.save()
    for url in (f"/videos/{assigned_video.pk}/", f"/videos/{assigned_video.pk}/label/"):
        crowd_page = client_for(crowd).get(url).content.decode()
        assert "Хоккей ТВ" in crowd_page
        assert "Спорт: Хоккей" not in crowd_page
    assert (
        "Спорт: Хоккей" in client_for(expert).get(f"/videos/{assigned_video.pk}/").content.decode()
    )
