"""The import_videos management command: a manifest or a folder, its printed report."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Project, Video
from tests.annotations.video_import.helpers import Library, place, write_jsonl

pytestmark = [pytest.mark.django_db, pytest.mark.label_audit]


def test_command_prints_each_failure_and_the_summary(
    project: Project, import_root: Path, library: Library
) -> None:
    place(library, "a", import_root, "a.mp4")
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
    place(library, "a", import_root, "a.mp4")
    manifest = write_jsonl(
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
    place(library, "a", import_root, "a.mp4")
    manifest = write_jsonl(
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
    manifest = write_jsonl(import_root / "m.jsonl", [{"title": "Один"}])
    with pytest.raises(CommandError, match="no project named 'Nope'"):
        call_command("import_videos", "--project", "Nope", str(manifest))

    other = import_root / "m.xml"
    other.write_text("<videos/>", encoding="utf-8")
    with pytest.raises(CommandError, match=r"unknown manifest type '\.xml'"):
        call_command("import_videos", "--project", project.name, str(other))
    assert not Video.objects.exists()


def test_command_scans_a_folder(project: Project, import_root: Path, library: Library) -> None:
    place(library, "a", import_root, "batch/Матч_дня.mp4")
    out = StringIO()

    call_command("import_videos", "--project", project.name, str(import_root / "batch"), stdout=out)

    assert out.getvalue().splitlines()[-1] == "1 imported, 0 skipped, 0 failed"
    assert Video.objects.get().title == "Матч дня"


def test_command_refuses_a_folder_outside_the_roots(project: Project, outside: Path) -> None:
    with pytest.raises(CommandError, match="outside the import folders"):
        call_command("import_videos", "--project", project.name, str(outside))

    assert not Video.objects.exists()
