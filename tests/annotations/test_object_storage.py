"""Media in S3-compatible storage (MEDIA_STORAGE=s3): processing needs no shared disk.

Against a real S3 server (moto's, started by the tests; tests/s3server.py): the video is
stored in the bucket at import, a job fetches it into its scratch folder, writes the
keyframes back to the bucket and leaves no local file; the player is sent to a signed
URL of the bucket, where ranges work; exports and dataset imports go through the bucket
too. A stored file over the size limit is refused before anything is copied.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from annotations.models import (
    ExportSnapshot,
    Job,
    Keyframe,
    Project,
    Video,
    VideoStatus,
)
from annotations.services.export import ExportFilters, export_request
from annotations.services.interchange import dataset_import_request
from annotations.services.jobs.control import job_run_now
from annotations.services.jobs.lifecycle import JobRun
from annotations.services.media.reprocessing import video_ingest
from annotations.services.stored_files import StoredFileTooLarge, local_copy
from ml.synthetic_media import write_srt, write_video
from tests.factories import (
    claim,
    client_for,
    import_video,
    make_job,
    make_tag,
    request_prediction,
    run_job_of,
)
from tests.s3server import S3Bucket, files_under

NARRATION = [
    (0.0, 0.9, "Сегодня мы готовим суп из томатов."),
    (0.9, 1.8, "Варим его двадцать минут."),
]


pytestmark = pytest.mark.usefixtures("no_speech_model", "zero_shot_model")


@pytest.fixture
def stored_video(s3_bucket: S3Bucket, project: Project, import_root: Path) -> Video:
    """A generated clip with subtitles, imported: both files are in the bucket, not on disk."""
    clip = write_video(import_root / "soup.mp4", seconds=2.0, width=160, height=120, seed=3)
    write_srt(import_root / "soup.srt", NARRATION)
    return import_video(project, clip, "Суп")


def _no_local_files(settings: Settings) -> None:
    assert files_under(Path(settings.MEDIA_ROOT)) == []
    assert files_under(Path(settings.JOB_SCRATCH_DIR)) == []


def test_a_video_in_the_bucket_is_processed_and_its_keyframes_stored_there_with_no_local_file(
    stored_video: Video, s3_bucket: S3Bucket, settings: Settings, import_root: Path
) -> None:
    assert {str(stored_video.source_file.name), str(stored_video.subtitles_file.name)} <= set(
        s3_bucket.keys()
    )
    assert video_ingest(video_id=stored_video.pk) == VideoStatus.READY
    video = Video.objects.get(pk=stored_video.pk)
    steps = dict(video.steps.values_list("name", "state"))
    assert steps["probe"] == steps["transcript"] == steps["frames"] == steps["audio"] == "done"
    # The subtitles were read from the bucket too.
    assert list(video.transcript_segments.values_list("text", flat=True)) == [
        text for _, _, text in NARRATION
    ]
    keyframes = list(Keyframe.objects.filter(video=video))
    assert keyframes
    stored = s3_bucket.keys(f"keyframes/{video.pk}/")
    assert sorted(str(k.image.name) for k in keyframes) == stored
    assert s3_bucket.read(stored[0]).startswith(b"\xff\xd8")  # a JPEG
    _no_local_files(settings)


def test_processing_again_replaces_the_keyframes_in_the_bucket(
    stored_video: Video, s3_bucket: S3Bucket
) -> None:
    video_ingest(video_id=stored_video.pk)
    first = s3_bucket.keys(f"keyframes/{stored_video.pk}/")
    # A file a killed run stored without its row: the next run removes it.
    orphan = Keyframe._meta.get_field("image").storage.save(
        f"keyframes/{stored_video.pk}/orphan.jpg", ContentFile(b"\xff\xd8")
    )
    assert video_ingest(video_id=stored_video.pk, only=["frames"]) == VideoStatus.READY
    names = sorted(str(k.image.name) for k in Keyframe.objects.filter(video=stored_video))
    assert s3_bucket.keys(f"keyframes/{stored_video.pk}/") == names
    assert orphan not in names and len(names) == len(first)


def test_the_player_is_sent_to_a_signed_url_of_the_bucket_where_ranges_work(
    stored_video: Video, expert: User, crowd: User, s3_bucket: S3Bucket
) -> None:
    response = client_for(expert).get(reverse("video_file", args=[stored_video.pk]))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{s3_bucket.server.endpoint}/{s3_bucket.name}/")
    assert "Signature=" in location
    original = s3_bucket.read(str(stored_video.source_file.name))
    ranged = urllib.request.Request(location, headers={"Range": "bytes=100-1099"})  # noqa: S310
    with urllib.request.urlopen(ranged, timeout=30) as answer:  # noqa: S310
        assert answer.status == 206
        assert answer.read() == original[100:1100]
    # Whoever may not see the video gets no URL.
    assert client_for(crowd).get(reverse("video_file", args=[stored_video.pk])).status_code == 404


def test_an_export_is_stored_in_the_bucket_and_downloads_from_it(
    s3_bucket: S3Bucket, project: Project, admin_user: User, settings: Settings
) -> None:
    make_tag(project, "Еда и напитки: Кулинария")
    snapshot = export_request(
        project=project, user=admin_user, fmt="jsonl", filters=ExportFilters()
    )
    assert run_job_of(Job.Kind.EXPORT, snapshot.pk).state == Job.State.DONE
    snapshot.refresh_from_db()
    assert snapshot.state == ExportSnapshot.State.READY
    assert str(snapshot.file.name) in s3_bucket.keys("exports/")
    client = APIClient()
    client.force_authenticate(admin_user)
    response = client.get(reverse("api_export_download", args=[snapshot.pk]))
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content == s3_bucket.read(str(snapshot.file.name))
    assert int(response["Content-Length"]) == len(content)
    assert hashlib.sha256(content).hexdigest() == snapshot.sha256 == response["X-Checksum-SHA256"]
    _no_local_files(settings)


def test_a_stored_file_over_the_size_limit_fails_the_video_saying_so_and_copies_nothing(
    stored_video: Video, settings: Settings
) -> None:
    size = stored_video.source_file.size
    settings.MAX_UPLOAD_BYTES = size - 1
    assert video_ingest(video_id=stored_video.pk) == VideoStatus.FAILED
    video = Video.objects.get(pk=stored_video.pk)
    expected = f"is {size} bytes, over the limit of {size - 1} bytes (MAX_UPLOAD_BYTES)"
    assert expected in video.status_error
    assert video.status_error.startswith("probe: the stored file videos/")
    assert expected in video.steps.get(name="probe").message
    assert not video.keyframes.exists()
    _no_local_files(settings)


def _running(project: Project) -> JobRun:
    return JobRun(claim(make_job(Job.Kind.INGEST, None, project)))


def test_a_copy_lies_in_the_running_jobs_scratch_folder_and_goes_even_when_the_block_fails(
    stored_video: Video, project: Project
) -> None:
    original = stored_video.source_file.read()
    stored_video.source_file.close()
    with (
        _running(project) as run,
        pytest.raises(RuntimeError, match="the step broke"),
        local_copy(stored_video.source_file, limit=len(original)) as path,
    ):
        assert path.parent == run.scratch
        assert path.read_bytes() == original
        raise RuntimeError("the step broke")
    assert not path.exists()


def test_a_copy_over_the_limit_is_refused_before_a_file_is_made(
    stored_video: Video, project: Project
) -> None:
    with _running(project) as run:
        with (
            pytest.raises(StoredFileTooLarge, match="over the limit of 10 bytes"),
            local_copy(stored_video.source_file, limit=10),
        ):
            pass
        assert files_under(run.scratch) == []


def test_with_local_storage_the_file_itself_is_used_and_nothing_is_copied(
    project: Project, import_root: Path, settings: Settings
) -> None:
    clip = write_video(import_root / "local.mp4", seconds=1.0, width=64, height=48, seed=4)
    video = import_video(project, clip, "Локально")
    with _running(project) as run, local_copy(video.source_file, limit=10**9) as path:
        assert path == Path(settings.MEDIA_ROOT) / str(video.source_file.name)
        assert files_under(run.scratch) == []
    assert path.exists()


def test_a_prediction_on_an_upload_goes_through_the_bucket_and_leaves_nothing_there(
    s3_bucket: S3Bucket,
    project: Project,
    admin_user: User,
    import_root: Path,
    settings: Settings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    make_tag(project, "Еда и напитки: Кулинария")
    clip = write_video(import_root / "soup.mp4", seconds=1.0, width=96, height=64, seed=6)
    request = request_prediction(project, clip, user=admin_user, title="Суп", keep_video=False)
    assert s3_bucket.keys("predict/") == [str(request.upload.name)]
    # Committed, the job hands over the video's ingest, which hands the prediction back:
    # the whole chain runs here, each job fetching what it needs from the bucket.
    with django_capture_on_commit_callbacks(execute=True):
        run_job_of(Job.Kind.PREDICT, request.pk)
    job = Job.objects.of(Job.Kind.PREDICT, request.pk).get()
    assert job.state == Job.State.DONE, job.message
    request.refresh_from_db()
    assert request.result["tags"] is not None
    assert request.video is None  # keep_video off: deleted once predicted
    assert s3_bucket.keys() == []  # keep_video off: nothing of it is left in the bucket
    _no_local_files(settings)


def test_a_dataset_import_reads_its_file_from_the_bucket(
    s3_bucket: S3Bucket, project: Project, admin_user: User, settings: Settings
) -> None:
    items = [{"external_id": f"ds-{n}", "title": f"Ролик {n}", "tags": []} for n in range(3)]
    job = dataset_import_request(
        project=project,
        upload=SimpleUploadedFile(
            "dataset.jsonl", "\n".join(json.dumps(item) for item in items).encode()
        ),
        fmt="jsonl",
        user=admin_user,
    )
    assert s3_bucket.keys("job-inputs/") == [str(job.input_file.name)]
    assert job_run_now(job).state == Job.State.DONE
    assert set(Video.objects.filter(project=project).values_list("external_id", flat=True)) == {
        item["external_id"] for item in items
    }
    _no_local_files(settings)
