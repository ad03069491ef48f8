"""Importing manifest rows (CSV, JSONL, the Rutube layout): files, labels, metadata, URLs.

Importing again creates no duplicates. The media files are small real videos written
by ml.synthetic_media.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from annotations.models import ConfirmedLabel, LabelChange, LabelSource, Project, Video, VideoStatus
from annotations.services.media.video_import import RowOutcome
from annotations.services.taxonomy_edit import tag_deprecate, tag_merge
from tests.annotations.video_import.helpers import (
    Library,
    import_manifest,
    place,
    sha256_of,
    stored_videos,
    write_jsonl,
)
from tests.factories import make_tag

pytestmark = [pytest.mark.django_db, pytest.mark.label_audit]


def test_csv_manifest_stores_file_hash_duration_and_extra_columns(
    project: Project, import_root: Path, library: Library
) -> None:
    make_tag(project, "Спорт: Футбол")
    clip = place(library, "a", import_root, "match.mp4")
    place(library, "b", import_root, "sub/recipe.mp4")
    manifest = import_root / "manifest.csv"
    manifest.write_text(
        "video_id,title,description,tags,file,channel,upload_date\n"
        'v1,Матч дня,Обзор матча,"Спорт:Футбол, Кёрлинг",match.mp4,Спорт Экспресс,2024-05-01\n'
        "v2,Рецепт,,,sub/recipe.mp4,,\n",
        encoding="utf-8",
    )

    report = import_manifest(project, manifest)

    assert [o.status for o in report.outcomes] == ["imported", "imported"]
    video = Video.objects.get(project=project, external_id="v1")
    assert video.title == "Матч дня"
    assert video.description == "Обзор матча"
    assert video.status == VideoStatus.PENDING
    assert video.sha256 == sha256_of(clip)
    assert video.size_bytes == clip.stat().st_size
    assert video.duration_seconds == pytest.approx(1.0, abs=0.15)
    assert (video.width, video.height) == (64, 48)
    assert video.has_video_stream
    assert Path(video.source_file.path).read_bytes() == clip.read_bytes()
    assert (video.source_file.name or "").startswith(f"videos/{project.pk}/")
    assert video.source_name == "match.mp4"
    assert video.metadata["channel"] == "Спорт Экспресс"
    assert video.metadata["upload_date"] == "2024-05-01"
    assert video.metadata["original_tags"] == ["Спорт: Футбол", "Кёрлинг"]
    other = Video.objects.get(project=project, external_id="v2")
    assert "channel" not in other.metadata  # empty cells are not metadata
    assert other.description == ""


def test_known_tags_become_confirmed_labels_from_the_import(
    project: Project, import_root: Path, library: Library
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    place(library, "a", import_root, "match.mp4")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [
            {
                "video_id": "v1",
                "title": "Матч",
                "tags": ["спорт:футбол ", "Спорт: Футбол"],
                "file": "match.mp4",
            }
        ],
    )

    report = import_manifest(project, manifest)

    assert report.outcomes[0].warnings == []
    label = ConfirmedLabel.objects.get(video__external_id="v1")
    assert label.tag == football
    assert label.source == LabelSource.IMPORT == "import"
    change = LabelChange.objects.get(video__external_id="v1")
    assert (change.tag, change.action, change.source) == (football, "added", "import")


def _clip_imported_with_tags(
    project: Project, import_root: Path, library: Library, tags: str
) -> RowOutcome:
    """The outcome of a JSONL manifest's one row: a clip, external id v1, naming ``tags``."""
    place(library, "a", import_root, "clip.mp4")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [{"video_id": "v1", "title": "Клип", "tags": tags, "file": "clip.mp4"}],
    )
    return import_manifest(project, manifest).outcomes[0]


def test_unknown_tags_are_kept_in_metadata_with_a_warning(
    project: Project, import_root: Path, library: Library
) -> None:
    make_tag(project, "Музыка")

    outcome = _clip_imported_with_tags(project, import_root, library, "Музыка, Танцы: Балет")

    assert outcome.status == "imported"
    assert outcome.warnings == ["unknown tag 'Танцы: Балет' kept in metadata only"]
    video = Video.objects.get(external_id="v1")
    assert video.metadata["unknown_tags"] == ["Танцы: Балет"]
    assert list(video.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]


def test_a_row_with_a_file_confirms_a_merged_tag_as_its_target_and_warns_of_a_deprecated_one(
    project: Project, import_root: Path, library: Library, admin_user: User
) -> None:
    music = make_tag(project, "Музыка")
    tag_merge(source=make_tag(project, "Песни"), target=music, by=admin_user)
    tag_deprecate(tag=make_tag(project, "Танцы"), by=admin_user)

    outcome = _clip_imported_with_tags(project, import_root, library, "Песни, Танцы")

    assert (outcome.line, outcome.status) == (1, "imported")
    assert outcome.warnings == ["tag 'Танцы' is deprecated; not applied"]
    video = Video.objects.get(external_id="v1")
    assert list(video.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]
    assert "unknown_tags" not in video.metadata


def test_jsonl_keeps_extra_fields_with_their_json_types(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "clip.mp4")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [
            {
                "video_id": 17,
                "title": "Клип",
                "path": "clip.mp4",
                "views": 1234,
                "channel": {"name": "Канал", "verified": True},
            }
        ],
    )

    import_manifest(project, manifest)

    video = Video.objects.get()
    assert video.external_id == "17"
    assert video.metadata["views"] == 1234
    assert video.metadata["channel"] == {"name": "Канал", "verified": True}


