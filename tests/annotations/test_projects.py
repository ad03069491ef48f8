"""Projects from the browser, and membership: who sees which project, with which role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from annotations.models import (
    Annotation,
    Assignment,
    Membership,
    Project,
    ProjectRole,
    QueueOrder,
)
from annotations.selectors import projects_for_user
from annotations.selectors.access import may
from annotations.services.labeling.queue import next_video_for
from annotations.services.projects import membership_remove, membership_set
from tests.annotations.labeling_fixtures import ready_video, submitted
from tests.factories import assign, client_for, make_member, make_project, make_tag

NEW_PROJECT = {
    "name": "Rutube 2025",
    "labeling_mode": "single",
    "annotators_per_video": "3",
    "queue_order": "uncertain",
    "auto_confirm_agreement": "",
    "review_majority_share": "0.6",
    "self_review": "on",
    "taxonomy_name": "IAB 3.0",
    "guidelines": "## Как размечать\n\n* **Все** темы видео",
}


def test_an_admin_creates_a_project_with_every_setting_from_the_form(admin_user: User) -> None:
    client = client_for(admin_user)
    form = client.get("/projects/new/").content.decode()
    assert 'name="review_majority_share"' in form and 'name="self_review"' in form
    response = client.post("/projects/new/", NEW_PROJECT)
    project = Project.objects.get(name="Rutube 2025")
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/taxonomy/"
    assert (
        project.is_single_label,
        project.annotators_per_video,
        project.queue_order,
        project.auto_confirm_agreement,
        project.review_majority_share,
        project.self_review,
    ) == (True, 3, QueueOrder.UNCERTAIN, False, 0.6, True)
    assert project.guidelines.startswith("## Как размечать")


def test_a_refused_project_form_answers_422_naming_the_field(
    admin_user: User, project: Project
) -> None:
    response = client_for(admin_user).post(
        "/projects/new/", {**NEW_PROJECT, "name": project.name, "annotators_per_video": "0"}
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert set(errors) == {"name", "annotators_per_video"}
    assert Project.objects.count() == 1


@pytest.mark.parametrize("who", ["expert", "crowd"])
def test_only_admins_create_projects(request: pytest.FixtureRequest, who: str) -> None:
    user = request.getfixturevalue(who)
    client = client_for(user)
    assert client.get("/projects/new/").status_code == 403
    assert client.post("/projects/new/", NEW_PROJECT).status_code == 403
    assert not Project.objects.filter(name=NEW_PROJECT["name"]).exists()


def test_the_guidelines_preview_renders_markdown_and_drops_scripts(admin_user: User) -> None:
    response = client_for(admin_user).post(
        "/projects/guidelines/preview/",
        {"guidelines": "**важно**<script>alert(1)</script>"},
    )
    html = response.content.decode()
    assert "<strong>важно</strong>" in html
    assert "<script" not in html


def test_settings_are_saved_and_a_member_cannot_change_them(
    admin_user: User, expert: User, project: Project
) -> None:
    url = f"/projects/{project.pk}/settings/"
    assert client_for(expert).post(url, {**NEW_PROJECT, "name": "taken over"}).status_code == 403
    response = client_for(admin_user).post(url, {**NEW_PROJECT, "name": "Переименован"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.annotators_per_video) == ("Переименован", 3)


def test_an_archived_project_disappears_for_members_and_hands_out_nothing(
    admin_user: User, crowd: User, project: Project
) -> None:
    video = ready_video(project)
    assign(video, crowd)
    response = client_for(admin_user).post(f"/projects/{project.pk}/archive/", {"archive": "1"})
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.is_archived
    assert client_for(crowd).get(f"/projects/{project.pk}/").status_code == 404
    assert client_for(crowd).get(f"/videos/{video.pk}/label/").status_code == 404
    assert next_video_for(admin_user, project) is None
    home = client_for(admin_user).get("/").content.decode()
    assert 'id="archived-projects"' in home and project.name in home
    assert Project.objects.filter(pk=project.pk).exists()  # nothing deleted

    client_for(admin_user).post(f"/projects/{project.pk}/archive/", {"archive": "0"})
    assert client_for(crowd).get(f"/projects/{project.pk}/").status_code == 200


def test_a_crowd_worker_of_project_a_sees_nothing_of_project_b(
    crowd: User, other_crowd: User
) -> None:
    project_a, project_b = make_project("A"), make_project("B")
    mine = ready_video(project_a, title="Моё видео")
    theirs = ready_video(project_b, title="Чужое видео")
    assign(mine, crowd)
    assign(theirs, other_crowd)
    client = client_for(crowd)
    home = client.get("/").content.decode()
    assert list(projects_for_user(crowd)) == [project_a]
    assert f"/projects/{project_b.pk}/" not in home
    for url in (
        f"/projects/{project_b.pk}/",
        f"/projects/{project_b.pk}/videos/",
        f"/projects/{project_b.pk}/taxonomy/",
        f"/projects/{project_b.pk}/label/",
        f"/videos/{theirs.pk}/",
        f"/videos/{theirs.pk}/label/",
    ):
        assert client.get(url).status_code == 404, url
    api = client.get("/api/v1/projects/", HTTP_ACCEPT="application/json").json()
    assert [row["id"] for row in api["results"]] == [project_a.pk]


def test_an_expert_without_membership_does_not_see_the_project(expert: User) -> None:
    other = make_project("Чужой")
    assert client_for(expert).get(f"/projects/{other.pk}/").status_code == 404
    make_member(other, expert, ProjectRole.EXPERT)
    assert client_for(expert).get(f"/projects/{other.pk}/").status_code == 200


def test_an_expert_who_is_crowd_in_one_project_labels_only_assigned_videos_there(
    expert: User, crowd: User
) -> None:
    project = make_project("Где эксперт — толока")
    make_member(project, expert, ProjectRole.CROWD)
    football = make_tag(project, "Спорт: Футбол")
    assigned, other = ready_video(project, title="Назначено"), ready_video(project, title="Нет")
    Assignment.objects.create(video=assigned, annotator=expert)
    submitted(other, crowd, [football])
    client = client_for(expert)
    assert client.get(f"/videos/{other.pk}/").status_code == 404
    assert client.get(f"/videos/{assigned.pk}/label/").status_code == 200
    assert client.get(f"/projects/{project.pk}/review/").status_code == 403
    assert client.get(f"/projects/{project.pk}/team/").status_code == 403
    assert not may(expert, project, "annotations.view_all_annotations")
    assert next_video_for(expert, project) == assigned
    # Elsewhere, where they are an expert, nothing is narrowed.
    home_project = make_project("Где эксперт — эксперт")
    make_member(home_project, expert, ProjectRole.EXPERT)
    assert may(expert, home_project, "annotations.review_annotations")


def test_setting_a_project_role_raises_the_account_role_but_not_the_other_projects(
    admin_user: User, crowd: User
) -> None:
    first, second = make_project("Первый"), make_project("Второй")
    membership_set(project=first, user=crowd, role=ProjectRole.CROWD, by=admin_user)
    membership_set(project=second, user=crowd, role=ProjectRole.EXPERT, by=admin_user)
    crowd = User.objects.get(pk=crowd.pk)  # permissions are cached per object
    assert may(crowd, second, "annotations.review_annotations")
    assert not may(crowd, first, "annotations.review_annotations")
    assert not may(crowd, first, "annotations.label_any_video")


def test_removing_a_member_releases_their_open_work_and_keeps_what_they_submitted(
    project: Project, crowd: User
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    done, open_one = ready_video(project), ready_video(project)
    assign(done, crowd)
    assign(open_one, crowd)
    submitted(done, crowd, [football])
    assert membership_remove(project=project, user=crowd) == 1
    assert list(Assignment.objects.filter(annotator=crowd).values_list("video", flat=True)) == [
        done.pk
    ]
    assert Annotation.objects.filter(annotator=crowd, video=done).exists()
    assert not Membership.objects.filter(user=crowd).exists()
    assert client_for(crowd).get(f"/projects/{project.pk}/").status_code == 404


def test_an_expert_who_is_crowd_in_one_project_sees_none_of_its_expert_pages(
    expert: User,
) -> None:
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotations.models import ModelVersion

    project = make_project("Где эксперт — толока")
    make_member(project, expert, ProjectRole.CROWD)
    version = ModelVersion.objects.create(project=project, number=1, state="promoted")
    client = client_for(expert)
    for url in (
        f"/projects/{project.pk}/models/",
        f"/models/{version.pk}/",
        f"/projects/{project.pk}/dashboard/",
        f"/projects/{project.pk}/team/",
        f"/projects/{project.pk}/review/",
        f"/projects/{project.pk}/exports/",
        f"/projects/{project.pk}/audit/",
    ):
        assert client.get(url).status_code in (403, 404), url
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=expert).key}")
    for url in (f"/api/v1/projects/{project.pk}/models/", f"/api/v1/models/{version.pk}/"):
        assert api.get(url).status_code in (403, 404), url
