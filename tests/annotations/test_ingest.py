"""The ingest job: steps, idempotence, bad media, claims and re-runs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from pytest_django.fixtures import Settings

from annotations.models import (
    ConfirmedLabel,
    Job,
    Keyframe,
    LabelSource,
    ProcessingStep,
    Project,
    Video,
    VideoFeatures,
    VideoStatus,
)
from annotations.services.jobs.control import job_run
from annotations.services.jobs.lifecycle import job_claim
from annotations.services.media.reprocessing import video_ingest, video_schedule
from annotations.services.media.video_import import media_prepare
from ml.synthetic_media import write_corrupt_copy, write_not_media, write_srt, write_video
from tests.factories import client_for, import_video, make_tag, make_video

NARRATION = [
    (0.0, 0.7, "Сегодня мы готовим пирог с яблоками."),
    (0.7, 1.4, "Тесто замешиваем на холодном масле."),
    (1.4, 2.0, "Пирог печём сорок минут в духовке."),
]


pytestmark = pytest.mark.usefixtures("no_speech_model", "zero_shot_model")


@pytest.fixture
def cooking_video(project: Project, import_root: Path) -> Video:
    path = write_video(import_root / "pie.mp4", seconds=2.0, width=160, height=120, scene="kitchen")
    write_srt(import_root / "pie.srt", NARRATION)
    make_tag(project, "Еда и напитки: Кулинария")
    return import_video(project, path, "Пирог")


def _steps(video: Video) -> dict[str, str]:
    return dict(video.steps.values_list("name", "state"))


def test_a_video_with_subtitles_becomes_ready_with_transcript_summary_keyframes_and_features(
    cooking_video: Video,
) -> None:
    assert video_ingest(video_id=cooking_video.pk) == VideoStatus.READY
    video = Video.objects.get(pk=cooking_video.pk)
    texts = list(video.transcript_segments.values_list("text", "source"))
    assert [text for text, _ in texts] == [text for _, _, text in NARRATION]
    assert {source for _, source in texts} == {"sidecar"}
    assert video.summary
    assert video.keyframes.count() >= 1
    features = VideoFeatures.objects.get(video=video)
    assert features.visual["brightness_mean"] > 0
    assert 0.0 <= features.audio["speech_ratio"] <= 1.0
    assert "пирог" in features.text["title"]
    steps = _steps(video)
    assert steps["transcript"] == steps["frames"] == steps["audio"] == "done"
    assert steps["image_embedding"] == "skipped"
    # What bench.ingest --throughput reads: each step's wall-clock and CPU seconds.
    frames = video.steps.get(name="frames").details
    assert frames["seconds"] > 0 and frames["cpu_seconds"] > 0


def test_running_the_job_twice_replaces_derived_data_and_keeps_labels(
    cooking_video: Video, expert: User
) -> None:
    tag = make_tag(cooking_video.project, "Еда и напитки: Кулинария")
    ConfirmedLabel.objects.create(video=cooking_video, tag=tag, source=LabelSource.REVIEW)
    video_ingest(video_id=cooking_video.pk)
    first = (
        list(
            Keyframe.objects.filter(video=cooking_video).values_list("timestamp_seconds", flat=True)
        ),
        cooking_video.transcript_segments.count(),
    )
    files_before = {str(k.image.name) for k in Keyframe.objects.filter(video=cooking_video)}
    assert video_ingest(video_id=cooking_video.pk) == VideoStatus.READY
    second = (
        list(
            Keyframe.objects.filter(video=cooking_video).values_list("timestamp_seconds", flat=True)
        ),
        cooking_video.transcript_segments.count(),
    )
    assert first == second
    assert ConfirmedLabel.objects.filter(video=cooking_video).count() == 1
    assert ProcessingStep.objects.filter(video=cooking_video, name="frames").count() == 1
    storage = Keyframe._meta.get_field("image").storage
    files_after = {str(k.image.name) for k in Keyframe.objects.filter(video=cooking_video)}
    assert all(storage.exists(name) for name in files_after)
    assert not any(storage.exists(name) for name in files_before - files_after)


def test_a_text_only_video_is_ready_without_media_steps(project: Project) -> None:
    video = make_video(project, title="Обзор нового седана", description="Тест-драйв")
    assert video_ingest(video_id=video.pk) == VideoStatus.READY
    steps = _steps(video)
    assert steps["probe"] == "skipped"
    assert steps["frames"] == "skipped"
    assert steps["text"] == "done"


def test_a_file_damaged_after_import_fails_with_a_readable_reason_and_keeps_the_original(
    project: Project, import_root: Path, cooking_video: Video
) -> None:
    good = write_video(import_root / "good.mp4", seconds=1.0, width=96, height=64, scene="field")
    broken = import_video(project, good, "Broken later")
    stored = Path(broken.source_file.path)
    write_not_media(stored)  # the stored file is overwritten with garbage
    assert video_ingest(video_id=broken.pk) == VideoStatus.FAILED
    broken.refresh_from_db()
    assert broken.status_error.startswith("probe: ")
    assert "not a video or audio file" in broken.status_error
    assert stored.exists()
    assert _steps(broken)["frames"] == "skipped"
    assert video_ingest(video_id=cooking_video.pk) == VideoStatus.READY


@pytest.mark.parametrize(
    ("name", "streams", "expected_steps", "has_keyframes"),
    [
        pytest.param(
            "talk.m4a",
            {"video": False},
            {"frames": "skipped", "audio": "done"},
            False,
            id="audio only: audio features, no keyframes",
        ),
        pytest.param(
            "silent.mp4",
            {"width": 96, "height": 64, "audio": False},
            {"audio": "skipped", "frames": "done", "transcript": "skipped"},
            True,
            id="video without audio: keyframes, no audio features or transcript",
        ),
    ],
)
def test_the_media_steps_that_run_follow_the_streams_a_file_has(
    project: Project,
    import_root: Path,
    name: str,
    streams: dict[str, Any],
    expected_steps: dict[str, str],
    has_keyframes: bool,
) -> None:
    path = write_video(import_root / name, seconds=1.5, **streams)
    video = import_video(project, path, title=name)
    assert video_ingest(video_id=video.pk) == VideoStatus.READY
    steps = _steps(video)
    assert {step: steps[step] for step in expected_steps} == expected_steps
    assert video.keyframes.exists() == has_keyframes


def test_missing_speech_model_fails_only_the_transcript_step_in_plain_words(
    project: Project, import_root: Path
) -> None:
    path = write_video(import_root / "speech.mp4", seconds=1.5, width=96, height=64)
    video = import_video(project, path, title="Речь")
    assert video_ingest(video_id=video.pk) == VideoStatus.READY
    step = ProcessingStep.objects.get(video=video, name="transcript")
    assert step.state == "failed"
    assert "speech recognition is not available" in step.message
    assert "re-run" in step.message


def test_an_over_long_video_is_refused_with_the_limit_named(
    project: Project, import_root: Path, settings: Settings
) -> None:
    path = write_video(import_root / "long.mp4", seconds=2.0, width=96, height=64)
    video = import_video(project, path, title="Long")
    settings.MAX_VIDEO_SECONDS = 1.0
    assert video_ingest(video_id=video.pk) == VideoStatus.FAILED
    video.refresh_from_db()
    assert "MAX_VIDEO_SECONDS" in video.status_error


def test_a_video_is_claimed_by_one_run_only_until_its_heartbeat_goes_stale(
    project: Project, settings: Settings
) -> None:
    video = make_video(project)
    job = video_schedule(video=video, hand_over_now=False)
    assert job_claim(job.pk) is not None
    assert job_claim(job.pk) is None
    assert video_ingest(video_id=video.pk) is None
    silent_since = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=silent_since)
    job_run(job.pk)
    job.refresh_from_db()
    assert (job.state, job.attempts) == (Job.State.DONE, 2)
    assert Video.objects.get(pk=video.pk).status == VideoStatus.READY


def test_reprocess_command_reruns_failed_steps_only(
    project: Project, import_root: Path, settings: Settings
) -> None:
    path = write_video(import_root / "speech.mp4", seconds=1.0, width=96, height=64)
    video = import_video(project, path, title="Речь")
    video_ingest(video_id=video.pk)
    frames_done_at = ProcessingStep.objects.get(video=video, name="frames").finished_at
    call_command("reprocess", "--failed", "--now")
    transcript = ProcessingStep.objects.get(video=video, name="transcript")
    assert transcript.state == "failed"  # still no model, but it ran again
    assert ProcessingStep.objects.get(video=video, name="frames").finished_at == frames_done_at


def test_reprocess_command_needs_a_selection(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="say which videos"):
        call_command("reprocess")


def test_truncated_file_is_refused_at_import(project: Project, import_root: Path) -> None:
    from ml.media import MediaError

    good = write_video(import_root / "whole.mp4", seconds=1.0, width=96, height=64)
    cut = write_corrupt_copy(good, import_root / "cut.mp4", keep_fraction=0.5)
    with pytest.raises(MediaError):
        media_prepare(source=str(cut), base_dir=None)


def test_processing_panel_shows_progress_and_only_admins_may_rerun(
    cooking_video: Video, admin_user: User, expert: User
) -> None:
    video_ingest(video_id=cooking_video.pk)
    panel = client_for(expert).get(f"/videos/{cooking_video.pk}/processing/").content.decode()
    assert "transcript" in panel
    assert "Re-run all steps" not in panel
    assert client_for(expert).post(f"/videos/{cooking_video.pk}/reprocess/").status_code == 403
    page = client_for(admin_user).get(f"/videos/{cooking_video.pk}/").content.decode()
    assert "Re-run all steps" in page
    response = client_for(admin_user).post(
        f"/videos/{cooking_video.pk}/reprocess/", {"scope": "all"}
    )
    assert response.status_code == 302
    cooking_video.refresh_from_db()
    assert cooking_video.status == VideoStatus.PENDING


def test_polling_a_busy_video_shows_a_progress_bar_that_keeps_polling(
    project: Project, expert: User
) -> None:
    video = make_video(project, status=VideoStatus.PROCESSING)
    ProcessingStep.objects.create(video=video, name="probe", state="done", progress=1.0)
    ProcessingStep.objects.create(video=video, name="frames", state="running", progress=0.5)
    panel = client_for(expert).get(f"/videos/{video.pk}/processing/", HTTP_HX_REQUEST="true")
    html = panel.content.decode()
    assert 'hx-trigger="every 1s"' in html
    assert '<progress class="progress" max="100" value="75"' in html
    Video.objects.filter(pk=video.pk).update(status=VideoStatus.READY)
    Job.objects.of(Job.Kind.INGEST, video.pk).update(state=Job.State.DONE)
    done = client_for(expert).get(
        f"/videos/{video.pk}/processing/?was=busy", HTTP_HX_REQUEST="true"
    )
    assert done["HX-Refresh"] == "true"
    assert "every 1s" not in done.content.decode()
