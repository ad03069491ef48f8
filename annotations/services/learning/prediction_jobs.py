"""Predictions for a video file or URL, run as a background job.

The file goes through the same pipeline as an import: it is fetched (URLs with the
same safety checks), probed, stored as a video of the project and processed by the
ingest job; the promoted model (or zero-shot) then tags its title, description and
transcript. A file the project already has is not stored twice: its video is used.
With ``keep_video`` off, a video stored for the prediction is deleted afterwards.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from annotations import enqueue
from annotations.models import PredictionJob, Project, Video, VideoStatus
from annotations.services.learning.prediction import predict_for_video
from annotations.services.media.ingest import video_ingest
from annotations.services.media.sources import SourceRejected, check_url
from annotations.services.media.video_import import (
    LocalMedia,
    VideoImportError,
    media_prepare,
    video_create,
)
from ml.media import MediaError, probe_media, sha256_of

logger = logging.getLogger(__name__)

# How long a job waits for an ingest that another worker claimed first.
INGEST_WAIT_SECONDS = 3600.0
_EXPECTED = (SourceRejected, MediaError, VideoImportError, OSError, ValueError)


class PredictionRequestError(ValueError):
    """A prediction request that cannot be accepted; the message says why."""


def prediction_job_create(
    *,
    project: Project,
    user: User | None,
    upload: UploadedFile | None = None,
    url: str = "",
    title: str = "",
    description: str = "",
    keep_video: bool = True,
) -> PredictionJob:
    """Record the request (storing an uploaded file) and queue its job."""
    if (upload is None) == (not url):
        raise PredictionRequestError("send either a file or a url, not both or neither")
    if url:
        if "://" not in url:
            raise PredictionRequestError("the url must start with http:// or https://")
        check_url(url, allowlist=settings.URL_IMPORT_ALLOWLIST)
    if upload is not None and upload.size is not None and upload.size > settings.MAX_UPLOAD_BYTES:
        raise PredictionRequestError(
            f"the file is {upload.size} bytes, over the limit of {settings.MAX_UPLOAD_BYTES}"
        )
    job = PredictionJob(
        project=project,
        created_by=user,
        token=secrets.token_hex(16),
        title=title[:500],
        description=description,
        source_url=url[:2000],
        upload_name=Path(upload.name or "upload").name[:255] if upload is not None else "",
        keep_video=keep_video,
        stage="queued",
    )
    with transaction.atomic():
        if upload is not None:
            job.upload.save(job.upload_name or "upload", upload, save=False)
        job.save()
        enqueue.prediction(job.pk)
    return job


def _stage(job: PredictionJob, stage: str, progress: float) -> None:
    job.stage, job.progress = stage, progress
    PredictionJob.objects.filter(pk=job.pk).update(stage=stage, progress=progress)


def _fetch(job: PredictionJob) -> LocalMedia:
    if job.source_url:
        return media_prepare(source=job.source_url, base_dir=None)
    # A local copy: the stored upload may live in remote storage.
    suffix = Path(str(job.upload.name)).suffix[:10]
    with (
        tempfile.NamedTemporaryFile(delete=False, suffix=suffix) as handle,
        job.upload.open("rb") as stored,
    ):
        for chunk in iter(lambda: stored.read(1024 * 1024), b""):
            handle.write(chunk)
    path = Path(handle.name)
    try:
        info = probe_media(path, max_bytes=settings.MAX_UPLOAD_BYTES)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return LocalMedia(path, info, sha256_of(path), job.upload_name or path.name, None, True)


def _wait_for_ingest(video_id: int) -> None:
    deadline = time.monotonic() + INGEST_WAIT_SECONDS
    while time.monotonic() < deadline:
        status = Video.objects.filter(pk=video_id).values_list("status", flat=True).first()
        if status not in (VideoStatus.PENDING, VideoStatus.PROCESSING):
            return
        time.sleep(1.0)
    raise TimeoutError("the video was still being processed by another worker; try again later")


def _delete_video(video: Video) -> None:
    names = [str(video.source_file.name), str(video.subtitles_file.name)]
    names += [str(k.image.name) for k in video.keyframes.all()]
    storage = video.source_file.storage
    video.delete()
    for name in filter(None, names):
        storage.delete(name)


def prediction_job_run(*, job_id: int) -> PredictionJob:
    """Run a queued job; a job that is not queued (taken by another worker) is left alone."""
    claimed = PredictionJob.objects.filter(pk=job_id, state=PredictionJob.State.QUEUED).update(
        state=PredictionJob.State.RUNNING, started_at=timezone.now(), stage="fetching the file"
    )
    job = PredictionJob.objects.select_related("project").get(pk=job_id)
    if not claimed:
        return job
    media: LocalMedia | None = None
    created = False
    try:
        media = _fetch(job)
        _stage(job, "storing the video", 0.2)
        try:
            video, _warnings = video_create(
                project=job.project,
                title=job.title,
                description=job.description,
                metadata={"origin": "prediction", "prediction_job": job.pk},
                media=media,
                user=job.created_by,
            )
            created = True
        except VideoImportError:
            found = Video.objects.filter(project=job.project, sha256=media.sha256).first()
            if found is None:
                raise
            video = found
        PredictionJob.objects.filter(pk=job.pk).update(video=video)
        _stage(job, "processing the video", 0.3)
        if video_ingest(video_id=video.pk) is None:
            _wait_for_ingest(video.pk)
        video.refresh_from_db()
        if video.status == VideoStatus.FAILED:
            raise MediaError(video.status_error or "the video could not be processed")
        _stage(job, "predicting", 0.9)
        transcript = " ".join(video.transcript_segments.values_list("text", flat=True))
        # The video as the pipeline left it: transcript, summary and media features.
        prediction = predict_for_video(video=video)
        result: dict[str, object] = {
            "tags": [{"tag": tag, "score": score} for tag, score in prediction.tags],
            "model_version": prediction.model_version.number if prediction.model_version else None,
            "zero_shot": prediction.zero_shot,
            "video_id": video.pk,
            "transcript_characters": len(transcript),
            "duration_seconds": video.duration_seconds,
        }
        if created and not job.keep_video:
            _delete_video(video)
            result["video_id"] = None
        PredictionJob.objects.filter(pk=job.pk).update(
            state=PredictionJob.State.DONE,
            stage="done",
            progress=1.0,
            result=result,
            finished_at=timezone.now(),
        )
    except Exception as exc:
        if not isinstance(exc, _EXPECTED):
            logger.exception("prediction job %s failed", job_id)
        message = str(exc) if isinstance(exc, _EXPECTED) else f"unexpected error: {exc}"
        PredictionJob.objects.filter(pk=job.pk).update(
            state=PredictionJob.State.FAILED, error=message, finished_at=timezone.now()
        )
    finally:
        if media is not None:
            media.discard()
        if job.upload:
            # The upload was only needed to make the video; the video keeps its own copy.
            job.upload.delete(save=False)
            PredictionJob.objects.filter(pk=job.pk).update(upload="")
    job.refresh_from_db()
    return job
