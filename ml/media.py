"""Opening and probing media files with PyAV.

``open_container`` is the one way the pipeline opens a media file: PyAV's errors
become a ``MediaError`` whose message a person can act on. ``probe_media`` opens
the container, reads its streams and decodes the first frame of the video stream
(or of the audio stream for audio-only files), so a file that merely has a
plausible header but cannot be played is refused here rather than failing later
in the pipeline.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.error

_CHUNK = 1024 * 1024


class MediaError(ValueError):
    """A file that is not usable media; the message says why in plain words."""


@contextmanager
def open_container(
    path: str | os.PathLike[str], *, timeout: float | None = None
) -> Iterator[av.container.InputContainer]:
    """The file opened for reading, closed on leaving the block.

    Only opening is translated into MediaError: errors while reading inside the block
    are the caller's to word, since only it knows what it was reading. Metadata that is
    not valid UTF-8 is read leniently, as a bad title tag does not make a file unusable.
    `timeout` (seconds) bounds each blocking read, for files on slow or network storage.
    """
    try:
        container = av.open(str(path), mode="r", metadata_errors="ignore", timeout=timeout)
    except av.error.InvalidDataError:
        raise MediaError(
            "not a video or audio file (its contents are not a known media format)"
        ) from None
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"the file could not be opened as media: {exc}") from None
    with container:
        yield container


@dataclass(frozen=True)
class MediaInfo:
    duration_seconds: float
    size_bytes: int
    container: str
    has_video: bool
    has_audio: bool
    fps: float | None = None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    subtitle_streams: int = 0
    tags: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def stream_seconds(value: int | None, time_base: Fraction | None) -> float:
    """A stream's time (a duration, a start) in seconds; 0 where the container gives none."""
    if value is None or time_base is None:
        return 0.0
    return float(value * time_base)


def _container_duration(container: av.container.InputContainer) -> float:
    if container.duration:
        return container.duration / av.time_base
    longest = 0.0
    for stream in container.streams:
        longest = max(longest, stream_seconds(stream.duration, stream.time_base))
    return longest


def _decodes(container: av.container.InputContainer, stream: av.stream.Stream) -> bool:
    for frame in container.decode(stream):
        del frame
        return True
    return False


# Decoding from the seek point to the end is bounded: with a long GOP the seek lands
# far before the target, and past this many frames the tail is taken as present.
_TAIL_FRAME_BUDGET = 1500


def _reaches_end(
    container: av.container.InputContainer, stream: av.stream.Stream, duration: float
) -> bool:
    """Whether frames near the end of the stream can be decoded (a cut-off file has none)."""
    target = max(0.0, duration * 0.95 - 0.5)
    if stream.time_base is None:
        return True
    container.seek(int(target / stream.time_base), stream=stream, backward=True, any_frame=False)
    for decoded, frame in enumerate(container.decode(stream)):
        time = getattr(frame, "time", None)
        if time is not None and time >= target:
            return True
        if decoded >= _TAIL_FRAME_BUDGET:
            return True
    return False


def probe_media(path: Path, *, max_bytes: int | None = None) -> MediaInfo:
    """Facts about a media file, or MediaError saying why it cannot be used."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(f"file not found: {path.name}") from None
    if size == 0:
        raise MediaError("the file is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise MediaError(
            f"the file is {_human_size(size)}, over the limit of {_human_size(max_bytes)}"
        )
    with open_container(path, timeout=30) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None and audio is None:
            raise MediaError("the file has no video or audio stream")
        duration = _container_duration(container)
        if duration <= 0:
            raise MediaError("the file has zero duration")
        main = video if video is not None else audio
        assert main is not None
        try:
            decodable = _decodes(container, main)
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(
                f"the file is damaged: its first frame cannot be decoded ({exc})"
            ) from None
        if not decodable:
            raise MediaError("the file is damaged: it holds no decodable frame")
        try:
            complete = _reaches_end(container, main, duration)
        except (av.error.FFmpegError, ValueError):
            complete = False
        if not complete:
            raise MediaError(
                f"the file is truncated: it claims {duration:.1f} s but nothing near its end "
                "can be decoded"
            )
        fps = float(video.average_rate) if video is not None and video.average_rate else None
        return MediaInfo(
            duration_seconds=round(duration, 3),
            size_bytes=size,
            container=container.format.name,
            has_video=video is not None,
            has_audio=audio is not None,
            fps=round(fps, 3) if fps else None,
            width=video.codec_context.width if video is not None else None,
            height=video.codec_context.height if video is not None else None,
            video_codec=video.codec_context.name if video is not None else None,
            audio_codec=audio.codec_context.name if audio is not None else None,
            audio_sample_rate=audio.codec_context.sample_rate if audio is not None else None,
            subtitle_streams=len(container.streams.subtitles),
            tags={str(k): str(v) for k, v in (container.metadata or {}).items()},
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
