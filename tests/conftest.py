from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django_q.conf import Conf
from pytest_django.fixtures import Settings

from annotations.models import ModelVersion, Project, ProjectRole
from annotations.roles import Role, roles_bootstrap
from annotations.selectors.audit import label_store_audit
from annotations.services.learning.training import training_request
from tests.factories import make_member, make_planted_project, make_project, make_user
from tests.s3server import S3Bucket, S3Server, running_server


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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """moto's S3-compatible server, started once for the tests that use it."""
    yield from running_server(tmp_path_factory.mktemp("s3") / "moto.log")


@pytest.fixture
def s3_bucket(s3_server: S3Server, settings: Settings) -> S3Bucket:
    """Media in a bucket of this test's own, through django-storages, as with MEDIA_STORAGE=s3.

    Changing STORAGES resets Django's storages, and the file fields use the default
    storage lazily, so every field of every model stores in the bucket from here on.
    """
    bucket = s3_server.new_bucket()
    settings.STORAGES = bucket.storages(settings.STORAGES["staticfiles"])
    settings.MEDIA_STORAGE = "s3"
    return bucket


@pytest.fixture
def no_speech_model(settings: Settings, tmp_path: Path) -> None:
    """No Whisper weights exist on this machine: speech recognition points at an empty
    folder, offline, so transcripts come from subtitles only."""
    settings.WHISPER_MODEL = str(tmp_path / "no-whisper-here")
    settings.WHISPER_LOCAL_FILES_ONLY = True


@pytest.fixture
def zero_shot_model(settings: Settings, tmp_path: Path) -> None:
    """Zero-shot predictions from the lexical matcher: no embedding model to load (image
    features are skipped), and models are kept in tmp_path, where none is trained yet."""
    settings.EMBEDDING_MODEL = str(tmp_path / "no-embedding-model")
    settings.MODEL_DIR = tmp_path / "models"


@pytest.fixture
def text_only_training(zero_shot_model: None, settings: Settings) -> None:
    """Models are trained quickly into tmp_path: no parameter search, and features from the
    text only."""
    settings.MODEL_SEARCH = "none"


@pytest.fixture
def promoted_version(
    project: Project,
    text_only_training: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> ModelVersion:
    """A model trained on twelve planted videos per tag of the test's project, promoted."""
    make_planted_project(project, per_tag=12)
    with django_capture_on_commit_callbacks(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    assert version.state == ModelVersion.State.PROMOTED, version.note
    return version


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
