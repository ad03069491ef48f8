"""Jobs survive dead workers: kill -9 a worker in the middle of a job of every kind.

One worker runs a job of each kind at once, each held at its first checkpoint; the
whole worker (its process group) is killed with SIGKILL, as when a machine or container
goes away. A new worker then takes every job up again: each ends done within 5 minutes,
nothing half-written is left behind (no scratch folder, no file that no row names, no
duplicate row), and the project whose training was killed trains again.

With the ORM broker the new worker starts once the dead jobs went stale, and its start
sweep queues them again. With Redis, which forgets a task once a worker took it, the new
worker starts at once, while the dead jobs still look alive (their heartbeat goes stale
after 10 s here): the sweeper's schedule, in the running worker, must find them.
"""

from __future__ import annotations

import hashlib
import json
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from pytest_django.fixtures import Settings

from annotations.models import (
    ExportSnapshot,
    Job,
    Keyframe,
    ModelVersion,
    PredictionJob,
    Project,
    Video,
    VideoStatus,
)
from annotations.services.export import ExportFilters, export_request
from annotations.services.interchange import dataset_import_request
from annotations.services.jobs.lifecycle import job_request
from annotations.services.learning.training import training_request
from ml.synthetic_media import write_video
from tests.factories import make_planted_project, make_project, request_prediction
from tests.workers.apps import HELD_STAGE
from tests.workers.conftest import JOB_TIMEOUT, Worker, needs_postgresql, wait_until
from tests.workers.test_stop import imported_video

pytestmark = needs_postgresql

StartWorker = Callable[..., Worker]

IMPORTED = [
    {"external_id": f"ds-{n}", "title": f"Ролик {n}", "description": "Футбол", "tags": []}
    for n in range(3)
]


def _one_job_of_each_kind(project: Project, import_root: Path) -> dict[str, Job]:
    """Queue a job of every kind; each is handed to the broker as the request commits."""
    make_planted_project(project, per_tag=4)
    video = imported_video(project, import_root)
    version = training_request(project=project)
    job_request(kind=Job.Kind.SUGGESTIONS, project=project, object_id=project.pk)
    clip = write_video(import_root / "match.mp4", seconds=1.0, width=64, height=48, seed=5)
    prediction = request_prediction(project, clip, title="Футбол: лучшие голы", keep_video=False)
    snapshot = export_request(project=project, user=None, fmt="jsonl", filters=ExportFilters())
    dataset = "\n".join(json.dumps(item, ensure_ascii=False) for item in IMPORTED)
    target = make_project("Импорт")
    imported = dataset_import_request(
        project=target,
        upload=SimpleUploadedFile("dataset.jsonl", dataset.encode()),
        fmt="jsonl",
        user=None,
    )
    return {
        Job.Kind.INGEST: Job.objects.of(Job.Kind.INGEST, video.pk).get(),
        Job.Kind.TRAINING: Job.objects.of(Job.Kind.TRAINING, version.pk).get(),
        Job.Kind.SUGGESTIONS: Job.objects.of(Job.Kind.SUGGESTIONS, project.pk).get(),
        Job.Kind.PREDICT: Job.objects.of(Job.Kind.PREDICT, prediction.pk).get(),
        Job.Kind.EXPORT: Job.objects.of(Job.Kind.EXPORT, snapshot.pk).get(),
        Job.Kind.IMPORT: imported,
    }


def _states(jobs: dict[str, Job]) -> dict[str, str]:
    return dict(
        Job.objects.filter(pk__in=[job.pk for job in jobs.values()]).values_list("kind", "state")
    )


def _all_held(jobs: dict[str, Job]) -> bool:
    rows = Job.objects.filter(pk__in=[job.pk for job in jobs.values()])
    return rows.filter(state=Job.State.RUNNING, stage=HELD_STAGE).count() == len(jobs)


def _all_over(jobs: dict[str, Job]) -> bool:
    return not Job.objects.active().exists() and set(_states(jobs).values()) <= set(
        Job.FINAL_STATES
    )


