"""Where model artifacts live, and loading them once per process."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from annotations.models import ModelVersion, Project

if TYPE_CHECKING:
    from ml.train import TagModel


def artifact_directory(project: Project, number: int) -> Path:
    return Path(settings.MODEL_DIR) / f"project-{project.pk}" / f"v{number}"


@functools.lru_cache(maxsize=8)
def _load(directory: str, modified: float) -> TagModel:
    # Keyed by the manifest's modification time too: a rewritten artifact is reloaded.
    # Imported here: scikit-learn and joblib are only needed where a model is used.
    from ml.artifacts import load_model

    return load_model(Path(directory))


def model_for(version: ModelVersion) -> TagModel:
    """The version's trained model, loaded once per process (not per request or per video)."""
    directory = Path(version.artifact_path)
    manifest = directory / "manifest.json"
    modified = manifest.stat().st_mtime if manifest.exists() else 0.0
    return _load(str(directory), modified)


def promoted_version(project: Project) -> ModelVersion | None:
    return ModelVersion.objects.filter(project=project).promoted().first()
