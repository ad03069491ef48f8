"""Manifest rows imported in batches: duplicates, errors by line, labels with history, jobs.

A batch looks up what the project already has once for all its rows and stores its
text-only rows together; these tests use batches of a few rows so every rule is seen
within a batch, across batches and against the project. Files and URLs keep going one
by one through the media checks (tests/annotations/test_video_import.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django_q.models import Task

from annotations.manifest import ManifestRow, open_manifest, row_from_mapping
from annotations.models import (
    ConfirmedLabel,
    Job,
    LabelChange,
    LabelSource,
    Project,
    Video,
    VideoStatus,
)
from annotations.services.media.video_import import RowOutcome, videos_import_rows
from annotations.services.media.video_import.bulk import video_statistics_refresh
from annotations.services.taxonomy_edit import tag_deprecate, tag_merge
from ml.synthetic_media import write_video
from tests.factories import client_for, make_tag, make_video

pytestmark = pytest.mark.django_db

CaptureCallbacks = Callable[..., Any]


def _rows(*mappings: Mapping[str, object]) -> list[ManifestRow]:
    return [row_from_mapping(line, dict(data)) for line, data in enumerate(mappings, start=2)]


def _statuses(outcomes: list[RowOutcome]) -> list[tuple[int, str, str]]:
    return [(o.line, o.status, o.message) for o in outcomes]


def _import_command(project: Project, manifest: Path, *options: str) -> list[str]:
    """Run ``manage.py import_videos`` on ``manifest``; the lines it printed."""
    out = StringIO()
    call_command("import_videos", "--project", project.name, str(manifest), *options, stdout=out)
    return out.getvalue().splitlines()


def test_duplicates_in_the_file_and_in_the_project_are_caught_within_and_across_batches(
    project: Project,
) -> None:
    old = make_video(project, title="Старое", external_id="old")
    old_text = make_video(project, title="Лекция", description="Про физику")
    rows = _rows(
        {"video_id": "a", "title": "Первое"},  # line 2, batch 1
        {"video_id": "a", "title": "Снова a"},  # line 3: repeats line 2 in its batch
        {"video_id": "old", "title": "Уже есть"},  # line 4: in the project
        {"title": "Текст", "description": "Без id"},  # line 5, batch 2
        {"title": "Текст", "description": "Без id"},  # line 6: the same text in its batch
        {"video_id": "a", "title": "a в другой пачке"},  # line 7: repeats line 2
        {"title": "Лекция", "description": "Про физику"},  # line 8, batch 3: in the project
        {"title": "Текст", "description": "Без id"},  # line 9: the text of line 5
        {"title": "Текст", "description": "Другое описание"},  # line 10: new
    )

    report = videos_import_rows(project=project, rows=iter(rows), base_dir=None, batch_size=3)

    created = {
        v.external_id or v.description: v.pk
        for v in Video.objects.exclude(pk__in=[old.pk, old_text.pk])
    }
    assert _statuses(report.outcomes) == [
        (2, "imported", ""),
        (3, "failed", "video_id 'a' repeats line 2"),
        (4, "skipped", f"already imported as video #{old.pk}"),
        (5, "imported", ""),
        (6, "skipped", f"already imported as video #{created['Без id']}"),
        (7, "failed", f"video_id 'a' repeats an earlier line (imported as video #{created['a']})"),
        (8, "skipped", f"already imported as video #{old_text.pk}"),
        (9, "skipped", f"already imported as video #{created['Без id']}"),
        (10, "imported", ""),
    ]
    assert report.summary() == "3 imported, 4 skipped, 2 failed"
    assert Video.objects.count() == 5
    assert Video.objects.get(external_id="a").title == "Первое"


def test_reimporting_a_manifest_with_the_command_creates_nothing_twice(
    project: Project, import_root: Path
) -> None:
    make_tag(project, "Музыка")
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,description,tags\n"
        + "".join(f"v{n},Видео {n},Описание {n},Музыка\n" for n in range(5))
        + ",Без id,Только текст,Музыка\n",
        encoding="utf-8",
    )
    _import_command(project, manifest, "--batch-size", "2")
    before = sorted(Video.objects.values_list("pk", flat=True))

    lines = _import_command(project, manifest, "--batch-size", "2")

    assert lines[0] == f"[1/6] line 2 (v0): skipped: already imported as video #{before[0]}"
    assert lines[-1] == "0 imported, 6 skipped, 0 failed"
    assert sorted(Video.objects.values_list("pk", flat=True)) == before
    assert ConfirmedLabel.objects.count() == LabelChange.objects.count() == 6


def test_bad_rows_fail_with_their_line_and_the_rows_around_them_import(
    project: Project, import_root: Path
) -> None:
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,tags\n"
        "v1,Хорошее,\n"
        "v2,Лишнее,Спорт,ещё значение\n"
        "\n"
        "v3,,\n"
        "v4,Пустой уровень,Спорт::Футбол\n"
        "v5,Тоже хорошее,\n"
        f"v6,{'Д' * 501},\n"
        'v7,"Многострочное\nназвание",\n'
        "v8,Последнее,\n",
        encoding="utf-8",
    )
    lines = _import_command(project, manifest, "--batch-size", "3", "--quiet-rows")

    assert lines == [
        "[2/8] line 3: failed: the row has 4 values but the header has 3 columns",
        "[3/8] line 5 (v3): failed: the row has neither a title nor a file",
        "[4/8] line 6 (v4): failed: a tag path has an empty level: 'Спорт::Футбол'",
        "[6/8] line 8 (v6): failed: the title is longer than 500 characters",
        "4 imported, 0 skipped, 4 failed",
    ]
    assert sorted(Video.objects.values_list("external_id", flat=True)) == ["v1", "v5", "v7", "v8"]
    assert Video.objects.get(external_id="v8").title == "Последнее"


@pytest.mark.label_audit
def test_a_merged_tag_lands_on_the_tag_it_went_into_and_a_deprecated_one_is_reported_by_line(
    project: Project, admin_user: User, import_root: Path
) -> None:
    football = make_tag(project, "Спорт: Футбол")
    soccer, older = make_tag(project, "Спорт: Соккер"), make_tag(project, "Спорт: Ножной мяч")
    tag_merge(source=older, target=soccer, by=admin_user)
    tag_merge(source=soccer, target=football, by=admin_user)  # older -> soccer -> football
    tag_deprecate(tag=make_tag(project, "Спорт: Керлинг"), by=admin_user)
    manifest = import_root / "m.csv"
    manifest.write_text(
        "video_id,title,tags\n"
        "m1,Матч,спорт: ножной мяч\n"
        'm2,Лёд,"Спорт: Керлинг, Спорт: Соккер"\n'
        "m3,Только керлинг,Спорт: Керлинг\n",
        encoding="utf-8",
    )

    lines = _import_command(project, manifest, "--batch-size", "2", "--quiet-rows")

    assert lines == [
        "[2/3] line 3 (m2): imported: tag 'Спорт: Керлинг' is deprecated; not applied",
        "[3/3] line 4 (m3): imported: tag 'Спорт: Керлинг' is deprecated; not applied",
        "3 imported, 0 skipped, 0 failed (2 with warnings)",
    ]
    labels = ConfirmedLabel.objects.order_by("video__external_id")
    assert [(label.video.external_id, label.tag) for label in labels] == [
        ("m1", football),
        ("m2", football),
    ]
    assert Video.objects.get(external_id="m3").metadata["original_tags"] == ["Спорт: Керлинг"]


@pytest.mark.label_audit
def test_imported_tags_are_confirmed_with_their_added_history_from_the_import(
    project: Project, admin_user: User
) -> None:
    football, hockey = make_tag(project, "Спорт: Футбол"), make_tag(project, "Спорт: Хоккей")
    rows = _rows(
        {"video_id": "m1", "title": "Матч", "tags": "Спорт: Футбол, спорт:хоккей"},
        {"video_id": "m2", "title": "Без тегов"},
        {"video_id": "m3", "title": "Неизвестный", "tags": "Спорт: Футбол, Кино"},
    )

    report = videos_import_rows(
        project=project, rows=rows, base_dir=None, user=admin_user, batch_size=2
    )

    assert [o.warnings for o in report.outcomes] == [
        [],
        [],
        ["unknown tag 'Кино' kept in metadata only"],
    ]
    labels = ConfirmedLabel.objects.order_by("video__external_id", "tag__path")
    assert [(c.video.external_id, c.tag, c.source, c.confirmed_by) for c in labels] == [
        ("m1", football, LabelSource.IMPORT, admin_user),
        ("m1", hockey, LabelSource.IMPORT, admin_user),
        ("m3", football, LabelSource.IMPORT, admin_user),
    ]
    history = LabelChange.objects.order_by("video__external_id", "tag__path")
    assert [(h.video.external_id, h.tag, h.action, h.source, h.changed_by) for h in history] == [
        ("m1", football, LabelChange.Action.ADDED, LabelSource.IMPORT, admin_user),
        ("m1", hockey, LabelChange.Action.ADDED, LabelSource.IMPORT, admin_user),
        ("m3", football, LabelChange.Action.ADDED, LabelSource.IMPORT, admin_user),
    ]
    m3 = Video.objects.get(external_id="m3")
    assert m3.metadata == {"original_tags": ["Спорт: Футбол", "Кино"], "unknown_tags": ["Кино"]}


def test_each_batch_hands_its_videos_jobs_to_the_broker_in_one_task(
    project: Project, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    rows = _rows(*({"video_id": f"t{n}", "title": f"Текст {n}"} for n in range(5)))

    with django_capture_on_commit_callbacks(execute=True):
        videos_import_rows(project=project, rows=rows, base_dir=None, batch_size=2)

    tasks = Task.objects.filter(func="annotations.tasks.run_jobs").order_by("started")
    assert len(tasks) == 3
    ids = sorted(Video.objects.values_list("pk", flat=True))
    jobs = Job.objects.filter(kind=Job.Kind.INGEST)
    job_of = dict(jobs.values_list("pk", "object_id"))
    assert [[job_of[pk] for pk in task.args[0]] for task in tasks] == [
        ids[0:2],
        ids[2:4],
        ids[4:5],
    ]
    assert all(task.success for task in tasks), [task.result for task in tasks]
    assert set(jobs.values_list("state", flat=True)) == {Job.State.DONE}
    assert set(Video.objects.values_list("status", flat=True)) == {VideoStatus.READY}


def test_rows_with_a_file_go_through_the_media_checks_between_text_only_rows(
    project: Project, import_root: Path, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    write_video(import_root / "clip.mp4", seconds=1.0, width=64, height=48, fps=10, audio=False)
    (import_root / "broken.mp4").write_bytes(b"not a video")
    rows = _rows(
        {"video_id": "t1", "title": "Текст"},
        {"video_id": "f1", "title": "Клип", "file": "clip.mp4"},
        {"video_id": "f2", "title": "Сломанный", "file": "broken.mp4"},
        {"video_id": "t2", "title": "Ещё текст"},
    )

    with django_capture_on_commit_callbacks(execute=True):
        report = videos_import_rows(project=project, rows=rows, base_dir=import_root)

    assert [(o.line, o.status) for o in report.outcomes] == [
        (2, "imported"),
        (3, "imported"),
        (4, "failed"),
        (5, "imported"),
    ]
    # The two text-only rows in one task; the file in a task of its own.
    assert Task.objects.filter(group=Job.Kind.INGEST).count() == 2
    clip = Video.objects.get(external_id="f1")
    assert clip.sha256 and clip.source_file and clip.duration_seconds == pytest.approx(1.0, abs=0.2)


def test_progress_sees_every_row_in_order_and_the_report_can_keep_only_counts(
    project: Project, import_root: Path
) -> None:
    manifest = import_root / "m.jsonl"
    manifest.write_text(
        '{"title": "Один"}\n\n{"title": ""}\nnot json\n{"title": "Два"}\n', encoding="utf-8"
    )
    seen: list[tuple[int, int, int, str]] = []

    report = videos_import_rows(
        project=project,
        rows=open_manifest(manifest),
        base_dir=import_root,
        progress=lambda position, total, o: seen.append((position, total, o.line, o.status)),
        keep_outcomes=False,
        batch_size=2,
    )

    assert seen == [
        (1, 4, 1, "imported"),
        (2, 4, 3, "failed"),
        (3, 4, 4, "failed"),
        (4, 4, 5, "imported"),
    ]
    assert report.outcomes == []
    assert report.summary() == "2 imported, 0 skipped, 2 failed"


def test_a_manifest_that_is_not_utf8_further_down_is_refused_before_any_row(
    project: Project, import_root: Path
) -> None:
    manifest = import_root / "m.csv"
    good = "title\n" + "".join(f"Видео {n}\n" for n in range(50))
    manifest.write_bytes(good.encode("utf-8") + "Матч\n".encode("cp1251"))

    with pytest.raises(
        CommandError, match=rf"not UTF-8 text \(invalid .* at byte {len(good.encode())}\)"
    ):
        _import_command(project, manifest)

    assert not Video.objects.exists()


def test_a_failure_while_reading_ahead_stops_the_import_with_that_error(project: Project) -> None:
    def rows() -> Iterator[ManifestRow]:
        yield from _rows({"title": "Один"}, {"title": "Два"})
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away"):
        videos_import_rows(project=project, rows=rows(), base_dir=None, batch_size=1)

    assert list(Video.objects.values_list("title", flat=True)) == ["Один", "Два"]


def test_api_bulk_import_queues_one_job_for_its_rows(
    project: Project, expert: User, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    make_tag(project, "Спорт")
    rows = [{"video_id": f"api-{n}", "title": f"Видео {n}", "tags": "Спорт"} for n in range(4)]
    rows.append({"video_id": "api-0", "title": "Повтор"})

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(expert).post(
            f"/api/v1/projects/{project.pk}/videos/bulk/",
            {"rows": rows},
            content_type="application/json",
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["summary"] == "4 imported, 0 skipped, 1 failed"
    assert body["rows"][-1]["message"] == "video_id 'api-0' repeats line 1"
    assert Task.objects.filter(group=Job.Kind.INGEST).count() == 1
    assert ConfirmedLabel.objects.filter(source=LabelSource.IMPORT).count() == 4


def test_text_and_metadata_are_stored_exactly_as_written_whatever_their_characters(
    project: Project,
) -> None:
    title = 'Tab\there, back\\slash \\N, "quotes" и \\. конец'
    description = "Строка 1\nСтрока 2\r\nC:\\path\\to\tfile \x00NUL, emoji 🎬, \u2028 separator"
    metadata = {
        "channel": "A\tB\\C\nD",
        "views": 12,
        "rating": 4.5,
        "live": False,
        "nested": {"list": [1, "два", None]},
    }
    rows = _rows({"video_id": "tricky\\1", "title": title, "description": description, **metadata})

    report = videos_import_rows(project=project, rows=rows, base_dir=None)

    assert report.summary() == "1 imported, 0 skipped, 0 failed"
    video = Video.objects.get()
    assert (video.external_id, video.title) == ("tricky\\1", title)
    assert video.description == description.replace("\x00", "")
    assert video.metadata == metadata


def test_refreshing_the_statistics_gives_the_planner_the_imported_row_count(
    project: Project,
) -> None:
    videos_import_rows(
        project=project, rows=_rows(*({"title": f"Видео {n}"} for n in range(30))), base_dir=None
    )

    assert video_statistics_refresh()

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE relname = %s", [Video._meta.db_table]
            )
            assert cursor.fetchone()[0] == 30
