"""Saving and loading trained models: a joblib file plus a JSON manifest beside it.

The manifest says what the model is without unpickling anything: format version, tags,
thresholds, configuration, metrics, library versions and the joblib file's SHA-256. A
model is loaded only if its format version is this code's and its file is intact.
Joblib files are pickles: load only artifacts this application wrote.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import tempfile
import warnings
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import joblib

from ml.train.model import TagModel

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "MODEL_NAME",
    "ArtifactError",
    "json_ready",
    "library_versions",
    "load_model",
    "read_manifest",
    "save_model",
]

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MODEL_NAME = "model.joblib"
_LIBRARIES = {
    "sklearn": "scikit-learn",
    "numpy": "numpy",
    "scipy": "scipy",
    "sentence-transformers": "sentence-transformers",
    "joblib": "joblib",
}


class ArtifactError(ValueError):
    """A model folder that cannot be used; the message says why."""


def library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name, distribution in _LIBRARIES.items():
        try:
            versions[name] = importlib_metadata.version(distribution)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def json_ready(value: Any) -> Any:
    """NaN and infinities become null, so the manifest is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return json_ready(value.item())
    return value


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, write: Any) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_model(
    model: TagModel, directory: str | os.PathLike[str], *, metadata: dict[str, Any]
) -> Path:
    """Writes the model and its manifest into `directory` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model_path = directory / MODEL_NAME
    _write_atomically(model_path, lambda p: joblib.dump(model, p, compress=3))
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "multi_label": model.multi_label,
        "tags": model.tags,
        "thresholds": model.thresholds,
        "config": model.config,
        "params": model.params,
        "features": model.features.describe(),
        "metrics": metadata.get("metrics", {}),
        "metadata": {key: value for key, value in metadata.items() if key != "metrics"},
        "library_versions": library_versions(),
        "files": {MODEL_NAME: {"sha256": _sha256(model_path)}},
    }
    text = json.dumps(json_ready(manifest), ensure_ascii=False, indent=2, sort_keys=False)
    _write_atomically(directory / MANIFEST_NAME, lambda p: p.write_text(text, encoding="utf-8"))
    return directory


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(directory) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{directory}: no {MANIFEST_NAME}; not a saved model folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path}: not a model manifest")
    return manifest


def load_model(directory: str | os.PathLike[str]) -> TagModel:
    """The model saved in `directory`; raises ArtifactError for another format version,
    a missing or altered model file."""
    manifest = read_manifest(directory)
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{directory}: the model was saved in format version {version!r}, and this code "
            f"reads version {FORMAT_VERSION}; train the model again with this version"
        )
    model_path = Path(directory) / MODEL_NAME
    if not model_path.is_file():
        raise ArtifactError(f"{directory}: {MODEL_NAME} is missing")
    expected = manifest.get("files", {}).get(MODEL_NAME, {}).get("sha256")
    if expected != _sha256(model_path):
        raise ArtifactError(f"{model_path}: the file does not match its manifest (altered?)")
    saved_with = manifest.get("library_versions", {}).get("sklearn")
    current = library_versions()["sklearn"]
    if saved_with and current and saved_with.split(".")[:2] != current.split(".")[:2]:
        warnings.warn(
            f"{directory} was saved with scikit-learn {saved_with}; this is {current}",
            stacklevel=2,
        )
    model = joblib.load(model_path)
    if not isinstance(model, TagModel):
        raise ArtifactError(f"{model_path}: holds a {type(model).__name__}, not a tag model")
    return model
