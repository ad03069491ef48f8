from __future__ import annotations

from django.contrib.auth.models import User

from annotations.models import Project
from tests.factories import client_for, make_video


def test_admin_sees_project_list(admin_user: User, project: Project) -> None:
    make_video(project)
    response = client_for(admin_user).get("/")
    assert response.status_code == 200
    assert project.name in response.content.decode()