def test_rutube_layout_without_a_file_column_imports_text_only_videos(
    project: Project, import_root: Path
) -> None:
    make_tag(project, "Кулинария: Супы")
    manifest = import_root / "rutube.csv"
    manifest.write_text(
        "video_id,title,description,tags\n"
        'rt-1,Как приготовить борщ,"Пошаговый рецепт, Борщ и свёкла","Кулинария: Супы, Еда"\n'
        "rt-2,Обзор матча,,\n",
        encoding="utf-8",
    )

    report = import_manifest(project, manifest)

    assert report.summary() == "2 imported, 0 skipped, 0 failed (1 with warnings)"
    borscht = Video.objects.get(external_id="rt-1")
    assert not borscht.source_file
    assert borscht.sha256 == ""
    assert borscht.description == "Пошаговый рецепт, Борщ и свёкла"
    assert list(borscht.confirmed_labels.values_list("tag__path", flat=True)) == ["Кулинария: Супы"]
    assert borscht.metadata["unknown_tags"] == ["Еда"]
    assert stored_videos() == []


def test_reimporting_the_same_manifest_creates_no_duplicates(
    project: Project, import_root: Path, library: Library
) -> None:
    make_tag(project, "Музыка")
    place(library, "a", import_root, "a.mp4")
    place(library, "b", import_root, "b.mp4")
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,tags,file\n"
        "v1,Первый,Музыка,a.mp4\n"
        ",Без id,,b.mp4\n"
        "v3,Только текст,Музыка,\n",
        encoding="utf-8",
    )
    first = import_manifest(project, manifest)
    ids_before = sorted(Video.objects.values_list("id", flat=True))
    labels_before = ConfirmedLabel.objects.count()

    again = import_manifest(project, manifest)

    assert first.summary() == "3 imported, 0 skipped, 0 failed"
    assert again.summary() == "0 imported, 3 skipped, 0 failed"
    assert all("already imported as video #" in o.message for o in again.outcomes)
    assert sorted(Video.objects.values_list("id", flat=True)) == ids_before
    assert ConfirmedLabel.objects.count() == labels_before
    assert len(stored_videos()) == 2


def test_reimporting_text_only_rows_without_video_id_creates_no_duplicates(
    project: Project, import_root: Path
) -> None:
    manifest = import_root / "m.csv"
    manifest.write_text("\n".join(["title,description", "Лекция,Про физику", ""]), encoding="utf-8")
    import_manifest(project, manifest)

    import_manifest(project, manifest)

    assert Video.objects.count() == 1


def test_url_row_from_an_allowlisted_server_is_downloaded_then_its_copy_removed(
    settings: Settings, project: Project, library: Library, private_tempdir: Path, tmp_path: Path
) -> None:
    served = library["b"].read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(served)))
            self.end_headers()
            self.wfile.write(served)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    settings.URL_IMPORT_ALLOWLIST = ["127.0.0.1"]
    url = f"http://127.0.0.1:{server.server_port}/media/clip.mp4"
    manifest = write_jsonl(
        tmp_path / "m.jsonl", [{"video_id": "u1", "title": "Загружено по ссылке", "url": url}]
    )
    try:
        report = import_manifest(project, manifest)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert report.outcomes[0].status == "imported", report.outcomes[0].message
    video = Video.objects.get(external_id="u1")
    assert video.sha256 == sha256_of(library["b"])
    assert video.source_name == url
    assert list(private_tempdir.iterdir()) == []


def test_same_file_under_two_ids_is_imported_once(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "a.mp4")
    place(library, "a", import_root, "copy/a-again.mp4")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "first", "title": "Оригинал", "file": "a.mp4"},
            {"video_id": "second", "title": "Копия", "file": "copy/a-again.mp4"},
        ],
    )

    report = import_manifest(project, manifest)

    first, second = report.outcomes
    assert first.status == "imported"
    assert second.status == "skipped"
    assert f"already imported as video #{first.video_id}" in second.message
    assert Video.objects.count() == 1
    assert len(stored_videos()) == 1


def test_summary_counts_each_outcome(project: Project, import_root: Path, library: Library) -> None:
    make_tag(project, "Музыка")
    place(library, "a", import_root, "a.mp4")
    place(library, "b", import_root, "b.mp4")
    Video.objects.create(project=project, title="Уже есть", external_id="old")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "v1", "title": "Один", "file": "a.mp4", "tags": "Музыка"},
            {"video_id": "v2", "title": "Два", "file": "b.mp4", "tags": "Неизвестно"},
            {"video_id": "old", "title": "Уже есть"},
            {"video_id": "v4", "title": "Нет файла", "file": "none.mp4"},
        ],
    )

    report = import_manifest(project, manifest)

    assert dict(report.counts) == {"imported": 2, "skipped": 1, "failed": 1}
    assert report.summary() == "2 imported, 1 skipped, 1 failed (1 with warnings)"
    assert [o.line for o in report.outcomes] == [1, 2, 3, 4]


def test_nul_characters_are_dropped_so_any_database_can_store_the_video(project: Project) -> None:
    from annotations.services.media.video_import import video_create

    video, _ = video_create(
        project=project,
        title="Ма\x00тч",
        description="опи\x00сание",
        metadata={"ch\x00annel": ["a\x00b", {"x": "\x00"}]},
    )
    video.refresh_from_db()
    assert video.title == "Матч"
    assert video.description == "описание"
    assert video.metadata == {"channel": ["ab", {"x": ""}]}
