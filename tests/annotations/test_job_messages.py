"""What a job says (its message, and the reason its end leaves on its object) reads in
Russian on the pages: every sentence comes from the code that writes it, so a change of
its English wording that the translation table misses fails here."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django.utils.translation import override
from pytest_django.fixtures import Settings

from annotations.models import (
    ExportSnapshot,
    Job,
    ModelVersion,
    PredictionJob,
    ProcessingStep,
    Project,
    VideoStatus,
)
from annotations.services.export import ExportFilters, export_request
from annotations.services.interchange import dataset_import_request
from annotations.services.interchange.reading import InterchangeError, read_items
from annotations.services.jobs import lifecycle
from annotations.services.jobs.control import (
    job_cancel,
    job_retry,
    job_run_now,
    jobs_release_workers,
    jobs_sweep,
)
from annotations.services.jobs.lifecycle import job_claim, job_request
from annotations.services.learning.suggestions import SuggestionRun
from annotations.services.learning.training import _comparison_note, gate, training_request
from annotations.views.display import step_message
from annotations.views.job_messages import job_message
from ml.compare import Comparison
from tests.factories import client_for, make_job, make_video

STALE = timedelta(seconds=61)


def _russian(message: str) -> str:
    """``message`` as a Russian page says it; fails when no pattern knows the sentence."""
    assert message, "the producer wrote no message"
    with override("ru"):
        said = job_message(message)
    assert said != message, f"not translated: {message!r}"
    assert re.search("[а-яё]", said), said
    return said


def _ran(job: Job) -> str:
    return job_run_now(job).message


def _job(kind: str, object_id: int, project: Project, **params: Any) -> Job:
    return job_request(
        kind=kind, project=project, object_id=object_id, params=params, hand_over_now=False
    )


def test_the_lifecycles_reasons_are_said_in_russian(
    project: Project, admin_user: User, settings: Settings
) -> None:
    video = make_video(project, status=VideoStatus.PENDING)
    job = Job.objects.of(Job.Kind.INGEST, video.pk).get()
    said: list[str] = []

    job_retry(job=job, user=admin_user)  # a queued job: handed to the workers again
    said.append(job.message)
    assert _russian(job.message) == "снова передана обработчикам (alice_admin)"

    claimed = job_claim(job.pk)
    assert claimed is not None
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE)
    taken = job_claim(job.pk)
    assert taken is not None and taken.message.startswith("taken over from ")
    said.append(taken.message)

    # The sweeper: a silent worker, with and without a heartbeat; then out of attempts.
    for heartbeat in (timezone.now() - STALE, None):
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.RUNNING, worker="", attempts=1, heartbeat_at=heartbeat
        )
        jobs_sweep()
        job.refresh_from_db()
        said.append(job.message)
    assert _russian(job.message) == (
        "снова в очереди: её обработчик (неизвестен) перестал отвечать "
        "(ни одного сигнала после запуска) (попытка 1 из 3)"
    )
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING,
        worker="gone:1",
        attempts=settings.JOB_MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - STALE,
    )
    jobs_sweep()
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    said.append(job.message)
    video.refresh_from_db()
    said.append(video.status_error)

    # A worker stopped: by its command (the stop flag), or killed and released.
    job_retry(job=job, user=None)
    said.append(job.message)
    assert _russian(job.message) == "перезапущена (администратор)"
    lifecycle.stop_flag_share()
    lifecycle.stop_request()
    try:
        said.append(_ran(job))
    finally:
        lifecycle._stop_flag = None
    claim = job_claim(job.pk)
    assert claim is not None
    jobs_release_workers([claim.worker])
    job.refresh_from_db()
    said.append(job.message)

    job_cancel(job=job, user=admin_user)
    video.refresh_from_db()
    said += [job.message, video.status_error]
    assert _russian(video.status_error) == "обработка отменена: отменена (alice_admin)"

    for message in said:
        _russian(message)


@pytest.mark.parametrize("kind", [k for k in Job.Kind.values if k != Job.Kind.IMPORT])
def test_a_job_whose_object_was_deleted_says_so_in_russian(project: Project, kind: str) -> None:
    job = make_job(kind, 999_999, project)
    assert _ran(job).endswith(" was deleted")
    _russian(job.message)


def test_the_ingest_outcomes_are_said_in_russian(project: Project) -> None:
    video = make_video(project, status=VideoStatus.PENDING, description="Обзор")
    done = _ran(Job.objects.of(Job.Kind.INGEST, video.pk).get())
    assert re.fullmatch(r"выполнено \d+ шагов", _russian(done))

    unknown = _ran(_job(Job.Kind.INGEST, video.pk, project, only=["colour"]))
    assert _russian(unknown).startswith("неизвестные шаги: colour; известные: probe,")

    ProcessingStep.objects.filter(video=video, name="probe").update(
        state=ProcessingStep.State.FAILED,
        message="the video is 5.0 hours long, over the limit of 4.0 hours (MAX_VIDEO_SECONDS)",
    )
    failed = _ran(_job(Job.Kind.INGEST, video.pk, project, only=["text"]))
    assert _russian(failed).startswith("Чтение файла: длительность видео")


def test_the_suggestions_refresh_says_what_it_made_in_russian(
    project: Project, zero_shot_model: None
) -> None:
    made = _ran(_job(Job.Kind.SUGGESTIONS, project.pk, project))
    assert made == "0 videos: 0 suggestions (zero-shot)"
    assert _russian(made) == "0 видео: 0 подсказок (без обучения)"
    # What a run that confirmed videos by itself adds, as its ingest step says it too.
    confirmed = SuggestionRun(videos=3, suggestions=7, model_version=None, auto_confirmed=2)
    assert _russian(f"3 videos: {confirmed.describe()}").endswith(
        "2 видео подтверждены моделью, на контрольную проверку: 0"
    )
    with override("ru"):
        assert step_message(confirmed.describe()).startswith("7 подсказок (без обучения); ")


def test_an_export_says_its_rows_and_its_failures_in_russian(project: Project) -> None:
    snapshot = export_request(project=project, user=None, fmt="jsonl", filters=ExportFilters())
    job = Job.objects.of(Job.Kind.EXPORT, snapshot.pk).get()
    assert _russian(_ran(job)) == "0 строк"
    again = _ran(_job(Job.Kind.EXPORT, snapshot.pk, project))
    assert _russian(again) == "снимок выгрузки в состоянии «Готово» и не ждёт сборки"

    other = export_request(project=project, user=None, fmt="csv", filters=ExportFilters())
    job_cancel(job=Job.objects.of(Job.Kind.EXPORT, other.pk).get(), user=None)
    other.refresh_from_db()
    assert other.state == ExportSnapshot.State.FAILED
    assert _russian(other.error) == "отменено: отменена (администратор)"


def test_a_prediction_says_its_tags_or_why_it_failed_in_russian(
    project: Project, zero_shot_model: None
) -> None:
    video = make_video(project, status=VideoStatus.READY, description="Обзор")
    request = PredictionJob.objects.create(project=project, token="a" * 32, video=video)
    assert _russian(_ran(_job(Job.Kind.PREDICT, request.pk, project))) == (
        "ни один тег не превысил свой порог"
    )

    gone = PredictionJob.objects.create(project=project, token="b" * 32)
    _russian(_ran(_job(Job.Kind.PREDICT, gone.pk, project)))

    broken = make_video(project, status=VideoStatus.FAILED)
    failed = PredictionJob.objects.create(project=project, token="c" * 32, video=broken)
    assert _ran(_job(Job.Kind.PREDICT, failed.pk, project)) == "the video could not be processed"
    _russian("the video could not be processed")


def test_a_training_says_why_it_failed_and_the_gates_note_in_russian(project: Project) -> None:
    version = training_request(project=project)
    too_few = _ran(Job.objects.of(Job.Kind.TRAINING, version.pk).get())
    assert _russian(too_few).startswith("подтверждённые метки есть только у 0 видео")
    version.refresh_from_db()
    assert version.note == too_few

    ModelVersion.objects.filter(pk=version.pk).update(state=ModelVersion.State.CANDIDATE)
    wrong_state = _ran(_job(Job.Kind.TRAINING, version.pk, project))
    assert _russian(wrong_state) == "версия 1 в состоянии «Кандидат» и не ждёт обучения"

    version.refresh_from_db()
    assert _russian(gate(candidate=version, evaluation=[]).note).startswith(
        "нет отложенных видео для сравнения"
    )
    comparison = Comparison("micro_f1", 3, 0.61, 0.7, -0.09, -0.21, 0.02, 200)
    # Notes written before a tie stopped promoting said "below"; both read the same.
    for words in ("not above", "below"):
        kept = _comparison_note(
            f"kept as a candidate ({words} v2 + margin 0.01)",
            comparison,
            "v2",
            " (v2 had trained on some of them)",
        )
        assert _russian(kept) == (
            "оставлена кандидатом (не выше, чем v2 + запас 0,01): micro_f1 0,610 (v2: 0,700) "
            "на тех же 3 отложенных видео (на части из них обучалась v2); разница -0,090 (95% "
            "интервал от -0,210 до +0,020)"
        )


def test_a_dataset_import_says_its_summary_and_why_a_file_is_refused_in_russian(
    project: Project, admin_user: User
) -> None:
    job = dataset_import_request(
        project=project,
        upload=SimpleUploadedFile("items.jsonl", '{"title": "Ролик"}'.encode()),
        fmt="jsonl",
        user=admin_user,
    )
    assert _russian(_ran(job)) == ("импортировано: 1, пропущено: 0, с ошибкой: 0, создано тегов: 0")
    # Run again after it was done (as a failed one is retried): its file is gone.
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED)
    job_retry(job=job, user=admin_user)
    _russian(_ran(job))

    for content, fmt in [(b"{", "labelstudio"), (b"3", "labelstudio"), (b"", "xml")]:
        with pytest.raises(InterchangeError) as refused:
            list(read_items(io.BytesIO(content), fmt))
        _russian(str(refused.value))


def test_words_no_pattern_knows_stay_as_written() -> None:
    with override("ru"):
        assert job_message("ValueError: boom") == "ValueError: boom"
        assert job_message("Спорт, Новости") == "Спорт, Новости"
        # A known step's name is said; the library's own words after it stay.
        assert job_message("probe: OSError: no space") == "Чтение файла: OSError: no space"
    with override("en"):
        assert job_message("cancelled by an admin") == "cancelled by an admin"


def test_the_models_page_in_russian_says_the_refresh_and_the_training_in_russian(
    promoted_version: ModelVersion,
    project: Project,
    admin_user: User,
) -> None:
    refresh = Job.objects.of(Job.Kind.SUGGESTIONS, project.pk).get()
    assert refresh.state == Job.State.DONE
    training = Job.objects.of(Job.Kind.TRAINING, promoted_version.pk).get()
    _russian(training.message)
    client = client_for(admin_user)
    client.post("/i18n/setlang/", {"language": "ru", "next": "/"})
    page = client.get(f"/projects/{project.pk}/models/").content.decode()
    line = page[page.index(f'id="job-{refresh.public_id}"') :].split("</div>")[0]
    assert _russian(refresh.message) in line
    assert refresh.message not in line
