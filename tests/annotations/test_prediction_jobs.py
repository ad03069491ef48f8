"""Predictions for a video file: a chain of jobs that processes the video once, never waiting
in a loop, and predicts from the features the model was trained with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import Settings

from annotations.models import Job, ModelVersion, Project, Video, VideoFeatures, VideoStatus
from annotations.selectors import job_status
from annotations.services.jobs.control import job_cancel, job_retry, job_run
from annotations.services.jobs.lifecycle import job_claim
from annotations.services.learning.prediction import predict_for_text, predict_for_video
from annotations.services.learning.prediction_jobs import WAITING_STAGE
from annotations.services.learning.training import training_request
from ml.synthetic_media import write_video
from tests.factories import (
    PLANTED_TAGS,
    make_planted_project,
    make_tag,
    make_video,
    request_prediction,
)

FOOTBALL, COOKING, CARS = PLANTED_TAGS


@pytest.fixture(autouse=True)
def _small_fast_models(text_only_training: None, no_speech_model: None, settings: Settings) -> None:
    settings.MIN_TRAINING_VIDEOS = 10


def test_a_file_prediction_waits_for_the_import_ingest_instead_of_processing_the_video_itself(
    project: Project, admin_user: User, import_root: Path
) -> None:
    make_tag(project, COOKING)
    clip = write_video(import_root / "soup.mp4", seconds=1.0, width=96, height=64, scene="kitchen")
    request = request_prediction(project, clip, user=admin_user, title="Суп")
    job = Job.objects.of(Job.Kind.PREDICT, request.pk).get()
    job_run(job.pk)  # stores the video; importing it queued its ingest job
    request.refresh_from_db()
    assert request.video is not None and not request.upload
    ingest = Job.objects.of(Job.Kind.INGEST, request.video.pk).get()
    job.refresh_from_db()
    assert (job.state, job.after_id, job.stage) == (Job.State.QUEUED, ingest.pk, WAITING_STAGE)
    assert job_status(job).waits_for == ingest.public_id
    assert ingest.state == Job.State.QUEUED  # not processed by the prediction
    assert job_claim(job.pk) is None  # no worker takes it before the video is processed
    job_run(ingest.pk)
    job_run(job.pk)
    job.refresh_from_db()
    ingest.refresh_from_db()
    assert job.state == Job.State.DONE, job.message
    assert ingest.attempts == 1  # the video was processed once
    assert Video.objects.get(pk=request.video.pk).status == VideoStatus.READY
    request.refresh_from_db()
    assert request.result["video_id"] == request.video.pk


def test_a_prediction_for_a_video_that_failed_processing_fails_with_its_reason(
    project: Project, admin_user: User, import_root: Path, settings: Settings
) -> None:
    clip = write_video(import_root / "long.mp4", seconds=2.0, width=96, height=64)
    request = request_prediction(project, clip, user=admin_user)
    job = Job.objects.of(Job.Kind.PREDICT, request.pk).get()
    job_run(job.pk)
    settings.MAX_VIDEO_SECONDS = 1.0
    request.refresh_from_db()
    assert request.video is not None
    job_run(Job.objects.of(Job.Kind.INGEST, request.video.pk).get().pk)
    job_run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED
    assert "MAX_VIDEO_SECONDS" in job.message


def test_a_failed_upload_prediction_keeps_its_file_and_a_retry_succeeds(
    project: Project, admin_user: User, import_root: Path, settings: Settings
) -> None:
    make_tag(project, COOKING)
    clip = write_video(import_root / "soup.mp4", seconds=1.0, width=96, height=64, scene="kitchen")
    request = request_prediction(project, clip, user=admin_user, title="Суп")
    job = Job.objects.of(Job.Kind.PREDICT, request.pk).get()
    limit = settings.MAX_UPLOAD_BYTES
    settings.MAX_UPLOAD_BYTES = 100  # lowered after the upload was accepted

    job_run(job.pk)

    job.refresh_from_db()
    request.refresh_from_db()
    assert job.state == Job.State.FAILED and "MAX_UPLOAD_BYTES" in job.message
    assert request.upload and request.upload.storage.exists(str(request.upload.name))
    settings.MAX_UPLOAD_BYTES = limit
    assert job_retry(job=job, user=admin_user).state == Job.State.QUEUED
    job_run(job.pk)  # stores the video this time
    request.refresh_from_db()
    assert request.video is not None and not request.upload
    job_run(Job.objects.of(Job.Kind.INGEST, request.video.pk).get().pk)
    job_run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.message
    request.refresh_from_db()
    assert request.result["video_id"] == request.video.pk


def test_a_cancelled_upload_prediction_keeps_no_file(
    project: Project,
    admin_user: User,
    import_root: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    clip = write_video(import_root / "soup.mp4", seconds=1.0, width=96, height=64)
    request = request_prediction(project, clip, user=admin_user)
    name, storage = str(request.upload.name), request.upload.storage
    job = Job.objects.of(Job.Kind.PREDICT, request.pk).get()

    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(job=job, user=admin_user)

    request.refresh_from_db()
    assert not request.upload and not storage.exists(name)


def test_a_video_is_predicted_from_the_media_features_its_model_was_trained_with(
    project: Project, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    planted = make_planted_project(project, per_tag=12)
    # Each tag's videos have a brightness of their own: the model learns it with the text.
    brightness = dict(zip(PLANTED_TAGS, (0.9, 0.5, 0.1), strict=True))
    for number, video in enumerate(planted.labeled):
        tag = video.confirmed_labels.get().tag.path
        VideoFeatures.objects.create(
            video=video, visual={"brightness_mean": brightness[tag] + (number % 3) * 0.01}
        )
    with django_capture_on_commit_callbacks(execute=True):
        version = training_request(project=project)
    version.refresh_from_db()
    assert version.state == ModelVersion.State.PROMOTED, version.note
    # A video whose words say nothing of its topic, as bright as the football videos.
    bright = make_video(project, title="Ролик", status=VideoStatus.READY)
    VideoFeatures.objects.create(video=bright, visual={"brightness_mean": 0.9})
    from_video = predict_for_video(video=bright)
    from_text = predict_for_text(project=project, title="Ролик")
    assert from_video.model_version == version
    assert from_video.tags and from_video.tags[0][0] == FOOTBALL
    assert from_video.tags != from_text.tags
