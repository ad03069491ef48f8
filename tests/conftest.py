from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django_q.conf import Conf
from pytest_django.fixtures import Settings

from annotations.models import Project, ProjectRole
from annotations.roles import Role, roles_bootstrap
from annotations.selectors.audit import label_store_audit
from tests.factories import make_member, make_project, make_user


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    # Queued jobs run at once, in the test's process, so their effect can be asserted.
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_ROOTS = [tmp_path / "imports"]
    settings.JOB_SCRATCH_DIR = tmp_path / "scratch"
    # The real hasher is slow by design; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    (tmp_path / "imports").mkdir()


@pytest.fixture
def text_only_training(settings: Settings, tmp_path: Path) -> None:
    """Models are trained quickly into tmp_path: no parameter search, and features from the
    text only (the embedding model named cannot load here, so image features are skipped)."""
    settings.MODEL_DIR = tmp_path / "models"
    settings.EMBEDDING_MODEL = str(tmp_path / "no-embedding-model")
    settings.MODEL_SEARCH = "none"


@pytest.fixture
def import_root(tmp_path: Path) -> Path:
    return tmp_path / "imports"


@pytest.fixture
def roles(db: None) -> None:
    roles_bootstrap()


@pytest.fixture
def admin_user(roles: None) -> User:
    return make_user(Role.ADMIN, "alice_admin", is_staff=True)


@pytest.fixture
def expert(roles: None) -> User:
    return make_user(Role.EXPERT, "eve_expert")


@pytest.fixture
def crowd(roles: None) -> User:
    return make_user(Role.CROWD, "carl_crowd")


@pytest.fixture
def other_crowd(roles: None) -> User:
    return make_user(Role.CROWD, "cora_crowd")


@pytest.fixture
def no_role_user(roles: None) -> User:
    return make_user(None, "nobody")


@pytest.fixture
def project(request: pytest.FixtureRequest, db: None) -> Project:
    """The test's project; the test's expert, if it has one, is an expert member of it."""
    project = make_project("Demo")
    if "expert" in request.fixturenames:
        make_member(project, request.getfixturevalue("expert"), ProjectRole.EXPERT)
    return project


@pytest.fixture(autouse=True)
def _label_store_audited(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests marked ``label_audit`` end with the label store's invariants checked.

    They are the scenarios that change labels through the services: whatever they did
    must leave every confirmed tag with its history and source, as the audit command
    checks in production.
    """
    if request.node.get_closest_marker("label_audit") is None:
        yield
        return
    request.getfixturevalue("db")
    yield
    assert [str(v) for v in label_store_audit()] == []
