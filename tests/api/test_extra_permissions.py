"""A permission given to one person directly (``roles.py`` allows it) opens only what their
role in each project allows: objects fetched by id are checked like the project's lists."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Permission, User
from rest_framework.test import APIClient

from annotations.models import (
    ExportSnapshot,
    GoldVideo,
    Job,
    ModelVersion,
    PredictionJob,
    Project,
    ProjectRole,
)
from annotations.roles import P_EXPORT, P_RETRAIN, Role
from annotations.services.export import ExportFilters, export_request
from tests.api.conftest import token_client
from tests.factories import (
    client_for,
    make_job,
    make_member,
    make_project,
    make_tag,
    make_user,
    make_video,
    run_job_of,
)


def _given(user: User, permission: str) -> User:
    """``user`` with ``permission`` added to their account, read again (permissions are cached)."""
    codename = permission.split(".", 1)[1]
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="annotations", codename=codename)
    )
    return User.objects.get(pk=user.pk)


@pytest.fixture
def project_a(db: None) -> Project:
    project = make_project("A")
    make_tag(project, "Спорт")
    return project


def test_an_export_permission_given_to_a_crowd_member_opens_no_snapshot_or_job(
    project_a: Project, admin_user: User
) -> None:
    snapshot = export_request(
        project=project_a, user=admin_user, fmt="jsonl", filters=ExportFilters()
    )
    run_job_of(Job.Kind.EXPORT, snapshot.pk)
    assert ExportSnapshot.objects.get(pk=snapshot.pk).state == ExportSnapshot.State.READY
    dataset_import = make_job(Job.Kind.IMPORT, None, project_a, requested_by=admin_user)
    expert = make_user(Role.EXPERT, "erik_expert")
    make_member(project_a, expert, ProjectRole.CROWD)
    client = token_client(_given(expert, P_EXPORT))

    assert client.get(f"/api/v1/projects/{project_a.pk}/exports/").status_code == 403
    for url in (
        f"/api/v1/exports/{snapshot.pk}/",
        f"/api/v1/exports/{snapshot.pk}/download/",
        f"/api/v1/jobs/export-{snapshot.pk}/",
        f"/api/v1/jobs/{dataset_import.public_id}/",
    ):
        assert client.get(url).status_code == 404, url
    listed = client.get("/api/v1/jobs/").json()["results"]
    assert [job["id"] for job in listed if job["kind"] in ("export", "import")] == []
    # An admin, whose role reaches every project, still follows them.
    admin = token_client(admin_user)
    assert admin.get(f"/api/v1/exports/{snapshot.pk}/").status_code == 200
    assert admin.get(f"/api/v1/jobs/{dataset_import.public_id}/").status_code == 200


@pytest.fixture
def retraining_expert(roles: None, project_a: Project) -> User:
    """An expert of project A whose account was given the permission to retrain."""
    expert = make_user(Role.EXPERT, "erik_expert")
    make_member(project_a, expert, ProjectRole.EXPERT)
    return _given(expert, P_RETRAIN)


def test_a_retrain_permission_given_to_an_expert_promotes_no_model(
    project_a: Project, retraining_expert: User
) -> None:
    version = ModelVersion.objects.create(project=project_a, number=1, state="candidate")
    client = token_client(retraining_expert)
    # They see the version (their role lets them see models) ...
    assert client.get(f"/api/v1/models/{version.pk}/").status_code == 200
    # ... but may promote it no more than retrain or roll back.
    assert client.post(f"/api/v1/projects/{project_a.pk}/models/retrain/").status_code == 403
    assert client.post(f"/api/v1/projects/{project_a.pk}/models/rollback/").status_code == 403
    api = client.post(f"/api/v1/models/{version.pk}/promote/", {"reason": "x"}, format="json")
    assert api.status_code == 403
    page = client_for(retraining_expert).post(f"/models/{version.pk}/promote/", {"reason": "x"})
    assert page.status_code == 403
    assert ModelVersion.objects.get(pk=version.pk).state == "candidate"
    assert project_a.model_events.count() == 0


def test_a_retrain_permission_given_to_an_expert_shows_no_retrain_button_and_marks_no_gold(
    project_a: Project, retraining_expert: User
) -> None:
    client = client_for(retraining_expert)
    models_page = client.get(f"/projects/{project_a.pk}/models/")
    assert models_page.status_code == 200
    assert models_page.context["can_retrain"] is False
    assert models_page.context["quality_form"] is None
    video = make_video(project_a, title="Матч")
    assert client.get(f"/videos/{video.pk}/").context["can_mark_gold"] is False
    assert client.post(f"/videos/{video.pk}/gold/", {"gold": "1"}).status_code == 403
    assert not GoldVideo.objects.filter(video=video).exists()


def test_a_retrain_permission_given_to_an_expert_shows_only_their_own_predictions(
    project_a: Project, retraining_expert: User, admin_user: User
) -> None:
    def prediction_by(user: User) -> Job:
        job = PredictionJob.objects.create(
            project=project_a, created_by=user, token=uuid.uuid4().hex
        )
        return make_job(Job.Kind.PREDICT, job.pk, project_a, requested_by=user)

    others, own = prediction_by(admin_user), prediction_by(retraining_expert)
    client: APIClient = token_client(retraining_expert)
    assert client.get(f"/api/v1/jobs/{others.public_id}/").status_code == 404
    assert client.get(f"/api/v1/jobs/{own.public_id}/").status_code == 200
    listed = client.get("/api/v1/jobs/?kind=predict").json()["results"]
    assert [job["id"] for job in listed] == [own.public_id]
    assert token_client(admin_user).get(f"/api/v1/jobs/{own.public_id}/").status_code == 200
