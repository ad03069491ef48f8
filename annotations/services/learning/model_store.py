"""Where model artifacts live, and loading them once per process."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from annotations.models import ModelVersion, Project, Tag

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


def taxonomy_ids(project: Project) -> dict[str, int]:
    """Every tag path of the project with its tag's id: what a version records of the
    taxonomy it was trained on, so its tags are still found after a rename, move or merge."""
    return dict(Tag.objects.filter(project=project).values_list("path", "pk"))


def versions_pin_taxonomy(project: Project) -> None:
    """Record the taxonomy's ids on the project's versions that were trained before
    versions recorded them; called before a tag's path changes, while they still match."""
    ids: dict[str, int] | None = None
    for version in ModelVersion.objects.filter(project=project).exclude(
        state=ModelVersion.State.FAILED
    ):
        if "tag_ids" in version.training_data:
            continue
        ids = taxonomy_ids(project) if ids is None else ids
        version.training_data = {**version.training_data, "tag_ids": ids}
        version.save(update_fields=["training_data"])


def current_paths(
    project: Project, version: ModelVersion | None, model_paths: Sequence[str]
) -> dict[str, str]:
    """Each of a model's tag paths → the path of the active tag it stands for now.

    A tag renamed or moved since training is found by its id, a merged one through the
    tag it was merged into; a deprecated one (or one deleted) has no entry: the model's
    scores for it are not shown.
    """
    tags = {tag.pk: tag for tag in Tag.objects.filter(project=project)}
    by_path = {tag.path: tag for tag in tags.values()}
    recorded: dict[str, int] = (version.training_data.get("tag_ids") or {}) if version else {}
    paths: dict[str, str] = {}
    for path in model_paths:
        tag = tags.get(recorded[path]) if path in recorded else by_path.get(path)
        followed: set[int] = set()
        while tag is not None and tag.merged_into_id is not None and tag.pk not in followed:
            followed.add(tag.pk)
            tag = tags.get(tag.merged_into_id)
        if tag is not None and tag.active:
            paths[path] = tag.path
    return paths
