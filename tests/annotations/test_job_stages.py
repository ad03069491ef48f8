"""What a running job says it is doing (its stage) reads in Russian on the pages: the
stages come from the code that writes them, so a new or reworded stage that the
translation table misses fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import override

from annotations.models import Job, ModelVersion, Project, VideoStatus
from annotations.services.export import ExportFilters, export_request
from annotations.services.interchange import dataset_import_request
from annotations.services.jobs.control import job_retry, job_run_now
from annotations.services.jobs.lifecycle import JobRun, job_claim, job_request
from annotations.views.job_messages import job_stage
from ml.synthetic_media import write_video
from tests.factories import make_tag, make_video, request_prediction

# Parts that are a model's parameters (``C=1, class_weight=None``): said as written.
PARAMETERS = re.compile(r"\w+=[^,]+(, \w+=[^,]+)*")


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every stage a run reports, as the job stores it."""
    stages: list[str] = []
    progress, wait_for = JobRun.progress, JobRun.wait_for

    def reported(run: JobRun, fraction: float | None = None, stage: str | None = None) -> None:
        if stage is not None:
            stages.append(stage)
        progress(run, fraction, stage)

    def waiting(run: JobRun, other: Job, stage: str) -> None:
        stages.append(stage)
        wait_for(run, other, stage)

    monkeypatch.setattr(JobRun, "progress", reported)
    monkeypatch.setattr(JobRun, "wait_for", waiting)
    return stages


def _said_in_russian(stage: str) -> None:
    """Each part of ``stage`` is said in Russian, but for a model's parameters."""
    with override("ru"):
        for part in stage.split(": "):
            if not PARAMETERS.fullmatch(part):
                said = job_stage(part)
                assert said != part and re.search("[а-яё]", said), f"{part!r} of {stage!r}"


def _stage_of(job: Job) -> str:
    job.refresh_from_db()
    return job.stage


def test_every_stage_a_job_writes_is_said_in_russian(
    written: list[str],  # first: the training of ``promoted_version`` reports its stages
    project: Project,
    admin_user: User,
    promoted_version: ModelVersion,
    no_speech_model: None,
    import_root: Path,
) -> None:
    # The lifecycle: queued, started, queued again by a retry, done.
    video = make_video(project, status=VideoStatus.READY, description="Обзор")
    ingest = job_request(  # processed again
        kind=Job.Kind.INGEST, project=project, object_id=video.pk, hand_over_now=False
    )
    lifecycle = [_stage_of(ingest)]
    assert job_claim(ingest.pk) is not None
    lifecycle.append(_stage_of(ingest))
    job_retry(job=ingest, user=admin_user)
    lifecycle.append(_stage_of(ingest))
    job_run_now(ingest)
    lifecycle.append(_stage_of(ingest))
    assert lifecycle == ["queued", "starting", "queued again", "done"]

    # A prediction of a file: stored, waits for its video's processing, then predicts.
    make_tag(project, "Кухня")
    clip = write_video(import_root / "soup.mp4", seconds=1.0, width=96, height=64, scene="kitchen")
    request = request_prediction(project, clip, user=admin_user, title="Суп")
    prediction = Job.objects.of(Job.Kind.PREDICT, request.pk).get()
    job_run_now(prediction)
    request.refresh_from_db()
    assert request.video is not None
    job_run_now(Job.objects.of(Job.Kind.INGEST, request.video.pk).get())
    job_run_now(prediction)

    job_run_now(job_request(kind=Job.Kind.SUGGESTIONS, project=project, object_id=project.pk))
    snapshot = export_request(project=project, user=None, fmt="jsonl", filters=ExportFilters())
    job_run_now(Job.objects.of(Job.Kind.EXPORT, snapshot.pk).get())
    job_run_now(
        dataset_import_request(
            project=project,
            upload=SimpleUploadedFile("items.jsonl", '{"title": "Ролик"}'.encode()),
            fmt="jsonl",
            user=admin_user,
        )
    )

    assert written, "no run reported a stage"
    for expected in ["waiting for the video to be processed", "predicting", "reading the file"]:
        assert expected in written
    assert any(stage.startswith("best of ") for stage in written)  # the training's
    assert any(": 1 imported, 0 skipped" in stage for stage in written)  # the import's
    for stage in {*lifecycle, *written}:
        _said_in_russian(stage)


def test_the_import_says_its_running_summary_in_russian() -> None:
    with override("ru"):
        assert job_stage("40 items read: 38 imported, 1 skipped, 1 failed, 2 tags created") == (
            "прочитано записей: 40: импортировано: 38, пропущено: 1, с ошибкой: 1, создано тегов: 2"
        )
        # A resumed import starts from the items it had read.
        assert job_stage("40 items read") == "прочитано записей: 40"


def test_stages_only_some_runs_write_are_said_in_russian() -> None:
    for stage in [
        "too few videos for cross-validation; thresholds left at 0.5",
        "fold 2/5: features: sentence embeddings",
        "refit on all videos: features ready",
        "fold 1/5: baseline",
        "held-out evaluation",
    ]:
        _said_in_russian(stage)
