"""A worker stops cleanly, however it is asked: within 30 s, its jobs done or queued again.

django-q2's own ``qcluster`` hung for good on a SIGTERM sent to its process group (what a
supervisor such as systemd does): see ``annotations/management/commands/qcluster.py``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from annotations.models import Job, Project, Video, VideoStatus
from annotations.services.media.video_import import media_prepare, video_create
from ml.synthetic_media import write_srt, write_video
from tests.workers.apps import HELD_STAGE
from tests.workers.conftest import JOB_TIMEOUT, Worker, needs_postgresql, wait_until

pytestmark = needs_postgresql

StartWorker = Callable[..., Worker]


def imported_video(project: Project, folder: Path, name: str = "clip") -> Video:
    """A short video with subtitles (no speech model needed), imported: its ingest is queued."""
    seed = sum(map(ord, name))  # a file of its own for each name
    path = write_video(
        folder / f"{name}.mp4", seconds=1.0, width=96, height=64, scene="kitchen", seed=seed
    )
    write_srt(folder / f"{name}.srt", [(0.0, 0.9, "Тесто замешиваем на холодном масле.")])
    video, _warnings = video_create(
        project=project, title=name, media=media_prepare(source=str(path), base_dir=None)
    )
    return video


def ingest_job(video: Video) -> Job:
    return Job.objects.of(Job.Kind.INGEST, video.pk).get()


def held(job: Job) -> bool:
    job.refresh_from_db()
    return job.state == Job.State.RUNNING and job.stage == HELD_STAGE


def test_an_idle_worker_stops_within_30_s_when_its_process_group_gets_sigterm(
    workers: StartWorker,
) -> None:
    worker = workers().wait_running()
    time.sleep(1)
    sent = worker.signal_group(signal.SIGTERM)
    worker.wait_gone(30)
    assert time.monotonic() - sent < 30
    assert "stopped in" in worker.output()


def test_a_worker_that_processed_a_video_stops_within_30_s_on_sigterm_to_its_group(
    workers: StartWorker, project: Project, import_root: Path
) -> None:
    video = imported_video(project, import_root)
    worker = workers().wait_running()
    wait_until(
        lambda: ingest_job(video).state == Job.State.DONE, JOB_TIMEOUT, "the video's processing"
    )
    sent = worker.signal_group(signal.SIGTERM)
    worker.wait_gone(30)
    assert time.monotonic() - sent < 30
    video.refresh_from_db()
    assert video.status == VideoStatus.READY


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_job_running_when_the_group_is_signalled_is_queued_again_and_done_by_the_next_worker(
    workers: StartWorker, project: Project, import_root: Path, signum: int
) -> None:
    video = imported_video(project, import_root)
    job = ingest_job(video)
    worker = workers(SLOW_JOB_SECONDS="120").wait_running()
    wait_until(lambda: held(job), JOB_TIMEOUT, "the ingest job to be running")
    sent = worker.signal_group(signum)
    worker.wait_gone(30)
    assert time.monotonic() - sent < 30
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED, job.message
    assert "stopped before it finished" in job.message
    assert job.attempts == 0  # a worker's stop is not the job's fault
    assert Video.objects.get(pk=video.pk).status == VideoStatus.PENDING
    workers().wait_running()
    wait_until(lambda: ingest_job(video).state == Job.State.DONE, JOB_TIMEOUT, "the retried job")
    assert Video.objects.get(pk=video.pk).status == VideoStatus.READY


def test_a_job_that_does_not_reach_a_checkpoint_is_killed_with_its_worker_and_queued_again(
    workers: StartWorker, project: Project, import_root: Path
) -> None:
    video = imported_video(project, import_root)
    job = ingest_job(video)
    # Held without checkpoints: like a long call into a library that never reports.
    worker = workers(SLOW_JOB_SECONDS="120", SLOW_JOB_DEAF="1").wait_running()
    wait_until(lambda: held(job), JOB_TIMEOUT, "the ingest job to be running")
    sent = worker.signal_group(signal.SIGTERM)
    worker.wait_gone(30)
    assert time.monotonic() - sent < 30
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED, job.message
    assert "was stopped before it finished" in job.message
    assert "did not stop in time" in worker.output()


def test_killing_the_main_process_takes_its_workers_with_it(workers: StartWorker) -> None:
    worker = workers().wait_running()
    os.kill(worker.pgid, signal.SIGKILL)
    worker.wait_gone(15)
