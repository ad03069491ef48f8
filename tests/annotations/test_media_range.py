"""The video file endpoint: HTTP range requests, and only for those who may see the video."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile

from annotations.models import Project, Video
from annotations.views.media import UnsatisfiableRange, parse_range
from tests.factories import assign, client_for, make_video

BODY = bytes(range(256)) * 40  # 10,240 bytes, every offset recognisable


@pytest.fixture
def media_video(project: Project) -> Video:
    video = make_video(project, sha256=hashlib.sha256(BODY).hexdigest())
    video.source_file.save("clip.mp4", ContentFile(BODY), save=True)
    return video


def _body(response: object) -> bytes:
    return b"".join(response.streaming_content)  # type: ignore[attr-defined]


def test_a_plain_request_gets_the_whole_file_and_learns_ranges_are_accepted(
    media_video: Video, expert: User
) -> None:
    response = client_for(expert).get(f"/videos/{media_video.pk}/file/")
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(BODY))
    assert _body(response) == BODY


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=5000-", 5000, len(BODY) - 1),
        ("bytes=-100", len(BODY) - 100, len(BODY) - 1),
        ("bytes=10000-99999", 10000, len(BODY) - 1),  # an end past the file is cut to it
    ],
)
def test_a_range_request_gets_206_with_exactly_those_bytes(
    media_video: Video, expert: User, header: str, start: int, end: int
) -> None:
    response = client_for(expert).get(f"/videos/{media_video.pk}/file/", HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(BODY)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert _body(response) == BODY[start : end + 1]


def test_a_range_beyond_the_end_is_416_with_the_size(media_video: Video, expert: User) -> None:
    response = client_for(expert).get(
        f"/videos/{media_video.pk}/file/", HTTP_RANGE=f"bytes={len(BODY)}-"
    )
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(BODY)}"


@pytest.mark.parametrize(
    "header",
    ["bytes=0-10,20-30", "items=0-5", "bytes=9-3", "bytes=-", "bytes=٣-", f"bytes={'9' * 5000}-"],
)
def test_ranges_we_do_not_serve_get_the_whole_file(
    media_video: Video, expert: User, header: str
) -> None:
    response = client_for(expert).get(f"/videos/{media_video.pk}/file/", HTTP_RANGE=header)
    assert response.status_code == 200
    assert _body(response) == BODY


def test_head_gives_the_headers_without_the_body(media_video: Video, expert: User) -> None:
    response = client_for(expert).head(f"/videos/{media_video.pk}/file/", HTTP_RANGE="bytes=0-9")
    assert response.status_code == 206
    assert response["Content-Length"] == "10"
    assert response.content == b""


def test_the_file_is_only_for_those_who_may_see_the_video(
    media_video: Video, crowd: User, no_role_user: User
) -> None:
    url = f"/videos/{media_video.pk}/file/"
    assert client_for(crowd).get(url, HTTP_RANGE="bytes=0-9").status_code == 404
    assert client_for(no_role_user).get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302
    assign(media_video, crowd)
    assert client_for(crowd).get(url, HTTP_RANGE="bytes=0-9").status_code == 206


def test_writes_are_refused(media_video: Video, expert: User) -> None:
    assert client_for(expert).post(f"/videos/{media_video.pk}/file/").status_code == 405


def test_a_video_without_a_file_is_404(project: Project, expert: User) -> None:
    video = make_video(project)
    assert client_for(expert).get(f"/videos/{video.pk}/file/").status_code == 404


def test_an_empty_file_cannot_satisfy_a_suffix_range() -> None:
    with pytest.raises(UnsatisfiableRange):
        parse_range("bytes=-5", 0)
    assert parse_range("bytes=-5000", 100) == (0, 99)
