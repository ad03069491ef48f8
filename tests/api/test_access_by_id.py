"""Every endpoint that takes an id, walked from the URL configuration: an object of a
project the caller may not see answers exactly like an object that does not exist."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import URLPattern, reverse
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django_q.models import Task
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from annotations.api.urls import urlpatterns
from annotations.models import (
    Annotation,
    ExportSnapshot,
    Job,
    Membership,
    ModelVersion,
    PredictionJob,
    Project,
    ProjectRole,
    Tag,
    Video,
)
from annotations.roles import P_LABEL_ANY, P_MANAGE_PROJECTS, ROLE_PERMISSIONS, Role
from annotations.selectors import JOB_KINDS
from annotations.services.export import ExportFilters, export_request
from tests.api.conftest import token_client
from tests.factories import (
    assign,
    make_job,
    make_project,
    make_tag,
    make_user,
    make_video,
    run_job_of,
)

METHODS = ("get", "post", "put", "patch", "delete")
MISSING = 999_999_999


@dataclass(frozen=True)
class Route:
    name: str
    params: tuple[str, ...]
    methods: tuple[str, ...]


def _routes_with_ids() -> list[Route]:
    routes = []
    for pattern in urlpatterns:
        if not isinstance(pattern, URLPattern) or not isinstance(pattern.pattern, RoutePattern):
            continue
        params = tuple(pattern.pattern.converters)
        if params:
            view = vars(pattern.callback)["view_class"]
            methods = tuple(method for method in METHODS if hasattr(view, method))
            routes.append(Route(str(pattern.name), params, methods))
    return routes


ROUTES = _routes_with_ids()


def _objects_of(project: Project, owner: User) -> dict[str, list[Any]]:
    """One object of each kind in ``project``, as the values of each URL parameter."""
    make_tag(project, "Спорт: Футбол")
    video = make_video(project, title=f"Видео {project.name}")
    assign(video, owner)
    Annotation.objects.create(video=video, annotator=owner)
    version = ModelVersion.objects.create(project=project, number=1, state="candidate")
    make_job(Job.Kind.TRAINING, version.pk, project, state=Job.State.DONE)
    snapshot = export_request(project=project, user=owner, fmt="jsonl", filters=ExportFilters())
    export_job = run_job_of(Job.Kind.EXPORT, snapshot.pk)
    job = PredictionJob.objects.create(project=project, created_by=owner, token=uuid.uuid4().hex)
    make_job(Job.Kind.PREDICT, job.pk, project, requested_by=owner)
    make_job(Job.Kind.SUGGESTIONS, project.pk, project, state=Job.State.DONE)
    dataset_import = make_job(Job.Kind.IMPORT, None, project, requested_by=owner)
    task = Task.objects.create(
        id=uuid.uuid4().hex,
        name=f"export job {export_job.pk}",
        func="annotations.tasks.run_job",
        args=(export_job.pk,),
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
        result="ok",
    )
    jobs = {
        "predict": f"predict-{job.pk}",
        "export": f"export-{snapshot.pk}",
        "training": f"training-{version.pk}",
        "ingest": f"ingest-{video.pk}",
        "suggestions": f"suggestions-{project.pk}",
        "import": f"import-{dataset_import.pk}",
        "task": f"task-{task.pk}",
    }
    assert set(jobs) == set(JOB_KINDS), "a new job kind needs an object here"
    return {
        "project_id": [project.pk],
        "video_id": [video.pk],
        "version_id": [version.pk],
        "export_id": [snapshot.pk],
        "job_id": list(jobs.values()),
    }


def _missing_like(name: str, value: Any) -> Any:
    """An id of the same kind that names nothing."""
    if name != "job_id":
        return MISSING
    kind = str(value).partition("-")[0]
    return f"{kind}-{uuid.uuid4().hex if kind == 'task' else MISSING}"


def _urls(objects: dict[str, list[Any]], route: Route) -> list[tuple[str, str]]:
    """(url for the objects, url for ids that name nothing) for each object of the route."""
    missing_params = [name for name in route.params if name not in objects]
    assert not missing_params, f"{route.name}: no test object for {missing_params}"
    (name,) = route.params
    return [
        (
            reverse(route.name, kwargs={name: value}),
            reverse(route.name, kwargs={name: _missing_like(name, value)}),
        )
        for value in objects[name]
    ]


def _call(client: APIClient, method: str, url: str) -> Any:
    return getattr(client, method)(url, {}, format="json")


@pytest.fixture
def settled(settings: Settings, tmp_path: Path) -> None:
    settings.MODEL_DIR = tmp_path / "models"
    settings.API_THROTTLE_RATES = {name: "100000/min" for name in settings.API_THROTTLE_RATES}


@pytest.fixture
def outsider(roles: None) -> User:
    """A crowd worker of project A holding every other permission but labeling any video
    and managing projects (which shows every project): every endpoint lets them in, and
    only the project decides what they reach."""
    user = make_user(Role.CROWD, "olga_outsider")
    codenames = {name.split(".", 1)[1] for name in ROLE_PERMISSIONS[Role.ADMIN]}
    codenames.discard(P_LABEL_ANY.split(".", 1)[1])
    codenames.discard(P_MANAGE_PROJECTS.split(".", 1)[1])
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="annotations", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def _state_of(project: Project) -> dict[str, Any]:
    counts: dict[str, Any] = {
        model.__name__: model._default_manager.filter(project=project).count()
        for model in (Video, Tag, ModelVersion, ExportSnapshot, PredictionJob)
    }
    counts["annotations"] = Annotation.objects.filter(video__project=project).count()
    counts["project"] = Project.objects.filter(pk=project.pk).values().get()
    return counts


def test_every_id_route_is_walked() -> None:
    names = {route.name for route in ROUTES}
    assert {"api_video", "api_export_download", "api_job", "api_model_promote"} <= names
    assert all(len(route.params) == 1 for route in ROUTES)


# Endpoints whose permission no role in a project grants (only admins, who see every
# project, hold it): the account's permission alone does not open them in a project. A
# project's list refuses with a 403; an object fetched by id is hidden (404) as if it were
# another project's: the snapshots, and the jobs that export or import (the django-q task
# of _objects_of runs an export).
BEYOND_AN_EXPERTS_ROLE = {"api_exports", "api_labelstudio_config"}
HIDDEN_FROM_AN_EXPERTS_ROLE = {"api_export", "api_export_download"}
JOBS_HIDDEN_FROM_AN_EXPERTS_ROLE = {"export", "import", "task"}


def _expected_in_own_project(route: Route, url: str) -> int:
    """What the outsider, an expert of project A, gets from ``url`` of their own project."""
    if route.name in BEYOND_AN_EXPERTS_ROLE:
        return 403
    job_kind = url.rstrip("/").rpartition("/")[2].partition("-")[0]
    if route.name in HIDDEN_FROM_AN_EXPERTS_ROLE or (
        route.name == "api_job" and job_kind in JOBS_HIDDEN_FROM_AN_EXPERTS_ROLE
    ):
        return 404
    return 200


def test_an_object_of_another_project_is_a_404_for_every_endpoint_and_method(
    settled: None, outsider: User, crowd: User
) -> None:
    project_a = make_project("A")
    own = _objects_of(project_a, outsider)
    # An expert there: their role in project A lets every endpoint in.
    Membership.objects.filter(project=project_a, user=outsider).update(role=ProjectRole.EXPERT)
    project_b = make_project("B")
    theirs = _objects_of(project_b, crowd)
    before = _state_of(project_b)
    client = token_client(outsider)
    failures = []
    for route in ROUTES:
        for (url, _missing), (own_url, _) in zip(
            _urls(theirs, route), _urls(own, route), strict=True
        ):
            for method in route.methods:
                status = _call(client, method, url).status_code
                if status != 404:
                    failures.append(f"{method.upper()} {url}: {status}")
            if "get" in route.methods:
                # The same endpoint on their own project's object lets them in: the 404
                # above comes from the project, not from a missing permission. Where the
                # endpoint needs more than an expert's role in a project allows (an
                # admin's), their role there refuses them or hides the object instead.
                status = client.get(own_url).status_code
                if status != _expected_in_own_project(route, own_url):
                    failures.append(f"GET {own_url} (own project): {status}")
    assert not failures, "\n".join(failures)
    assert _state_of(project_b) == before


def test_a_crowd_worker_cannot_tell_another_projects_ids_from_missing_ones(
    settled: None, crowd: User, other_crowd: User
) -> None:
    _objects_of(make_project("A"), crowd)
    theirs = _objects_of(make_project("B"), other_crowd)
    client = token_client(crowd)
    failures = []
    for route in ROUTES:
        for url, missing_url in _urls(theirs, route):
            for method in route.methods:
                existing, missing = _call(client, method, url), _call(client, method, missing_url)
                if existing.status_code not in (403, 404) or (
                    existing.status_code,
                    existing.json(),
                ) != (missing.status_code, missing.json()):
                    failures.append(
                        f"{method.upper()} {url}: {existing.status_code} {existing.json()}, "
                        f"missing id: {missing.status_code} {missing.json()}"
                    )
    assert not failures, "\n".join(failures)


def test_a_prediction_for_another_project_is_a_404(settled: None, outsider: User) -> None:
    make_video(make_project("A"), title="x").assignments.create(annotator=outsider)
    project_b = make_project("B")
    response = token_client(outsider).post(
        "/api/v1/predict/", {"project": project_b.pk, "title": "Футбол"}, format="json"
    )
    assert response.status_code == 404


def test_a_task_of_no_single_project_is_for_those_who_see_every_project(
    settled: None, outsider: User, admin_user: User
) -> None:
    make_video(make_project("A"), title="x").assignments.create(annotator=outsider)
    make_project("B")
    scheduled = Task.objects.create(
        id=uuid.uuid4().hex,
        name="retrain if needed",
        func="annotations.tasks.retrain_if_needed",
        started=timezone.now(),
        stopped=timezone.now(),
    )
    url = f"/api/v1/jobs/task-{scheduled.pk}/"
    assert token_client(outsider).get(url).status_code == 404
    assert token_client(admin_user).get(url).json()["state"] == "done"
