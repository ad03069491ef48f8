"""Subtitles imported with a video: a sidecar file, a column naming one, their use."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_django import DjangoCaptureOnCommitCallbacks

from annotations.models import Project, TranscriptSegment, Video, VideoStatus
from tests.annotations.video_import.helpers import Library, import_manifest, place, write_jsonl

pytestmark = pytest.mark.django_db


def test_sidecar_subtitles_next_to_the_media_are_stored(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "talk.mp4")
    subtitles = place(library, "srt", import_root, "talk.srt")
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Доклад", "file": "talk.mp4"}])

    import_manifest(project, manifest)

    video = Video.objects.get()
    assert video.subtitles_file
    assert Path(video.subtitles_file.path).read_bytes() == subtitles.read_bytes()


def test_subtitles_column_names_a_file_in_another_folder(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "media/talk.mp4")
    subtitles = place(library, "srt", import_root, "subs/talk-ru.srt")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [{"title": "Доклад", "file": "media/talk.mp4", "subtitles": "subs/talk-ru.srt"}],
    )

    import_manifest(project, manifest)

    assert Path(Video.objects.get().subtitles_file.path).read_bytes() == subtitles.read_bytes()


def test_imported_video_is_processed_after_commit_using_its_subtitles(
    project: Project,
    import_root: Path,
    library: Library,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    place(library, "a", import_root, "talk.mp4")
    place(library, "srt", import_root, "talk.srt")
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Доклад", "file": "talk.mp4"}])

    with django_capture_on_commit_callbacks(execute=True):
        import_manifest(project, manifest)

    video = Video.objects.get()
    assert video.status == VideoStatus.READY
    texts = list(TranscriptSegment.objects.filter(video=video).values_list("text", flat=True))
    assert texts == ["Привет, мир", "Второй титр"]
