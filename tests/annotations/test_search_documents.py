"""The video list's search documents: written after the import, found by word forms once written.

PostgreSQL only: other databases search by substring and keep no documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django_q.models import Schedule

from annotations.manifest import row_from_mapping
from annotations.models import PendingSearchDocument, Project, SearchDocument, Video
from annotations.selectors.videos import VideoFilters, videos_filtered
from annotations.services.jobs.schedules import search_documents_schedule_ensure
from annotations.services.media.video_import import videos_import_rows
from annotations.services.search import search_documents_write
from tests.factories import client_for, make_video

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("search documents are PostgreSQL's full-text search")


def _found(user: User, project: Project, query: str) -> set[str]:
    return {v.title for v in videos_filtered(user, project, VideoFilters(query=query))}


def _import(project: Project, *rows: dict[str, object]) -> None:
    manifest = [row_from_mapping(line, row) for line, row in enumerate(rows, start=2)]
    report = videos_import_rows(project=project, rows=manifest, base_dir=None)
    assert report.counts["imported"] == len(rows)


def test_an_imported_video_is_found_by_its_words_at_once_and_by_other_forms_once_written(
    project: Project, expert: User
) -> None:
    _import(project, {"title": "Обзор недели", "description": "Голы в футболе и в хоккее"})
    video = project.videos.get()
    assert PendingSearchDocument.objects.filter(video=video).exists()
    # Before its document is written: the words as written, not their other forms.
    assert _found(expert, project, "футболе хоккее") == {"Обзор недели"}
    assert _found(expert, project, "футбола") == set()

    written = search_documents_write()

    assert (written.written, written.left) == (1, False)
    assert not PendingSearchDocument.objects.exists()
    assert SearchDocument.objects.filter(video=video).exists()
    assert _found(expert, project, "футбола") == {"Обзор недели"}
    assert _found(expert, project, "футбола -хоккей") == set()


def test_an_import_has_a_worker_write_the_documents_once_it_commits(
    project: Project, expert: User, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _import(project, {"title": "Рецепт борща", "description": "Варим борщ со свёклой"})
    # The tests' cluster runs the queued task at once.
    assert not PendingSearchDocument.objects.exists()
    assert _found(expert, project, "свёклы") == {"Рецепт борща"}


def test_a_changed_title_is_written_again_and_other_changes_list_nothing(
    project: Project, expert: User
) -> None:
    video = make_video(project, title="Матч по футболу")
    search_documents_write()
    video.status = "ready"
    video.save()
    assert not PendingSearchDocument.objects.exists()

    Video.objects.filter(pk=video.pk).update(title="Матч по баскетболу")
    assert PendingSearchDocument.objects.filter(video=video).exists()
    search_documents_write()

    assert _found(expert, project, "баскетбола") == {"Матч по баскетболу"}
    assert _found(expert, project, "футбола") == set()


def test_documents_are_written_a_batch_at_a_time_and_a_stopping_worker_leaves_the_rest(
    project: Project,
) -> None:
    for n in range(5):
        make_video(project, title=f"Видео {n}")
    batches = iter([True, False])

    stopped = search_documents_write(batch_size=2, keep_going=lambda: next(batches))

    assert (stopped.written, stopped.batches, stopped.left) == (2, 1, True)
    assert PendingSearchDocument.objects.count() == 3
    rest = search_documents_write(batch_size=2)
    assert (rest.written, rest.batches, rest.left) == (3, 2, False)
    assert SearchDocument.objects.count() == 5


def test_a_video_listed_behind_a_running_writer_is_written_by_the_same_run(
    project: Project, expert: User
) -> None:
    first = make_video(project, title="Первое")
    for n in range(3):
        make_video(project, title=f"Видео {n}")
    calls = 0

    def retitle_the_first_after_one_batch() -> bool:
        nonlocal calls
        calls += 1
        if calls == 2:
            Video.objects.filter(pk=first.pk).update(title="Первый матч")
        return True

    outcome = search_documents_write(batch_size=2, keep_going=retitle_the_first_after_one_batch)

    assert outcome.written == 5
    assert not PendingSearchDocument.objects.exists()
    assert _found(expert, project, "матча") == {"Первый матч"}


def test_a_deleted_video_leaves_no_document_behind(project: Project) -> None:
    written = make_video(project, title="Записанное")
    search_documents_write()
    listed = make_video(project, title="В списке")
    deleted_in_sql = make_video(project, title="Удалённое в SQL")
    make_video(project, title="Оставшееся")
    written.delete()
    listed.delete()
    with connection.cursor() as cursor:
        # As a database console would: the listing of the video stays behind.
        cursor.execute("DELETE FROM annotations_video WHERE id = %s", [deleted_in_sql.pk])
    assert PendingSearchDocument.objects.count() == 2

    outcome = search_documents_write()

    assert outcome.written == 1
    assert not PendingSearchDocument.objects.exists()
    assert list(SearchDocument.objects.values_list("video__title", flat=True)) == ["Оставшееся"]


def test_every_worker_start_ensures_one_schedule_for_what_lost_tasks_left() -> None:
    search_documents_schedule_ensure()
    search_documents_schedule_ensure()
    schedule = Schedule.objects.get(func="annotations.tasks.write_search_documents")
    assert (schedule.schedule_type, schedule.minutes) == (Schedule.MINUTES, 1)


def test_the_video_list_says_while_new_videos_are_not_in_the_search_index(
    project: Project, expert: User
) -> None:
    make_video(project, title="Новости футбола")
    page = client_for(expert).get(f"/projects/{project.pk}/videos/", {"q": "футбола"})
    assert page.context["search_pending"] == 1
    assert "not in the search index yet" in page.content.decode()

    search_documents_write()

    page = client_for(expert).get(f"/projects/{project.pk}/videos/", {"q": "футбола"})
    assert page.context["search_pending"] == 0
    assert "not in the search index yet" not in page.content.decode()
    assert [video.title for video in page.context["page"].object_list] == ["Новости футбола"]
