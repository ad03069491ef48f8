"""Helpers shared by the video import tests: placing media, writing manifests, importing."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.manifest import read_manifest
from annotations.models import Project
from annotations.services.media.video_import import ImportReport, videos_import_rows
from tests.factories import video_upload

Library = dict[str, Path]


def place(library: Library, key: str, folder: Path, name: str) -> Path:
    """A copy of the library's ``key`` file at ``folder / name``."""
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(library[key], target)
    return target


# A manifest row that reads through a symlink leading out of the import root, laid out
# under ``root`` by one of these: ``outside`` holds secret.mp4 (the ``outside`` fixture).
def media_linked_out(root: Path, outside: Path, _: Library) -> dict[str, object]:
    """A row whose media file is a symlink to a file outside."""
    (root / "link.mp4").symlink_to(outside / "secret.mp4")
    return {"title": "Ссылка наружу", "file": "link.mp4"}


def media_in_linked_folder(root: Path, outside: Path, _: Library) -> dict[str, object]:
    """A row whose media file lies in a symlinked folder that is outside."""
    (root / "shared").symlink_to(outside, target_is_directory=True)
    return {"title": "Папка-ссылка", "file": "shared/secret.mp4"}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def import_manifest(project: Project, manifest: Path) -> ImportReport:
    return videos_import_rows(
        project=project, rows=read_manifest(manifest), base_dir=manifest.parent
    )


def write_jsonl(path: Path, lines: list[dict[str, object] | str]) -> Path:
    """A JSONL manifest: dicts are written as JSON, strings as they are."""
    text = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def stored_videos() -> list[Path]:
    """The media files kept under MEDIA_ROOT/videos."""
    folder = Path(settings.MEDIA_ROOT) / "videos"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def upload_file(library: Library, key: str, name: str) -> SimpleUploadedFile:
    return video_upload(library[key], name)
