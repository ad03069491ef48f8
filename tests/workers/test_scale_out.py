"""Scale-out: two workers that share only the database, the Redis broker and the S3 bucket.

Two ``manage.py qcluster`` processes, each with a MEDIA_ROOT and a scratch folder of
its own (no folder is shared: every file they read or write is in the bucket of moto's
S3 server), process 50 imported videos. Midway, one worker is killed with SIGKILL to its
process group, as when its machine goes away; the other finishes its videos.

"Processed exactly once, none lost" means here:

* every video ends ready, and every ingest job ends done;
* each job was claimed once (``attempts == 1``), except the jobs the killed worker was
  running when it died: those were claimed exactly twice (the dead run, then the
  survivor's), so no video was processed twice by live workers, and a task delivered
  twice never ran twice;
* every video's keyframes in the bucket are exactly those its rows name (a killed run's
  half-written files were replaced), and no worker left a file in its MEDIA_ROOT, nor the
  survivor in its scratch folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pytest_django.fixtures import Settings

from annotations.models import Job, Keyframe, Project, Video, VideoStatus
from annotations.services.jobs.lifecycle import worker_name
from annotations.services.media.video_import import media_prepare, video_create
from ml.synthetic_media import write_srt, write_video
from tests.factories import make_project
from tests.s3server import S3Bucket, files_under
from tests.workers.conftest import JOB_TIMEOUT, Worker, _group_members, needs_postgresql, wait_until

pytestmark = needs_postgresql

VIDEOS = 50
# What a worker's log says when one of its processes finished a job's task.
PROCESSED = "Processed 'annotations.tasks.run_job' (ingest job "
# The worker is killed once this many videos are ready (and it runs some of the others).
KILL_AFTER = 12


def _imported(project: Project, folder: Path, number: int) -> Video:
    """A 1-second clip of its own with subtitles (no speech model needed), imported."""
    path = write_video(
        folder / f"clip-{number}.mp4", seconds=1.0, width=96, height=64, seed=1000 + number
    )
    write_srt(folder / f"clip-{number}.srt", [(0.0, 0.9, "Тесто замешиваем на масле.")])
    media = media_prepare(source=str(path), base_dir=None)
    return video_create(project=project, title=f"Ролик {number}", media=media)[0]


def _ingest_jobs(project: Project) -> list[Job]:
    return list(Job.objects.filter(kind=Job.Kind.INGEST, project=project))


def _ready(project: Project) -> int:
    return Video.objects.filter(project=project, status=VideoStatus.READY).count()


def _worker_names(worker: Worker) -> set[str]:
    """How the jobs name the processes of a worker (its cluster and the processes it forked)."""
    return {worker_name(pid) for pid in _group_members(worker.pgid)}


def test_two_workers_sharing_only_redis_and_s3_process_every_video_once_and_survive_a_kill(
    workers: Callable[..., Worker],
    redis_broker: str,
    s3_bucket: S3Bucket,
    settings: Settings,
    tmp_path: Path,
    import_root: Path,
) -> None:
    folders = {name: tmp_path / f"machine-{name}" for name in ("a", "b")}

    def start(name: str) -> Worker:
        return workers(
            **s3_bucket.env(),
            VAR_DIR=str(folders[name] / "var"),
            MEDIA_ROOT=str(folders[name] / "media"),
            JOB_SCRATCH_DIR=str(folders[name] / "scratch"),
        )

    project = make_project("Масштаб")
    # Each import stores the files in the bucket and hands its ingest job to Redis as it
    # commits; all 50 wait there for the workers.
    videos = [_imported(project, import_root, n) for n in range(VIDEOS)]
    assert len(s3_bucket.keys("videos/")) == VIDEOS

    doomed, survivor = start("a"), start("b")
    doomed.wait_running()
    survivor.wait_running()

    # Every process the doomed worker ever had (django-q2 may replace one).
    doomed_names: set[str] = set()

    def doomed_is_busy() -> bool:
        doomed_names.update(_worker_names(doomed))
        running = Job.objects.filter(
            project=project, state=Job.State.RUNNING, worker__in=doomed_names
        )
        return (
            _ready(project) >= KILL_AFTER
            and PROCESSED in doomed.output()  # it did its share
            and running.exists()
        )

    wait_until(doomed_is_busy, JOB_TIMEOUT, "a worker busy with videos after some were ready")
    doomed.kill()
    # What the dead worker held: frozen until the survivor's sweeper finds it stale.
    in_flight = set(
        Job.objects.filter(
            project=project, state=Job.State.RUNNING, worker__in=doomed_names
        ).values_list("pk", flat=True)
    )
    assert in_flight, "the killed worker was running no job"

    wait_until(
        lambda: (
            _ready(project) == VIDEOS
            and not Job.objects.filter(project=project, kind=Job.Kind.INGEST)
            .exclude(state=Job.State.DONE)
            .exists()
        ),
        JOB_TIMEOUT,
        f"all {VIDEOS} videos to be ready on the surviving worker",
        every=0.5,
    )
    assert survivor.process is not None and survivor.process.poll() is None

    jobs = _ingest_jobs(project)
    assert sorted(job.object_pk for job in jobs) == sorted(video.pk for video in videos)
    assert {job.state for job in jobs} == {Job.State.DONE}
    attempts = {job.pk: job.attempts for job in jobs}
    assert {pk for pk, count in attempts.items() if count != 1} == in_flight
    assert {attempts[pk] for pk in in_flight} == {2}
    # ... and the survivor ran them.
    for pk in in_flight:
        assert f"processing ingest job {pk} " in survivor.output()
    # No video was left with a step unfinished.
    assert not Video.objects.filter(project=project, steps__state__in=["pending", "running"])

    # Every video's keyframes are in the bucket, and nothing else is there.
    assert not Video.objects.filter(project=project, keyframes__isnull=True).exists()
    named = Keyframe.objects.filter(video__project=project).values_list("image", flat=True)
    assert set(s3_bucket.keys("keyframes/")) == {str(name) for name in named}
    for name in ("a", "b"):
        assert files_under(folders[name] / "media") == []
    assert files_under(folders["b"] / "scratch") == []
    assert files_under(Path(settings.MEDIA_ROOT)) == []