def _files_no_row_names() -> list[str]:
    """Files in the media storage that no row names: what a killed run would leave."""
    named: set[str] = set()
    for model, fields in (
        (Video, ["source_file", "subtitles_file"]),
        (Keyframe, ["image"]),
        (ExportSnapshot, ["file"]),
        (PredictionJob, ["upload"]),
        (Job, ["input_file"]),
    ):
        for row in model.objects.values_list(*fields):
            named.update(str(name) for name in row if name)
    root = Path(settings.MEDIA_ROOT)
    stored = {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
    return sorted(stored - named)


def _worker_killed_mid_job_then_everything_recovers(
    workers: StartWorker,
    project: Project,
    import_root: Path,
    settings: Settings,
    *,
    wait_for_stale: bool,
    stale_seconds: float = 3.0,
) -> None:
    settings.JOB_STALE_SECONDS = stale_seconds
    stale = {"JOB_STALE_SECONDS": str(stale_seconds)}
    jobs = _one_job_of_each_kind(project, import_root)
    first = workers(SLOW_JOB_SECONDS="300", TASK_WORKERS="6", **stale).wait_running()
    wait_until(lambda: _all_held(jobs), JOB_TIMEOUT, f"a job of each kind to run: {_states(jobs)}")
    first.signal_group(signal.SIGKILL)
    first.wait_gone(10)
    assert set(_states(jobs).values()) == {Job.State.RUNNING}  # as the dead worker left them
    if wait_for_stale:
        wait_until(
            lambda: Job.objects.stale().count() == len(jobs), 30, "the dead jobs to go stale"
        )
    killed_at = time.monotonic()
    second = workers(TASK_WORKERS="3", **stale).wait_running()
    wait_until(lambda: _all_over(jobs), JOB_TIMEOUT, f"every job to end: {_states(jobs)}")
    assert time.monotonic() - killed_at < 300
    if not wait_for_stale:
        # Taken up by the sweeps, each dead job once: the schedule's, or the one at the new
        # worker's start for those that had gone stale by then (all, when it starts slowly).
        output = second.output()
        requeued = [int(n) for n in re.findall(r"job sweep: (\d+) queued again", output)]
        assert sum(requeued) == len(jobs), output

    finished = {job.kind: job for job in Job.objects.filter(pk__in=[j.pk for j in jobs.values()])}
    failures = {kind: job.message for kind, job in finished.items() if job.state != "done"}
    assert not failures, f"{failures}\n--- second worker ---\n{second.output()[-5000:]}"
    for kind, job in finished.items():
        assert job.attempts >= 1, kind
        assert job.message, f"{kind}: the run that took it up says nothing"

    video = Video.objects.get(pk=jobs[Job.Kind.INGEST].object_pk)
    assert video.status == VideoStatus.READY
    assert video.keyframes.exists()
    version = ModelVersion.objects.get(pk=jobs[Job.Kind.TRAINING].object_pk)
    assert version.state in (ModelVersion.State.CANDIDATE, ModelVersion.State.PROMOTED)
    assert (Path(version.artifact_path) / "manifest.json").exists()
    snapshot = ExportSnapshot.objects.get(pk=jobs[Job.Kind.EXPORT].object_pk)
    assert snapshot.state == ExportSnapshot.State.READY
    assert hashlib.sha256(Path(snapshot.file.path).read_bytes()).hexdigest() == snapshot.sha256
    prediction = PredictionJob.objects.get(pk=jobs[Job.Kind.PREDICT].object_pk)
    assert {"tags", "model_version", "zero_shot"} <= set(prediction.result), prediction.result
    assert prediction.result["duration_seconds"] is not None
    assert not Video.objects.filter(metadata__prediction_job=prediction.pk).exists()
    target = Project.objects.get(name="Импорт")
    assert sorted(target.videos.values_list("external_id", flat=True)) == [
        item["external_id"] for item in IMPORTED
    ]
    assert finished[Job.Kind.IMPORT].result["report"]["created"] == len(IMPORTED)

    # Nothing half-written: one job per object, no scratch folder, no file without a row,
    # no model folder without its version.
    doubles = Job.objects.order_by().values("kind", "object_id").annotate(n=models.Count("id"))
    assert not doubles.filter(n__gt=1, object_id__isnull=False).exists()
    assert not any(Path(settings.JOB_SCRATCH_DIR).iterdir())
    assert _files_no_row_names() == []
    artifacts = {str(Path(p)) for p in ModelVersion.objects.values_list("artifact_path", flat=True)}
    model_folders = {str(path) for path in Path(settings.MODEL_DIR).glob("project-*/v*")}
    assert model_folders <= artifacts

    # The project whose training was killed trains again.
    again = training_request(project=project)
    wait_until(
        lambda: Job.objects.of(Job.Kind.TRAINING, again.pk).filter(state="done").exists(),
        JOB_TIMEOUT,
        "the next training",
    )
    sent = second.signal_group(signal.SIGTERM)
    second.wait_gone(30)
    assert time.monotonic() - sent < 30


def test_jobs_of_a_killed_worker_are_taken_up_by_the_next_one_with_the_orm_broker(
    workers: StartWorker, project: Project, import_root: Path, settings: Settings
) -> None:
    _worker_killed_mid_job_then_everything_recovers(
        workers, project, import_root, settings, wait_for_stale=True
    )


def test_jobs_of_a_killed_worker_are_taken_up_by_the_next_one_with_redis(
    redis_broker: str,
    workers: StartWorker,
    project: Project,
    import_root: Path,
    settings: Settings,
) -> None:
    _worker_killed_mid_job_then_everything_recovers(
        workers, project, import_root, settings, wait_for_stale=False, stale_seconds=10.0
    )


def test_the_scheduled_sweeper_queues_again_or_fails_the_jobs_of_a_worker_that_died(
    workers: StartWorker, project: Project, import_root: Path
) -> None:
    """While a worker runs, the sweeper's schedule finds the jobs another worker left."""
    retried, given_up = (imported_video(project, import_root, name) for name in ("a", "b"))
    workers().wait_running()
    jobs = [Job.objects.of(Job.Kind.INGEST, video.pk).get() for video in (retried, given_up)]
    wait_until(
        lambda: Job.objects.filter(pk__in=[j.pk for j in jobs], state="done").count() == 2,
        JOB_TIMEOUT,
        "both videos to be processed",
    )
    # As a worker on another machine leaves them when it dies in the middle: after the
    # worker's start, so that only the schedule can find them.
    for job, attempts in zip(jobs, (1, settings.JOB_MAX_ATTEMPTS), strict=True):
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.RUNNING,
            claim="gone",
            worker="elsewhere:1",
            attempts=attempts,
            heartbeat_at=models.F("created_at"),
        )
    wait_until(
        lambda: not Job.objects.filter(pk__in=[j.pk for j in jobs]).active().exists(),
        JOB_TIMEOUT,
        "the sweeper's schedule to take the jobs up",
    )
    done, failed = (Job.objects.get(pk=job.pk) for job in jobs)
    assert done.state == Job.State.DONE, done.message
    assert Video.objects.get(pk=retried.pk).status == VideoStatus.READY
    assert failed.state == Job.State.FAILED
    assert "elsewhere:1" in failed.message and "stopped responding" in failed.message
    assert f"given up after {settings.JOB_MAX_ATTEMPTS} attempts" in failed.message
    given_up.refresh_from_db()
    assert (given_up.status, given_up.status_error) == (VideoStatus.FAILED, failed.message)
