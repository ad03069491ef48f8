"""Predictions for a video file or URL, run as a chain of jobs that never waits in a loop.

The prediction job (``Job`` of kind ``predict``) fetches the file (URLs with the same
safety checks as imports), probes it and stores it as a video of the project: the
import queues the video's ingest job, as for any import. The prediction job then goes
back to the queue *behind* that ingest job and is handed to a worker again when the
ingest ends; that run tags the processed video with the promoted model (or zero-shot),
from the same features a training example of the video would have. A file the project
already has is not stored twice: its video is used, and its processing too when done.
With ``keep_video`` off, a video stored for the prediction is deleted afterwards.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from annotations.models import Job, PredictionJob, Project, Video, VideoStatus
from annotations.services.jobs.lifecycle import JobFailed, JobRun, Waiting, job_object, job_request
from annotations.services.learning.prediction import predict_for_video
from annotations.services.media.sources import SourceRejected, check_url
from annotations.services.media.video_import import (
    LocalMedia,
    VideoImportError,
    media_prepare,
    video_create,
)
from annotations.services.stored_files import local_copy
from ml.media import MediaError, probe_media, sha256_of

logger = logging.getLogger(__name__)

_EXPECTED = (SourceRejected, MediaError, VideoImportError, OSError, ValueError)
WAITING_STAGE = "waiting for the video to be processed"


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
    request = PredictionJob(
        project=project,
        created_by=user,
        token=secrets.token_hex(16),
        title=title[:500],
        description=description,
        source_url=url[:2000],
        upload_name=Path(upload.name or "upload").name[:255] if upload is not None else "",
        keep_video=keep_video,
    )
    with transaction.atomic():
        if upload is not None:
            request.upload.save(request.upload_name or "upload", upload, save=False)
        request.save()
        job_request(kind=Job.Kind.PREDICT, project=project, object_id=request.pk, user=user)
    return request


@contextmanager
def _fetched(request: PredictionJob) -> Iterator[LocalMedia]:
    """The request's file, local for the block (a URL's download, or the stored upload)."""
    if request.source_url:
        media = media_prepare(source=request.source_url, base_dir=None)
        try:
            yield media
        finally:
            media.discard()
        return
    if not request.upload:
        raise JobFailed("the uploaded file is no longer there; send it again")
    # The stored upload may be in object storage: a copy in the run's scratch folder then.
    with local_copy(
        request.upload, limit=settings.MAX_UPLOAD_BYTES, limit_name="MAX_UPLOAD_BYTES"
    ) as path:
        info = probe_media(path, max_bytes=settings.MAX_UPLOAD_BYTES)
        yield LocalMedia(path, info, sha256_of(path), request.upload_name or path.name, None)


def _store_video(request: PredictionJob, run: JobRun) -> Video:
    """The request's file as a video of the project: stored now, or the one it already has."""
    run.progress(0.05, stage="fetching the file")
    with _fetched(request) as media:
        run.progress(0.2, stage="storing the video")
        try:
            video, _warnings = video_create(
                project=request.project,
                title=request.title,
                description=request.description,
                metadata={"origin": "prediction", "prediction_job": request.pk},
                media=media,
                user=request.created_by,
            )
            created = True
        except VideoImportError:
            found = Video.objects.filter(project=request.project, sha256=media.sha256).first()
            if found is None:
                raise
            video = found
            # Stored by an earlier run of this request, killed before it noted so.
            created = found.metadata.get("prediction_job") == request.pk
    with transaction.atomic():
        PredictionJob.objects.filter(pk=request.pk).update(video=video, created_video=created)
        _delete_upload(request)
    return video


def _delete_upload(request: PredictionJob) -> None:
    """The upload was only needed to make the video; the video keeps its own copy."""
    if request.upload:
        name, storage = str(request.upload.name), request.upload.storage
        PredictionJob.objects.filter(pk=request.pk).update(upload="")
        transaction.on_commit(lambda: storage.delete(name))


def _delete_video(video: Video) -> None:
    names = [str(video.source_file.name), str(video.subtitles_file.name)]
    names += [str(k.image.name) for k in video.keyframes.all()]
    storage = video.source_file.storage
    with transaction.atomic():
        # Locked first: a suggestions refresh writing this video's rows finishes before
        # the delete collects them (and skips the video once it is gone).
        Video.objects.select_for_update().filter(pk=video.pk).first()
        Job.objects.filter(kind=Job.Kind.INGEST, object_id=video.pk).delete()
        video.delete()

    def delete_files() -> None:
        for name in filter(None, names):
            storage.delete(name)

    transaction.on_commit(delete_files)


def prediction_job_run(job: Job, run: JobRun) -> str | Waiting:
    """One step of the chain: store the video, wait for its processing, or predict."""
    request = job_object(
        job,
        PredictionJob.objects.select_related("project", "video", "created_by"),
        "prediction request",
    )
    try:
        video = request.video or _store_video(request, run)
    except _EXPECTED as exc:
        raise JobFailed(str(exc)) from None
    ingest = Job.objects.of(Job.Kind.INGEST, video.pk).first()
    video.refresh_from_db()
    if ingest is not None and ingest.is_active:
        return Waiting(ingest, WAITING_STAGE)
    if video.status == VideoStatus.FAILED:
        raise JobFailed(video.status_error or "the video could not be processed")
    if video.status != VideoStatus.READY:
        # Waiting for a processing that no job will do (its job was deleted): ask for one.
        ingest = job_request(kind=Job.Kind.INGEST, project=request.project, object_id=video.pk)
        return Waiting(ingest, WAITING_STAGE)
    run.progress(0.9, stage="predicting")
    prediction = predict_for_video(video=video)
    transcript = " ".join(video.transcript_segments.values_list("text", flat=True))
    result: dict[str, object] = {
        "tags": [{"tag": tag, "score": score} for tag, score in prediction.tags],
        "model_version": prediction.model_version.number if prediction.model_version else None,
        "zero_shot": prediction.zero_shot,
        "video_id": video.pk,
        "transcript_characters": len(transcript),
        "duration_seconds": video.duration_seconds,
    }
    if request.created_video and not request.keep_video:
        result["video_id"] = None
    message = ", ".join(tag for tag, _ in prediction.tags) or "no tag above its threshold"
    with run.complete(message, result=result):
        PredictionJob.objects.filter(pk=request.pk).update(result=result)
        if request.created_video and not request.keep_video:
            _delete_video(video)
    return message


def prediction_job_ended(job: Job, state: str, reason: str) -> None:
    """A cancelled prediction keeps no upload; a failed one keeps it for a retry (as every
    failed job keeps its input). Neither keeps a video it was not to keep."""
    request = PredictionJob.objects.select_related("video").filter(pk=job.object_pk).first()
    if request is None:
        return
    if state == Job.State.CANCELLED:
        _delete_upload(request)
    if request.video is not None and request.created_video and not request.keep_video:
        _delete_video(request.video)


def prediction_job_queued(job: Job) -> None:
    PredictionJob.objects.filter(pk=job.object_pk).update(result={})
