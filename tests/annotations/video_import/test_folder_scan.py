"""Scanning a folder under the import roots for media files."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotations.models import Project, Video
from annotations.services.media.sources import SourceRejected
from annotations.services.media.video_import import videos_scan_folder
from tests.annotations.video_import.helpers import Library, place

pytestmark = pytest.mark.django_db


def test_folder_scan_imports_media_files_under_the_folder(
    project: Project, import_root: Path, outside: Path, library: Library
) -> None:
    batch = import_root / "batch"
    place(library, "a", batch, "Матч_дня.mp4")
    place(library, "mkv", batch, "nested/deeper/Концерт.mkv")
    place(library, "text", batch, "broken.mp4")
    (batch / "notes.txt").write_text("не видео", encoding="utf-8")
    place(library, "b", import_root, "elsewhere/not-in-batch.mp4")
    (batch / "escape.mp4").symlink_to(outside / "secret.mp4")

    report = videos_scan_folder(project=project, folder=batch)

    assert report.summary() == "2 imported, 0 skipped, 2 failed"
    assert set(Video.objects.values_list("title", flat=True)) == {"Матч дня", "Концерт"}
    failures = sorted(o.message for o in report.outcomes if o.status == "failed")
    assert "outside the import folders" in failures[0]  # the symlink escape.mp4
    assert failures[1].startswith("not a video or audio file")  # broken.mp4


def test_folder_scan_twice_skips_what_is_there(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "batch/a.mp4")
    videos_scan_folder(project=project, folder=import_root / "batch")

    again = videos_scan_folder(project=project, folder=import_root / "batch")

    assert again.summary() == "0 imported, 1 skipped, 0 failed"
    assert Video.objects.count() == 1


def test_folder_scan_refuses_a_folder_outside_the_roots(
    project: Project, import_root: Path, outside: Path
) -> None:
    for folder in (outside, import_root / ".." / "outside", Path("/")):
        with pytest.raises(SourceRejected, match="outside the import folders"):
            videos_scan_folder(project=project, folder=folder)

    assert not Video.objects.exists()


def test_folder_scan_refuses_a_file_or_a_missing_folder(
    project: Project, import_root: Path, library: Library
) -> None:
    clip = place(library, "a", import_root, "a.mp4")
    for folder in (clip, import_root / "missing"):
        with pytest.raises(SourceRejected, match="is not a folder"):
            videos_scan_folder(project=project, folder=folder)
