"""Every file an import reads is held to IMPORT_ROOTS by its real path, links followed.

One case for each kind of file: the media named by a manifest row, a folder scan's
files and the folder itself, subtitles named by a row, and the subtitle file found next
to the media (``.srt`` and ``.vtt``), each a symlink from inside the root to outside. A
refused row stores nothing; the other rows import.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from annotations.models import Project, Video
from annotations.services.media.sources import SourceRejected
from annotations.services.media.video_import import videos_scan_folder
from annotations.services.media.video_import.single import MAX_SUBTITLE_BYTES
from ml.synthetic_media import write_srt
from tests.annotations.video_import.helpers import (
    Library,
    import_manifest,
    media_in_linked_folder,
    media_linked_out,
    place,
    stored_videos,
    write_jsonl,
)

pytestmark = pytest.mark.django_db

# Each case lays out files under the root (some linking to ``outside``) and returns
# the manifest row that would read through the link.
Case = Callable[[Path, Path, Library], dict[str, object]]


def _subtitles_column_link(root: Path, outside: Path, library: Library) -> dict[str, object]:
    place(library, "c", root, "talk.mp4")
    (root / "talk-ru.srt").symlink_to(outside / "subs.srt")
    return {"title": "Титры-ссылка", "file": "talk.mp4", "subtitles": "talk-ru.srt"}


def _sidecar_srt_link(root: Path, outside: Path, library: Library) -> dict[str, object]:
    place(library, "c", root, "clip.mp4")
    (root / "clip.srt").symlink_to(outside / "subs.srt")
    return {"title": "Соседние титры", "file": "clip.mp4"}


def _sidecar_vtt_link(root: Path, outside: Path, library: Library) -> dict[str, object]:
    place(library, "c", root, "clip.mp4")
    (root / "clip.vtt").symlink_to(outside / "subs.srt")
    return {"title": "Соседние титры VTT", "file": "clip.mp4"}


def _sidecar_link_to_system_file(root: Path, _: Path, library: Library) -> dict[str, object]:
    place(library, "c", root, "clip.mp4")
    (root / "clip.srt").symlink_to("/etc/passwd")
    return {"title": "Системный файл", "file": "clip.mp4"}


def _sidecar_in_linked_folder(root: Path, outside: Path, library: Library) -> dict[str, object]:
    # The media is real and inside; only the folder holding its neighbour leads out.
    place(library, "c", root, "real/clip.mp4")
    (outside / "clip.srt").write_text((outside / "subs.srt").read_text("utf-8"), "utf-8")
    (root / "real" / "clip.srt").symlink_to(outside / "clip.srt")
    return {"title": "Титры в папке снаружи", "file": "real/clip.mp4"}


CASES: dict[str, Case] = {
    "media file": media_linked_out,
    "media in a linked folder": media_in_linked_folder,
    "subtitles named by the row": _subtitles_column_link,
    "sidecar .srt": _sidecar_srt_link,
    "sidecar .vtt": _sidecar_vtt_link,
    "sidecar linking to /etc/passwd": _sidecar_link_to_system_file,
    "sidecar linking to a file in another folder outside": _sidecar_in_linked_folder,
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_link_out_of_the_import_root_fails_the_row_and_stores_nothing(
    project: Project, import_root: Path, outside: Path, library: Library, case: Case
) -> None:
    place(library, "a", import_root, "good.mp4")
    bad = case(import_root, outside, library)
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Хороший", "file": "good.mp4"}, bad])

    report = import_manifest(project, manifest)

    failed = [o for o in report.outcomes if o.status == "failed"]
    assert [o.line for o in failed] == [2]
    assert "outside the import folders" in failed[0].message
    assert list(Video.objects.values_list("title", flat=True)) == ["Хороший"]
    assert len(stored_videos()) == 1
    media = Path(settings.MEDIA_ROOT)
    assert [p for p in media.rglob("*") if p.suffix in (".srt", ".vtt")] == []


def test_a_folder_scan_refuses_a_linked_sidecar_and_imports_the_rest(
    project: Project, import_root: Path, outside: Path, library: Library
) -> None:
    batch = import_root / "batch"
    place(library, "a", batch, "first.mp4")
    place(library, "c", batch, "second.mp4")
    (batch / "second.srt").symlink_to(outside / "subs.srt")

    report = videos_scan_folder(project=project, folder=batch)

    assert report.summary() == "1 imported, 0 skipped, 1 failed"
    failure = next(o for o in report.outcomes if o.status == "failed")
    assert "subtitle file next to the media" in failure.message
    assert "outside the import folders" in failure.message


def test_a_folder_scan_refuses_a_linked_folder_that_leads_out(
    project: Project, import_root: Path, outside: Path
) -> None:
    (import_root / "incoming").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SourceRejected, match="outside the import folders"):
        videos_scan_folder(project=project, folder=import_root / "incoming")
    assert not Video.objects.exists()


def test_a_sidecar_linking_inside_the_root_is_imported(
    project: Project, import_root: Path, library: Library
) -> None:
    subtitles = place(library, "srt", import_root, "subtitles/all/talk.srt")
    place(library, "a", import_root, "media/talk.mp4")
    (import_root / "media" / "talk.srt").symlink_to(subtitles)
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Доклад", "file": "media/talk.mp4"}])

    import_manifest(project, manifest)

    video = Video.objects.get()
    assert Path(video.subtitles_file.path).read_bytes() == subtitles.read_bytes()


def test_a_huge_subtitle_file_is_refused(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "talk.mp4")
    huge = write_srt(import_root / "talk.srt", [(0.0, 1.0, "титр")])
    with huge.open("ab") as handle:
        handle.truncate(MAX_SUBTITLE_BYTES + 1)
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Доклад", "file": "talk.mp4"}])

    report = import_manifest(project, manifest)

    assert "subtitles over 20 MB are not imported" in report.outcomes[0].message
    assert not Video.objects.exists()
