"""Bad manifests and bad rows: a bad row fails with a reason and the other rows import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from annotations.manifest import read_manifest
from annotations.models import Project, Video
from tests.annotations.video_import.helpers import (
    Library,
    import_manifest,
    media_in_linked_folder,
    media_linked_out,
    place,
    sha256_of,
    stored_videos,
    write_jsonl,
)

pytestmark = pytest.mark.django_db


# Each case builds one bad JSONL line (a dict, or raw text) that sits between two
# good rows; the bad row must fail with a message holding one of the "|"-separated
# texts, and the good ones import.
BadRow = Callable[[Path, Path, Library], "dict[str, object] | str"]


def _text_as_mp4(root: Path, _: Path, library: Library) -> dict[str, object]:
    place(library, "text", root, "fake.mp4")
    return {"title": "Текст", "file": "fake.mp4"}


def _empty_file(root: Path, _: Path, __: Library) -> dict[str, object]:
    (root / "empty.mp4").write_bytes(b"")
    return {"title": "Пусто", "file": "empty.mp4"}


def _truncated(root: Path, _: Path, library: Library) -> dict[str, object]:
    place(library, "truncated", root, "cut.mp4")
    return {"title": "Обрезан", "file": "cut.mp4"}


def _subtitles_outside(root: Path, _: Path, library: Library) -> dict[str, object]:
    place(library, "c", root, "c.mp4")
    return {"title": "Титры снаружи", "file": "c.mp4", "subtitles": "../outside/subs.srt"}


def _row(**fields: object) -> BadRow:
    return lambda _root, _outside, _library: dict(fields)


def _raw(text: str) -> BadRow:
    return lambda _root, _outside, _library: text


# URLs whose host is this machine or a private network: a server-side request forgery.
PRIVATE_URLS = {
    "127.0.0.1": ("Loopback", "http://127.0.0.1/clip.mp4"),
    "localhost": ("Localhost", "http://localhost:8000/clip.mp4"),
    "10.0.0.1": ("Private", "https://10.0.0.1/clip.mp4"),
    "metadata service": ("Metadata", "http://169.254.169.254/latest/meta-data/"),
    "[::1]": ("IPv6 loopback", "http://[::1]:8080/clip.mp4"),
}

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
    "symlink to a file outside": (media_linked_out, "outside the import folders"),
    "symlinked folder outside": (media_in_linked_folder, "outside the import folders"),
    "subtitles outside the root": (_subtitles_outside, "outside the import folders"),
    "file:// URL": (_row(title="Файл", file="file:///etc/passwd"), "only http and https"),
    "ftp:// URL": (_row(title="FTP", url="ftp://93.184.216.34/clip.mp4"), "only http and https"),
    **{
        f"URL to {name}": (_row(title=title, url=url), "private or local address")
        for name, (title, url) in PRIVATE_URLS.items()
    },
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
    place(library, "a", import_root, "a.mp4")
    place(library, "b", import_root, "b.mp4")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [
            {"video_id": "good-1", "title": "Хороший 1", "file": "a.mp4"},
            build(import_root, outside, library),
            {"video_id": "good-2", "title": "Хороший 2", "file": "b.mp4"},
        ],
    )

    report = import_manifest(project, manifest)

    good_1, bad, good_2 = report.outcomes
    assert (good_1.status, bad.status, good_2.status) == ("imported", "failed", "imported")
    assert bad.line == 2
    assert bad.video_id is None
    assert any(part in bad.message for part in message.split("|")), bad.message
    assert set(Video.objects.values_list("external_id", flat=True)) == {"good-1", "good-2"}
    assert len(stored_videos()) == 2
    assert not any(sha256_of(library["c"]) in p.name for p in stored_videos())


def test_csv_rows_with_too_many_or_too_few_values_fail(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "a.mp4")
    place(library, "b", import_root, "b.mp4")
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,file\n"
        "v1,Хороший,a.mp4\n"
        "v2,Лишнее,b.mp4,surplus,values\n"
        "v3,Мало\n"
        "v4,Тоже хороший,b.mp4\n",
        encoding="utf-8",
    )

    report = import_manifest(project, manifest)

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
    place(library, "a", import_root, "small.mp4")
    place(library, "big", import_root, "big.mp4")
    manifest = write_jsonl(
        import_root / "m.jsonl",
        [{"title": "Большой", "file": "big.mp4"}, {"title": "Маленький", "file": "small.mp4"}],
    )

    report = import_manifest(project, manifest)

    big, small = report.outcomes
    assert big.status == "failed"
    assert "over the limit of 9.8 KiB" in big.message
    assert small.status == "imported"
    assert list(Video.objects.values_list("title", flat=True)) == ["Маленький"]


def test_video_cut_off_after_its_first_frames_is_refused(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "half", import_root, "half.mp4")
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Половина", "file": "half.mp4"}])

    report = import_manifest(project, manifest)

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
