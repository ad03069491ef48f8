"""Importing videos: manifests (CSV, JSONL, the Rutube layout), folder scans, uploads, the API.

Every source goes through the same checks. A bad row fails with a reason and the
other rows still import; importing again creates no duplicates. The media files
are small real videos written by ml.synthetic_media.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from pytest_django import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings
from rest_framework.authtoken.models import Token

from annotations.manifest import read_manifest
from annotations.models import (
    ConfirmedLabel,
    LabelChange,
    LabelSource,
    Project,
    TranscriptSegment,
    Video,
    VideoStatus,
)
from annotations.services.media.sources import SourceRejected
from annotations.services.media.video_import import (
    ImportReport,
    videos_import_rows,
    videos_scan_folder,
)
from ml.synthetic_media import write_corrupt_copy, write_not_media, write_srt, write_video
from tests.factories import client_for, make_tag

pytestmark = pytest.mark.django_db

Library = dict[str, Path]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """Tiny real media, written once for the module; tests copy what they need."""
    folder = tmp_path_factory.mktemp("library")

    def clip(name: str, seed: int) -> Path:
        return write_video(
            folder / name, seconds=1.0, width=64, height=48, fps=10, seed=seed, audio=False
        )

    files = {
        "a": clip("a.mp4", 0),
        "b": clip("b.mp4", 1),
        "c": clip("c.mp4", 2),
        "d": clip("d.mp4", 3),
        "mkv": clip("e.mkv", 4),
        "big": write_video(folder / "big.mp4", seconds=1.5, width=160, height=120, fps=10, seed=9),
    }
    # Cut off well before the first frame's end, the way an interrupted copy leaves it.
    files["truncated"] = write_corrupt_copy(
        files["d"], folder / "truncated.mp4", keep_fraction=0.15
    )
    files["half"] = write_corrupt_copy(files["d"], folder / "half.mp4", keep_fraction=0.6)
    files["text"] = write_not_media(folder / "text.mp4")
    files["srt"] = write_srt(
        folder / "a.srt", [(0.0, 0.5, "Привет, мир"), (0.5, 1.0, "Второй титр")]
    )
    return files


@pytest.fixture(autouse=True)
def _no_url_allowlist(settings: Settings) -> None:
    settings.URL_IMPORT_ALLOWLIST = []


@pytest.fixture
def outside(tmp_path: Path, library: Library) -> Path:
    """A folder next to the import root, holding a real video that must never be imported."""
    folder = tmp_path / "outside"
    folder.mkdir()
    shutil.copy(library["c"], folder / "secret.mp4")
    write_srt(folder / "subs.srt", [(0.0, 1.0, "секрет")])
    return folder


def _place(library: Library, key: str, folder: Path, name: str) -> Path:
    target = folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(library[key], target)
    return target


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _import(project: Project, manifest: Path) -> ImportReport:
    return videos_import_rows(
        project=project, rows=read_manifest(manifest), base_dir=manifest.parent
    )


def _write_jsonl(path: Path, lines: list[dict[str, object] | str]) -> Path:
    text = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False) for line in lines
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def _stored_videos() -> list[Path]:
    folder = Path(django_settings.MEDIA_ROOT) / "videos"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


# --- manifests: the good rows ---------------------------------------------------------------


def test_csv_manifest_stores_file_hash_duration_and_extra_columns(
    project: Project, import_root: Path, library: Library
) -> None:
    make_tag(project, "Спорт: Футбол")
    clip = _place(library, "a", import_root, "match.mp4")
    _place(library, "b", import_root, "sub/recipe.mp4")
    manifest = import_root / "manifest.csv"
    manifest.write_text(
        "video_id,title,description,tags,file,channel,upload_date\n"
        'v1,Матч дня,Обзор матча,"Спорт:Футбол, Кёрлинг",match.mp4,Спорт Экспресс,2024-05-01\n'
        "v2,Рецепт,,,sub/recipe.mp4,,\n",
        encoding="utf-8",
    )

    report = _import(project, manifest)

    assert [o.status for o in report.outcomes] == ["imported", "imported"]
    video = Video.objects.get(project=project, external_id="v1")
    assert video.title == "Матч дня"
    assert video.description == "Обзор матча"
    assert video.status == VideoStatus.PENDING
    assert video.sha256 == _sha(clip)
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
    _place(library, "a", import_root, "match.mp4")
    manifest = _write_jsonl(
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

    report = _import(project, manifest)

    assert report.outcomes[0].warnings == []
    label = ConfirmedLabel.objects.get(video__external_id="v1")
    assert label.tag == football
    assert label.source == LabelSource.IMPORT == "import"
    change = LabelChange.objects.get(video__external_id="v1")
    assert (change.tag, change.action, change.source) == (football, "added", "import")


def test_unknown_tags_are_kept_in_metadata_with_a_warning(
    project: Project, import_root: Path, library: Library
) -> None:
    make_tag(project, "Музыка")
    _place(library, "a", import_root, "clip.mp4")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [{"video_id": "v1", "title": "Клип", "tags": "Музыка, Танцы: Балет", "file": "clip.mp4"}],
    )

    report = _import(project, manifest)

    outcome = report.outcomes[0]
    assert outcome.status == "imported"
    assert outcome.warnings == ["unknown tag 'Танцы: Балет' kept in metadata only"]
    video = Video.objects.get(external_id="v1")
    assert video.metadata["unknown_tags"] == ["Танцы: Балет"]
    assert list(video.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]


def test_jsonl_keeps_extra_fields_with_their_json_types(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "clip.mp4")
    manifest = _write_jsonl(
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

    _import(project, manifest)

    video = Video.objects.get()
    assert video.external_id == "17"
    assert video.metadata["views"] == 1234
    assert video.metadata["channel"] == {"name": "Канал", "verified": True}


def test_sidecar_subtitles_next_to_the_media_are_stored(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "talk.mp4")
    subtitles = _place(library, "srt", import_root, "talk.srt")
    manifest = _write_jsonl(import_root / "m.jsonl", [{"title": "Доклад", "file": "talk.mp4"}])

    _import(project, manifest)

    video = Video.objects.get()
    assert video.subtitles_file
    assert Path(video.subtitles_file.path).read_bytes() == subtitles.read_bytes()


def test_subtitles_column_names_a_file_in_another_folder(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "media/talk.mp4")
    subtitles = _place(library, "srt", import_root, "subs/talk-ru.srt")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [{"title": "Доклад", "file": "media/talk.mp4", "subtitles": "subs/talk-ru.srt"}],
    )

    _import(project, manifest)

    assert Path(Video.objects.get().subtitles_file.path).read_bytes() == subtitles.read_bytes()


def test_imported_video_is_processed_after_commit_using_its_subtitles(
    project: Project,
    import_root: Path,
    library: Library,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    _place(library, "a", import_root, "talk.mp4")
    _place(library, "srt", import_root, "talk.srt")
    manifest = _write_jsonl(import_root / "m.jsonl", [{"title": "Доклад", "file": "talk.mp4"}])

    with django_capture_on_commit_callbacks(execute=True):
        _import(project, manifest)

    video = Video.objects.get()
    assert video.status == VideoStatus.READY
    texts = list(TranscriptSegment.objects.filter(video=video).values_list("text", flat=True))
    assert texts == ["Привет, мир", "Второй титр"]


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

    report = _import(project, manifest)

    assert report.summary() == "2 imported, 0 skipped, 0 failed (1 with warnings)"
    borscht = Video.objects.get(external_id="rt-1")
    assert not borscht.source_file
    assert borscht.sha256 == ""
    assert borscht.description == "Пошаговый рецепт, Борщ и свёкла"
    assert list(borscht.confirmed_labels.values_list("tag__path", flat=True)) == ["Кулинария: Супы"]
    assert borscht.metadata["unknown_tags"] == ["Еда"]
    assert _stored_videos() == []


def test_reimporting_the_same_manifest_creates_no_duplicates(
    project: Project, import_root: Path, library: Library
) -> None:
    make_tag(project, "Музыка")
    _place(library, "a", import_root, "a.mp4")
    _place(library, "b", import_root, "b.mp4")
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,tags,file\n"
        "v1,Первый,Музыка,a.mp4\n"
        ",Без id,,b.mp4\n"
        "v3,Только текст,Музыка,\n",
        encoding="utf-8",
    )
    first = _import(project, manifest)
    ids_before = sorted(Video.objects.values_list("id", flat=True))
    labels_before = ConfirmedLabel.objects.count()

    again = _import(project, manifest)

    assert first.summary() == "3 imported, 0 skipped, 0 failed"
    assert again.summary() == "0 imported, 3 skipped, 0 failed"
    assert all("already imported as video #" in o.message for o in again.outcomes)
    assert sorted(Video.objects.values_list("id", flat=True)) == ids_before
    assert ConfirmedLabel.objects.count() == labels_before
    assert len(_stored_videos()) == 2


def test_reimporting_text_only_rows_without_video_id_creates_no_duplicates(
    project: Project, import_root: Path
) -> None:
    manifest = import_root / "m.csv"
    manifest.write_text("\n".join(["title,description", "Лекция,Про физику", ""]), encoding="utf-8")
    _import(project, manifest)

    _import(project, manifest)

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
    manifest = _write_jsonl(
        tmp_path / "m.jsonl", [{"video_id": "u1", "title": "Загружено по ссылке", "url": url}]
    )
    try:
        report = _import(project, manifest)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    assert report.outcomes[0].status == "imported", report.outcomes[0].message
    video = Video.objects.get(external_id="u1")
    assert video.sha256 == _sha(library["b"])
    assert video.source_name == url
    assert list(private_tempdir.iterdir()) == []


def test_same_file_under_two_ids_is_imported_once(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "a.mp4")
    _place(library, "a", import_root, "copy/a-again.mp4")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "first", "title": "Оригинал", "file": "a.mp4"},
            {"video_id": "second", "title": "Копия", "file": "copy/a-again.mp4"},
        ],
    )

    report = _import(project, manifest)

    first, second = report.outcomes
    assert first.status == "imported"
    assert second.status == "skipped"
    assert f"already imported as video #{first.video_id}" in second.message
    assert Video.objects.count() == 1
    assert len(_stored_videos()) == 1


def test_summary_counts_each_outcome(project: Project, import_root: Path, library: Library) -> None:
    make_tag(project, "Музыка")
    _place(library, "a", import_root, "a.mp4")
    _place(library, "b", import_root, "b.mp4")
    Video.objects.create(project=project, title="Уже есть", external_id="old")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "v1", "title": "Один", "file": "a.mp4", "tags": "Музыка"},
            {"video_id": "v2", "title": "Два", "file": "b.mp4", "tags": "Неизвестно"},
            {"video_id": "old", "title": "Уже есть"},
            {"video_id": "v4", "title": "Нет файла", "file": "none.mp4"},
        ],
    )

    report = _import(project, manifest)

    assert dict(report.counts) == {"imported": 2, "skipped": 1, "failed": 1}
    assert report.summary() == "2 imported, 1 skipped, 1 failed (1 with warnings)"
    assert [o.line for o in report.outcomes] == [1, 2, 3, 4]


# --- manifests: the bad rows -------------------------------------------------------------------

# Each case builds one bad JSONL line (a dict, or raw text) that sits between two
# good rows; the bad row must fail with a message holding one of the "|"-separated
# texts, and the good ones import.
BadRow = Callable[[Path, Path, Library], "dict[str, object] | str"]


def _symlink_out(root: Path, outside: Path, _: Library) -> dict[str, object]:
    (root / "link.mp4").symlink_to(outside / "secret.mp4")
    return {"title": "Ссылка наружу", "file": "link.mp4"}


def _symlinked_folder(root: Path, outside: Path, _: Library) -> dict[str, object]:
    (root / "shared").symlink_to(outside, target_is_directory=True)
    return {"title": "Папка-ссылка", "file": "shared/secret.mp4"}


def _text_as_mp4(root: Path, _: Path, library: Library) -> dict[str, object]:
    _place(library, "text", root, "fake.mp4")
    return {"title": "Текст", "file": "fake.mp4"}


def _empty_file(root: Path, _: Path, __: Library) -> dict[str, object]:
    (root / "empty.mp4").write_bytes(b"")
    return {"title": "Пусто", "file": "empty.mp4"}


def _truncated(root: Path, _: Path, library: Library) -> dict[str, object]:
    _place(library, "truncated", root, "cut.mp4")
    return {"title": "Обрезан", "file": "cut.mp4"}


def _subtitles_outside(root: Path, _: Path, library: Library) -> dict[str, object]:
    _place(library, "c", root, "c.mp4")
    return {"title": "Титры снаружи", "file": "c.mp4", "subtitles": "../outside/subs.srt"}


def _row(**fields: object) -> BadRow:
    return lambda _root, _outside, _library: dict(fields)


def _raw(text: str) -> BadRow:
    return lambda _root, _outside, _library: text


BAD_ROWS: dict[str, tuple[BadRow, str]] = {
    "no title and no file": (
        _row(video_id="x", description="только текст"),
        "neither a title nor a file",
    ),
    "file not found": (_row(title="Нет", file="missing.mp4"), "file not found: missing.mp4"),
    "dot-dot out of the root": (
        _row(title="Наружу", file="../outside/secret.mp4"),
        "outside the import folders",
    ),
    "absolute path outside": (
        lambda _root, outside, _lib: {"title": "Абсолютный", "file": str(outside / "secret.mp4")},
        "outside the import folders",
    ),
    "symlink to a file outside": (_symlink_out, "outside the import folders"),
    "symlinked folder outside": (_symlinked_folder, "outside the import folders"),
    "subtitles outside the root": (_subtitles_outside, "outside the import folders"),
    "file:// URL": (_row(title="Файл", file="file:///etc/passwd"), "only http and https"),
    "ftp:// URL": (_row(title="FTP", url="ftp://93.184.216.34/clip.mp4"), "only http and https"),
    "URL to 127.0.0.1": (
        _row(title="Loopback", url="http://127.0.0.1/clip.mp4"),
        "private or local address",
    ),
    "URL to localhost": (
        _row(title="Localhost", url="http://localhost:8000/clip.mp4"),
        "private or local address",
    ),
    "URL to 10.0.0.1": (
        _row(title="Private", url="https://10.0.0.1/clip.mp4"),
        "private or local address",
    ),
    "URL to metadata service": (
        _row(title="Metadata", url="http://169.254.169.254/latest/meta-data/"),
        "private or local address",
    ),
    "URL to [::1]": (
        _row(title="IPv6 loopback", url="http://[::1]:8080/clip.mp4"),
        "private or local address",
    ),
    "URL with credentials": (
        _row(title="Creds", url="http://u:p@93.184.216.34/clip.mp4"),
        "user name or password",
    ),
    "text file named .mp4": (_text_as_mp4, "not a video or audio file"),
    "empty file": (_empty_file, "the file is empty (0 bytes)"),
    "truncated video": (_truncated, "damaged|not a video or audio file"),
    "duplicate video_id in the manifest": (
        _row(video_id="good-1", title="Повтор"),
        "'good-1' repeats line 1",
    ),
    "tag path with an empty level": (
        _row(title="Теги", tags="Спорт: : Футбол"),
        "a tag path has an empty level",
    ),
    "tag path ending in a separator": (
        _row(title="Теги", tags="Музыка, Спорт:"),
        "a tag path has an empty level",
    ),
    "title too long": (_row(title="Я" * 501), "title is longer than 500 characters"),
    "video_id too long": (
        _row(video_id="x" * 256, title="Длинный id"),
        "video_id is longer than 255",
    ),
    "invalid JSON line": (_raw('{"title": "Оборвано", "file": '), "not valid JSON"),
    "JSON line that is not an object": (
        _raw('["Заголовок", "a.mp4"]'),
        "each line must be a JSON object",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=list(BAD_ROWS))
def test_bad_row_fails_with_a_reason_and_the_others_import(
    case: str, project: Project, import_root: Path, outside: Path, library: Library
) -> None:
    build, message = BAD_ROWS[case]
    _place(library, "a", import_root, "a.mp4")
    _place(library, "b", import_root, "b.mp4")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "good-1", "title": "Хороший 1", "file": "a.mp4"},
            build(import_root, outside, library),
            {"video_id": "good-2", "title": "Хороший 2", "file": "b.mp4"},
        ],
    )

    report = _import(project, manifest)

    good_1, bad, good_2 = report.outcomes
    assert (good_1.status, bad.status, good_2.status) == ("imported", "failed", "imported")
    assert bad.line == 2
    assert bad.video_id is None
    assert any(part in bad.message for part in message.split("|")), bad.message
    assert set(Video.objects.values_list("external_id", flat=True)) == {"good-1", "good-2"}
    assert len(_stored_videos()) == 2
    assert not any(_sha(library["c"]) in p.name for p in _stored_videos())


def test_csv_rows_with_too_many_or_too_few_values_fail(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "a.mp4")
    _place(library, "b", import_root, "b.mp4")
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,file\n"
        "v1,Хороший,a.mp4\n"
        "v2,Лишнее,b.mp4,surplus,values\n"
        "v3,Мало\n"
        "v4,Тоже хороший,b.mp4\n",
        encoding="utf-8",
    )

    report = _import(project, manifest)

    assert [(o.line, o.status) for o in report.outcomes] == [
        (2, "imported"),
        (3, "failed"),
        (4, "failed"),
        (5, "imported"),
    ]
    assert report.outcomes[1].message == "the row has 5 values but the header has 3 columns"
    assert report.outcomes[2].message == "the row has fewer values than the header's 3 columns"
    assert set(Video.objects.values_list("external_id", flat=True)) == {"v1", "v4"}


def test_file_over_the_upload_limit_fails_and_smaller_ones_import(
    settings: Settings, project: Project, import_root: Path, library: Library
) -> None:
    settings.MAX_UPLOAD_BYTES = 10_000
    assert library["a"].stat().st_size < 10_000 < library["big"].stat().st_size
    _place(library, "a", import_root, "small.mp4")
    _place(library, "big", import_root, "big.mp4")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [{"title": "Большой", "file": "big.mp4"}, {"title": "Маленький", "file": "small.mp4"}],
    )

    report = _import(project, manifest)

    big, small = report.outcomes
    assert big.status == "failed"
    assert "over the limit of 9.8 KiB" in big.message
    assert small.status == "imported"
    assert list(Video.objects.values_list("title", flat=True)) == ["Маленький"]


def test_video_cut_off_after_its_first_frames_is_refused(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "half", import_root, "half.mp4")
    manifest = _write_jsonl(import_root / "m.jsonl", [{"title": "Половина", "file": "half.mp4"}])

    report = _import(project, manifest)

    assert report.outcomes[0].status == "failed"


def test_unreadable_manifests_are_refused_whole(import_root: Path) -> None:
    from annotations.manifest import ManifestError

    cases = {
        "m.xlsx": b"PK\x03\x04",
        "no-header.csv": b"",
        "wrong-header.csv": b"id,name\n1,x\n",
        "cp1251.csv": "\n".join(["title", "Матч"]).encode("cp1251"),
    }
    for name, content in cases.items():
        (import_root / name).write_bytes(content)
        with pytest.raises(ManifestError):
            read_manifest(import_root / name)


# --- the command -----------------------------------------------------------------------------


def test_command_prints_each_failure_and_the_summary(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "a.mp4")
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,file\nv1,Хороший,a.mp4\nv2,Потерянный,lost.mp4\nv3,Наружу,../x.mp4\n",
        encoding="utf-8",
    )
    out = StringIO()

    call_command("import_videos", "--project", project.name, str(manifest), stdout=out)

    lines = out.getvalue().splitlines()
    assert lines[0] == "[1/3] line 2 (v1): imported"
    assert lines[1] == "[2/3] line 3 (v2): failed: file not found: lost.mp4"
    assert lines[2].startswith(
        "[3/3] line 4 (v3): failed: '../x.mp4' is outside the import folders"
    )
    assert lines[-1] == "1 imported, 0 skipped, 2 failed"
    assert Video.objects.get().external_id == "v1"


def test_command_quiet_rows_prints_only_failures_and_the_summary(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "a.mp4")
    manifest = _write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "v1", "title": "Хороший", "file": "a.mp4"},
            {"video_id": "v2", "file": "lost.mp4"},
        ],
    )
    out = StringIO()

    call_command(
        "import_videos", "--project", project.name, str(manifest), "--quiet-rows", stdout=out
    )

    assert out.getvalue().splitlines() == [
        "[2/2] line 2 (v2): failed: file not found: lost.mp4",
        "1 imported, 0 skipped, 1 failed",
    ]


def test_command_run_twice_skips_everything_the_second_time(
    project: Project, import_root: Path, library: Library
) -> None:
    _place(library, "a", import_root, "a.mp4")
    manifest = _write_jsonl(
        import_root / "m.jsonl", [{"video_id": "v1", "title": "Один", "file": "a.mp4"}]
    )
    call_command("import_videos", "--project", project.name, str(manifest), stdout=StringIO())
    out = StringIO()

    call_command("import_videos", "--project", project.name, str(manifest), stdout=out)

    assert out.getvalue().splitlines()[-1] == "0 imported, 1 skipped, 0 failed"
    assert Video.objects.count() == 1


def test_command_refuses_an_unknown_project_or_manifest_type(
    project: Project, import_root: Path
) -> None:
    manifest = _write_jsonl(import_root / "m.jsonl", [{"title": "Один"}])
    with pytest.raises(CommandError, match="no project named 'Nope'"):
        call_command("import_videos", "--project", "Nope", str(manifest))

    other = import_root / "m.xml"
    other.write_text("<videos/>", encoding="utf-8")
    with pytest.raises(CommandError, match=r"unknown manifest type '\.xml'"):
        call_command("import_videos", "--project", project.name, str(other))
    assert not Video.objects.exists()


def test_command_scans_a_folder(project: Project, import_root: Path, library: Library) -> None:
    _place(library, "a", import_root, "batch/Матч_дня.mp4")
    out = StringIO()

    call_command("import_videos", "--project", project.name, str(import_root / "batch"), stdout=out)

    assert out.getvalue().splitlines()[-1] == "1 imported, 0 skipped, 0 failed"
    assert Video.objects.get().title == "Матч дня"


def test_command_refuses_a_folder_outside_the_roots(project: Project, outside: Path) -> None:
    with pytest.raises(CommandError, match="outside the import folders"):
        call_command("import_videos", "--project", project.name, str(outside))

    assert not Video.objects.exists()


# --- folder scan -----------------------------------------------------------------------------


def test_folder_scan_imports_media_files_under_the_folder(
    project: Project, import_root: Path, outside: Path, library: Library
) -> None:
    batch = import_root / "batch"
    _place(library, "a", batch, "Матч_дня.mp4")
    _place(library, "mkv", batch, "nested/deeper/Концерт.mkv")
    _place(library, "text", batch, "broken.mp4")
    (batch / "notes.txt").write_text("не видео", encoding="utf-8")
    _place(library, "b", import_root, "elsewhere/not-in-batch.mp4")
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
    _place(library, "a", import_root, "batch/a.mp4")
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
    clip = _place(library, "a", import_root, "a.mp4")
    for folder in (clip, import_root / "missing"):
        with pytest.raises(SourceRejected, match="is not a folder"):
            videos_scan_folder(project=project, folder=folder)


# --- the upload page -------------------------------------------------------------------------


def _upload_file(library: Library, key: str, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, library[key].read_bytes(), content_type="video/mp4")


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files of this test land here, so leftovers can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_admin_uploads_a_video_and_is_sent_to_its_page(
    admin_user: User, project: Project, library: Library, private_tempdir: Path
) -> None:
    make_tag(project, "Спорт: Футбол")

    response = client_for(admin_user).post(
        f"/projects/{project.pk}/videos/new/",
        {
            "file": _upload_file(library, "a", "Матч.mp4"),
            "title": "",
            "description": "Обзор",
            "tags": "Спорт:Футбол, Неизвестное",
        },
    )

    video = Video.objects.get(project=project)
    assert response.status_code == 302
    assert response["Location"] == f"/videos/{video.pk}/"
    assert video.title == "Матч"
    assert video.sha256 == _sha(library["a"])
    assert video.source_name == "Матч.mp4"
    assert list(video.confirmed_labels.values_list("tag__path", "source")) == [
        ("Спорт: Футбол", "import")
    ]
    assert video.confirmed_labels.get().confirmed_by == admin_user
    assert video.metadata["unknown_tags"] == ["Неизвестное"]
    assert list(private_tempdir.iterdir()) == []


def test_uploading_a_file_that_is_not_a_video_shows_a_form_error(
    admin_user: User, project: Project, library: Library, private_tempdir: Path
) -> None:
    response = client_for(admin_user).post(
        f"/projects/{project.pk}/videos/new/", {"file": _upload_file(library, "text", "clip.mp4")}
    )

    assert response.status_code == 200
    assert "not a video or audio file" in " ".join(response.context["form"].errors["file"])
    assert not Video.objects.exists()
    assert _stored_videos() == []
    assert list(private_tempdir.iterdir()) == []


def test_uploading_the_same_video_twice_is_refused(
    admin_user: User, project: Project, library: Library
) -> None:
    client = client_for(admin_user)
    client.post(
        f"/projects/{project.pk}/videos/new/", {"file": _upload_file(library, "a", "a.mp4")}
    )

    response = client.post(
        f"/projects/{project.pk}/videos/new/", {"file": _upload_file(library, "a", "b.mp4")}
    )

    assert response.status_code == 200
    assert "already imported" in " ".join(response.context["form"].errors["file"])
    assert Video.objects.count() == 1
    assert len(_stored_videos()) == 1


def test_upload_over_the_limit_is_refused_before_probing(
    settings: Settings, admin_user: User, project: Project, library: Library
) -> None:
    settings.MAX_UPLOAD_BYTES = 1000

    response = client_for(admin_user).post(
        f"/projects/{project.pk}/videos/new/", {"file": _upload_file(library, "a", "a.mp4")}
    )

    assert response.status_code == 200
    assert "larger than the upload limit" in " ".join(response.context["form"].errors["file"])
    assert not Video.objects.exists()


def test_crowd_worker_cannot_open_or_post_the_upload_page(
    crowd: User, project: Project, library: Library
) -> None:
    client = client_for(crowd)

    assert client.get(f"/projects/{project.pk}/videos/new/").status_code == 403
    response = client.post(
        f"/projects/{project.pk}/videos/new/", {"file": _upload_file(library, "a", "a.mp4")}
    )

    assert response.status_code == 403
    assert not Video.objects.exists()


# --- the API ---------------------------------------------------------------------------------


def test_api_upload_with_a_token_creates_the_video(
    admin_user: User, project: Project, library: Library
) -> None:
    make_tag(project, "Музыка")
    token = Token.objects.create(user=admin_user)

    response = Client().post(
        f"/api/v1/projects/{project.pk}/videos/",
        {"file": _upload_file(library, "b", "clip.mp4"), "title": "Клип", "tags": "Музыка, Балет"},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    video = Video.objects.get(pk=body["id"])
    assert body["title"] == "Клип" == video.title
    assert body["sha256"] == _sha(library["b"])
    assert body["status"] == "pending"
    assert body["warnings"] == ["unknown tag 'Балет' kept in metadata only"]
    assert list(video.confirmed_labels.values_list("tag__path", flat=True)) == ["Музыка"]


def test_api_upload_with_a_session_as_expert_creates_the_video(
    expert: User, project: Project, library: Library
) -> None:
    response = client_for(expert).post(
        f"/api/v1/projects/{project.pk}/videos/", {"file": _upload_file(library, "c", "c.mp4")}
    )

    assert response.status_code == 201, response.content
    assert Video.objects.get().title == "c"


def test_api_upload_of_a_non_video_is_a_400_with_the_reason(
    admin_user: User, project: Project, library: Library
) -> None:
    response = client_for(admin_user).post(
        f"/api/v1/projects/{project.pk}/videos/", {"file": _upload_file(library, "text", "x.mp4")}
    )

    assert response.status_code == 400
    assert "not a video or audio file" in response.json()["detail"]
    assert not Video.objects.exists()


def test_api_upload_by_a_crowd_worker_is_forbidden(
    crowd: User, project: Project, library: Library
) -> None:
    token = Token.objects.create(user=crowd)

    response = Client().post(
        f"/api/v1/projects/{project.pk}/videos/",
        {"file": _upload_file(library, "a", "a.mp4")},
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )

    assert response.status_code == 403
    assert not Video.objects.exists()
    assert _stored_videos() == []


def test_api_upload_without_credentials_is_refused(project: Project, library: Library) -> None:
    response = Client().post(
        f"/api/v1/projects/{project.pk}/videos/", {"file": _upload_file(library, "a", "a.mp4")}
    )

    assert response.status_code in (401, 403)
    assert not Video.objects.exists()


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
