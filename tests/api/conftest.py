"""Fixtures for the API tests: token clients per role and a small labeled project."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.auth.models import User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import LabelSource, Project, ProjectRole, Tag, Video
from tests.factories import assign, confirm_label, make_member, make_tag, make_video

ROLES = ("admin_user", "expert", "crowd", "no_role_user")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts() -> Iterator[None]:
    # Throttle counters live in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


def token_client(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def schema_of(client: APIClient) -> dict[str, Any]:
    """The OpenAPI schema as the server serves it."""
    schema: dict[str, Any] = yaml.safe_load(client.get("/api/schema/").content)
    return schema


@pytest.fixture
def clients(request: pytest.FixtureRequest) -> dict[str, APIClient]:
    """One token client per role, plus "anonymous"; the expert is a member of the test's project."""
    made = {name: token_client(request.getfixturevalue(name)) for name in ROLES}
    made["anonymous"] = APIClient()
    if "project" in request.fixturenames:
        project = request.getfixturevalue("project")
        make_member(project, request.getfixturevalue("expert"), ProjectRole.EXPERT)
    return made


@dataclass
class Labeled:
    project: Project
    tags: dict[str, Tag]
    assigned: Video
    unassigned: Video
    confirmed: Video


@pytest.fixture
def labeled(project: Project, crowd: User, other_crowd: User, expert: User) -> Labeled:
    """A project with a small taxonomy, one video assigned to ``crowd``, one not, one confirmed."""
    tags = {
        path: make_tag(project, path)
        for path in ("Спорт", "Спорт: Футбол", "Спорт: Хоккей", "Музыка", "Еда и напитки")
    }
    assigned = make_video(project, title="Матч недели", description="Футбол, обзор голов")
    assign(assigned, crowd)
    unassigned = make_video(project, title="Концерт", description="Живая музыка")
    assign(unassigned, other_crowd)
    confirmed = make_video(project, title="Рецепт борща", external_id="ext-borsch")
    confirm_label(confirmed, tags["Еда и напитки"], source=LabelSource.REVIEW, by=expert)
    return Labeled(project, tags, assigned, unassigned, confirmed)


class _QuietFileHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: they would only clutter the test output."""


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-second 64x48 video with a tone, written once per test run."""
    from ml.synthetic_media import write_video

    folder = tmp_path_factory.mktemp("clips")
    return write_video(folder / "clip.mp4", seconds=1.0, width=64, height=48, fps=10, seed=3)


@pytest.fixture
def media_server(tiny_clip: Path, settings: Any) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 serving the clip's folder, allow-listed for URL imports."""
    handler = functools.partial(_QuietFileHandler, directory=str(tiny_clip.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.URL_IMPORT_ALLOWLIST = ["127.0.0.1"]
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
