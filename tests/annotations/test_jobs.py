"""The job lifecycle every kind shares: claim, takeover, sweeper, cancel and retry.

Jobs run here in the test's process; ``tests/workers`` runs them in real workers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from pytest_django.fixtures import Settings

from annotations.models import ExportSnapshot, Job, ModelVersion, Project, Video, VideoStatus
from annotations.services.export import ExportFilters, export_request
from annotations.services.interchange import dataset_import_request
from annotations.services.jobs.control import job_cancel, job_retry, job_run, jobs_sweep
from annotations.services.jobs.lifecycle import (
    ClaimLost,
    JobConflict,
    JobInterrupted,
    JobRun,
    job_claim,
    job_request,
    scratch_path,
)
from annotations.services.learning.training import training_request
from tests.factories import (
    assign,
    claim,
    client_for,
    make_job,
    make_member,
    make_project,
    make_video,
)

STALE = timedelta(seconds=61)


def _queued_video(project: Project) -> tuple[Video, Job]:
    video = make_video(project, status=VideoStatus.PENDING)
    return video, Job.objects.of(Job.Kind.INGEST, video.pk).get()


def _silent(job: Job, *, attempts: int = 1) -> None:
    """As a worker leaves its job when it dies: running, with an old heartbeat."""
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING,
        claim="dead",
        worker="gone:1",
        attempts=attempts,
        heartbeat_at=timezone.now() - STALE,
    )


def test_a_job_is_claimed_by_one_run_and_taken_over_only_once_its_heartbeat_is_stale(
    project: Project, settings: Settings
) -> None:
    _video, job = _queued_video(project)
    first = job_claim(job.pk)
    assert first is not None and first.attempts == 1
    assert job_claim(job.pk) is None  # a live run holds it
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE)
    second = job_claim(job.pk)
    assert second is not None and second.claim != first.claim
    assert second.attempts == 2
    assert "taken over from" in second.message
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - STALE, attempts=settings.JOB_MAX_ATTEMPTS
    )
    assert job_claim(job.pk) is None  # out of attempts: the sweeper fails it


def test_the_sweeper_queues_again_a_job_whose_worker_died_and_hands_it_to_the_broker(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    video, job = _queued_video(project)
    _silent(job)
    Video.objects.filter(pk=video.pk).update(status=VideoStatus.PROCESSING)
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs_sweep()
    assert report.requeued == [job.public_id]
    job.refresh_from_db()
    # Handed to the broker, which ran it at once (tasks run inline in the tests).
    assert job.state == Job.State.DONE
    assert Video.objects.get(pk=video.pk).status == VideoStatus.READY


def test_the_sweeper_fails_a_job_out_of_attempts_with_the_reason_on_its_object(
    project: Project, settings: Settings
) -> None:
    version = ModelVersion.objects.create(project=project, number=1, state="training")
    job = make_job(Job.Kind.TRAINING, version.pk, project)
    _silent(job, attempts=settings.JOB_MAX_ATTEMPTS)
    report = jobs_sweep()
    assert report.failed == [job.public_id]
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "gone:1" in job.message and "given up after 3 attempts" in job.message
    version.refresh_from_db()
    assert (version.state, version.note) == (ModelVersion.State.FAILED, job.message)
    # The project is free to train again.
    assert training_request(project=project).number == 2


def test_a_queued_job_the_broker_lost_is_handed_over_again_only_once_it_waited(
    project: Project, settings: Settings
) -> None:
    _video, job = _queued_video(project)
    Job.objects.filter(pk=job.pk).update(enqueued_at=timezone.now())
    assert jobs_sweep().resent == []
    long_ago = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(enqueued_at=long_ago)
    assert jobs_sweep().resent == [job.public_id]
    job.refresh_from_db()
    assert job.enqueued_at is not None and job.enqueued_at > long_ago


def test_the_sweeper_removes_the_scratch_folders_of_dead_runs_only(
    project: Project, settings: Settings
) -> None:
    _video, job = _queued_video(project)
    claimed = claim(job)
    alive = scratch_path(claimed)
    alive.mkdir(parents=True)
    dead = Path(settings.JOB_SCRATCH_DIR) / f"job-{job.pk}-0123456789abcdef"
    dead.mkdir()
    (dead / "half-written.jsonl").write_text("{")
    assert jobs_sweep().scratch_removed == 1
    assert alive.exists() and not dead.exists()


def test_a_cancelled_run_stops_at_its_next_checkpoint_and_its_last_writes_are_not_kept(
    project: Project, admin_user: User
) -> None:
    video, job = _queued_video(project)
    claimed = claim(job)
    run = JobRun(claimed)
    job_cancel(job=job, user=admin_user)
    with pytest.raises(ClaimLost):
        run.progress(0.5, stage="frames")
    with pytest.raises(ClaimLost), run.complete("done"):
        Video.objects.filter(pk=video.pk).update(status=VideoStatus.READY)
    video.refresh_from_db()
    assert (video.status, video.status_error) == (
        VideoStatus.FAILED,
        "processing cancelled: cancelled by alice_admin",
    )
    assert Job.objects.get(pk=job.pk).state == Job.State.CANCELLED


def test_a_retry_takes_a_job_from_a_worker_that_may_be_dead(
    project: Project, admin_user: User
) -> None:
    video, job = _queued_video(project)
    claimed = claim(job)
    job_retry(job=job, user=admin_user)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.message) == (
        Job.State.QUEUED,
        0,
        "retried by alice_admin",
    )
    with pytest.raises(ClaimLost):
        JobRun(claimed).progress(0.1)
    assert job_run(job.pk).startswith(job.public_id)
    assert Video.objects.get(pk=video.pk).status == VideoStatus.READY


def test_a_done_job_is_neither_retried_nor_cancelled(project: Project, admin_user: User) -> None:
    video = make_video(project, status=VideoStatus.READY)
    job = Job.objects.of(Job.Kind.INGEST, video.pk).get()
    with pytest.raises(JobConflict, match="done: nothing to retry"):
        job_retry(job=job, user=admin_user)
    with pytest.raises(JobConflict, match="already done"):
        job_cancel(job=job, user=admin_user)


def test_a_running_job_asked_for_again_runs_once_more_when_it_ends(project: Project) -> None:
    job = job_request(kind=Job.Kind.SUGGESTIONS, project=project, object_id=project.pk)
    claimed = claim(job)
    again = job_request(kind=Job.Kind.SUGGESTIONS, project=project, object_id=project.pk)
    assert again.pk == job.pk and again.again
    with JobRun(claimed) as run, run.complete("first run"):
        pass
    job.refresh_from_db()
    assert (job.state, job.again) == (Job.State.QUEUED, False)


def test_an_export_whose_run_was_stopped_is_written_whole_by_the_next(
    project: Project, settings: Settings
) -> None:
    snapshot = export_request(project=project, user=None, fmt="jsonl", filters=ExportFilters())
    job = Job.objects.of(Job.Kind.EXPORT, snapshot.pk).get()
    claim(job)  # by a run that dies: its heartbeat goes stale
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE)
    stored = Path(settings.MEDIA_ROOT) / f"exports/{project.pk}/{snapshot.pk}-jsonl.jsonl"
    stored.parent.mkdir(parents=True)
    stored.write_text('{"half": ')  # stored by the dead run, never made ready
    job_run(job.pk)
    snapshot.refresh_from_db()
    assert snapshot.state == ExportSnapshot.State.READY
    assert snapshot.file.name == f"exports/{project.pk}/{snapshot.pk}-jsonl.jsonl"
    assert not stored.read_text().startswith('{"half"')


def test_an_import_taken_up_again_stores_each_item_once(
    project: Project, admin_user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    lines = [f'{{"external_id": "", "title": "Ролик {n}", "tags": []}}' for n in range(5)]
    job = dataset_import_request(
        project=project,
        upload=SimpleUploadedFile("items.jsonl", "\n".join(lines).encode()),
        fmt="jsonl",
        user=admin_user,
    )
    real = JobRun.write_checkpoint
    calls = [0]

    def stopping_after_two(run: JobRun, result: dict[str, Any]) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise JobInterrupted("the worker is stopping")
        real(run, result)

    monkeypatch.setattr(JobRun, "write_checkpoint", stopping_after_two)
    job_run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.result["items_done"]) == (Job.State.QUEUED, 2)
    assert project.videos.count() == 2  # the third item went back with its checkpoint
    monkeypatch.setattr(JobRun, "write_checkpoint", real)
    job_run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.message
    assert job.result["report"]["created"] == 5
    assert sorted(project.videos.values_list("title", flat=True)) == [
        f"Ролик {n}" for n in range(5)
    ]
    assert not job.input_file  # the file goes once imported


# --- The API and the pages ------------------------------------------------------------
@pytest.fixture
def jobs_of_every_kind(project: Project, admin_user: User, expert: User, crowd: User) -> Project:
    video = make_video(project, status=VideoStatus.READY)
    assign(video, crowd)
    make_member(project, expert)
    make_video(project, status=VideoStatus.PENDING)  # not assigned to the crowd worker
    version = ModelVersion.objects.create(project=project, number=1, state="candidate")
    make_job(Job.Kind.TRAINING, version.pk, project, state="done")
    make_job(Job.Kind.SUGGESTIONS, project.pk, project, state="running", progress=0.5)
    snapshot = ExportSnapshot.objects.create(project=project, format="jsonl")
    make_job(Job.Kind.EXPORT, snapshot.pk, project)
    make_job(Job.Kind.IMPORT, None, project, state="failed", message="not valid JSON")
    make_job(Job.Kind.PREDICT, 900, project, requested_by=crowd)
    make_job(Job.Kind.PREDICT, 901, project, requested_by=expert)
    return project


def _listed(user: User, query: str = "") -> list[str]:
    response = client_for(user).get(f"/api/v1/jobs/{query}")
    assert response.status_code == 200, response.content
    return [job["id"] for job in response.json()["results"]]


def test_the_job_list_answers_every_kind_the_same_way_each_role_seeing_its_own(
    jobs_of_every_kind: Project, admin_user: User, expert: User, crowd: User
) -> None:
    everything = _listed(admin_user)
    assert {job_id.partition("-")[0] for job_id in everything} == set(Job.Kind.values)
    assert len(everything) == 8
    seen_by_expert = {job_id.partition("-")[0] for job_id in _listed(expert)}
    assert seen_by_expert == {"ingest", "training", "suggestions", "predict"}
    assert [j for j in _listed(expert) if j.startswith("predict")] == ["predict-901"]
    crowd_sees = _listed(crowd)
    assert sorted(crowd_sees) == sorted(
        [f"ingest-{jobs_of_every_kind.videos.first().pk}", "predict-900"]  # type: ignore[union-attr]
    )
    one = client_for(admin_user).get("/api/v1/jobs/?kind=suggestions").json()["results"][0]
    assert one["id"] == f"suggestions-{jobs_of_every_kind.pk}"
    assert (one["state"], one["progress"]) == ("running", 0.5)
    assert set(one) >= {"attempts", "heartbeat_at", "message", "started_at", "waits_for"}
    assert _listed(admin_user, "?state=failed") == [
        next(j for j in everything if j.startswith("import"))
    ]
    page = client_for(admin_user).get("/api/v1/jobs/?page_size=4").json()
    assert len(page["results"]) == 4 and page["next"]


def test_admins_cancel_and_retry_through_the_api_and_others_may_not(
    project: Project, admin_user: User, expert: User
) -> None:
    video, job = _queued_video(project)
    url = f"/api/v1/jobs/{job.public_id}"
    assert client_for(expert).post(f"{url}/cancel/").status_code == 403
    cancelled = client_for(admin_user).post(f"{url}/cancel/").json()
    assert (cancelled["state"], cancelled["error"]) == ("cancelled", "cancelled by alice_admin")
    assert client_for(admin_user).post(f"{url}/cancel/").status_code == 409
    retried = client_for(admin_user).post(f"{url}/retry/").json()
    assert (retried["state"], retried["message"]) == ("queued", "retried by alice_admin")
    assert Video.objects.get(pk=video.pk).status == VideoStatus.PENDING


def test_a_video_page_shows_its_job_and_lets_admins_cancel_or_retry_it(
    project: Project, admin_user: User, expert: User
) -> None:
    video, job = _queued_video(project)
    _silent(job)
    page = client_for(admin_user).get(f"/videos/{video.pk}/").content.decode()
    assert f"<code>{job.public_id}</code>" in page
    assert "Its worker stopped responding" in page
    assert f'action="/jobs/{job.public_id}/cancel/"' in page
    assert "Retry now" in page
    assert "Retry now" not in client_for(expert).get(f"/videos/{video.pk}/").content.decode()
    assert client_for(expert).post(f"/jobs/{job.public_id}/retry/").status_code == 403
    response = client_for(admin_user).post(f"/jobs/{job.public_id}/retry/")
    assert response.status_code == 302 and response["Location"] == f"/videos/{video.pk}/"
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED


def test_the_models_page_follows_the_suggestions_refresh_after_a_promotion(
    project: Project, admin_user: User
) -> None:
    job = make_job(
        Job.Kind.SUGGESTIONS, project.pk, project, state="running", progress=0.25, stage="0 of 4"
    )
    page = client_for(admin_user).get(f"/projects/{project.pk}/models/").content.decode()
    assert 'id="suggestions-refresh"' in page
    assert 'hx-trigger="every 2s"' in page
    assert '<progress class="progress" max="100" value="25">' in page
    Job.objects.filter(pk=job.pk).update(state="done", finished_at=timezone.now(), message="ok")
    page = client_for(admin_user).get(f"/projects/{project.pk}/models/").content.decode()
    assert "every 2s" not in page and "Last one ended" in page


def test_old_job_ids_still_name_their_jobs(project: Project, admin_user: User) -> None:
    other = make_project("Другой")
    video = make_video(other)
    response = client_for(admin_user).get(f"/api/v1/jobs/ingest-{video.pk}/")
    assert response.json()["id"] == f"ingest-{video.pk}"
    assert client_for(admin_user).get("/api/v1/jobs/ingest-999999/").status_code == 404


def test_reprocessing_a_video_whose_worker_died_takes_its_job_over(project: Project) -> None:
    from io import StringIO

    from django.core.management import call_command

    video, job = _queued_video(project)
    _silent(job)
    Video.objects.filter(pk=video.pk).update(status=VideoStatus.PROCESSING)
    out = StringIO()
    call_command("reprocess", "--video", str(video.pk), stdout=out)
    assert "1 videos queued" in out.getvalue()
    _silent(job)
    call_command("reprocess", "--video", str(video.pk), "--now", stdout=out)
    assert f"video {video.pk}: ready" in out.getvalue()
    job.refresh_from_db()
    assert (job.state, job.attempts) == (Job.State.DONE, 1)


@pytest.mark.skipif(
    "postgresql" not in __import__("django.conf").conf.settings.DATABASES["default"]["ENGINE"],
    reason="claims racing from several connections need PostgreSQL",
)
@pytest.mark.django_db(transaction=True)
def test_of_claims_made_at_the_same_moment_one_wins() -> None:
    import threading

    from django.db import connection

    project = make_project("Гонка")
    for _round in range(10):
        _video, job = _queued_video(project)
        Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - STALE)
        start = threading.Barrier(4)
        won: list[str] = []

        def claim(
            job_id: int = job.pk, start: threading.Barrier = start, won: list[str] = won
        ) -> None:
            try:
                start.wait()
                claimed = job_claim(job_id)
                if claimed is not None:
                    won.append(claimed.claim)
            finally:
                connection.close()

        threads = [threading.Thread(target=claim) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1
        assert Job.objects.get(pk=job.pk).claim == won[0]
