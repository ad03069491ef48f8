"""The video file, with HTTP range requests so that players can seek in large files.

Only for those who may see the video (``get_video_for_user``). Files on a local
disk are streamed here; files in object storage are sent there by a redirect to
the storage's (signed) URL, so Django never relays large files it cannot seek.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from typing import IO

from django.contrib.auth.decorators import login_required
from django.core.files.storage import FileSystemStorage
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from annotations.selectors import get_video_for_user
from annotations.views.requests import AuthenticatedHttpRequest

CHUNK_BYTES = 256 * 1024
# One range is a few dozen characters; a longer header is ignored rather than parsed.
MAX_RANGE_HEADER = 200
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE | re.ASCII)


class UnsatisfiableRange(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """The inclusive byte range a ``Range`` header asks for, or None to send the whole file.

    Headers that are not a single ``bytes`` range are ignored (RFC 9110 allows a
    server to answer those with the full content); a syntactically valid range
    that lies outside the file raises UnsatisfiableRange (416).
    """
    match = _RANGE.match(header) if len(header) <= MAX_RANGE_HEADER else None
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-N": the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise UnsatisfiableRange
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise UnsatisfiableRange
    return start, min(end, size - 1)


def _read(handle: IO[bytes], start: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk
    finally:
        handle.close()


@login_required
@require_safe
def video_file(request: AuthenticatedHttpRequest, video_id: int) -> HttpResponseBase:
    video = get_video_for_user(request.user, video_id)
    if not video.source_file:
        raise Http404(_("This video has no media file."))
    storage = video.source_file.storage
    if not isinstance(storage, FileSystemStorage):
        return HttpResponseRedirect(video.source_file.url)
    name = video.source_file.name or ""
    try:
        size = video.source_file.size
        modified = storage.get_modified_time(name)
    except FileNotFoundError:
        raise Http404(_("The media file of this video is missing.")) from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response: HttpResponseBase
    try:
        byte_range = parse_range(request.headers.get("Range", ""), size)
    except UnsatisfiableRange:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response

    start, end = byte_range if byte_range else (0, size - 1)
    length = end - start + 1 if size else 0
    if request.method == "HEAD":
        response = HttpResponse(status=206 if byte_range else 200)
    else:
        handle = video.source_file.open("rb")
        response = StreamingHttpResponse(
            _read(handle, start, length), status=206 if byte_range else 200
        )
    response["Content-Type"] = content_type
    response["Content-Length"] = str(length)
    response["Accept-Ranges"] = "bytes"
    response["Last-Modified"] = http_date(modified.timestamp())
    response["Cache-Control"] = "private, max-age=3600"
    if byte_range:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
