"""Small real media files for the demo, the tests and the benchmarks.

Everything is drawn and synthesised here, so nothing needs the network or a media
fixture checked into the repository. Videos are encoded one frame at a time, so a
ten-minute 720p benchmark file never sits in memory. Each video has hard cuts
(an abrupt change of palette, at the times `plan_cuts` gives) so shot detection has
something to find, and its audio is either speech-like (voiced syllables with
formants, separated by short and long pauses) or a steady chord.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ml.synthetic_media.scenes import SCENE_KINDS, plan_cuts, render_frames
from ml.synthetic_media.sound import ChordVoice, SpeechVoice

__all__ = [
    "AUDIO_SAMPLE_RATES",
    "AUDIO_SUFFIXES",
    "SCENE_KINDS",
    "VIDEO_SUFFIXES",
    "plan_cuts",
    "write_corrupt_copy",
    "write_not_media",
    "write_srt",
    "write_video",
]

AUDIO_SAMPLE_RATES = (16_000, 22_050, 44_100, 48_000)
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
AUDIO_SUFFIXES = (".m4a", ".mp4", ".mov", ".mkv")
# Speed matters more than size here: the benchmark writes ten minutes of 720p.
_X264_OPTIONS = {"preset": "ultrafast", "crf": "26"}
_AAC_FRAME = 1024  # the AAC encoder refuses any other frame size except for the last frame
_FASTSTART_SUFFIXES = (".mp4", ".m4a", ".mov")


@dataclass(frozen=True)
class _Plan:
    seconds: float
    width: int
    height: int
    fps: int
    scene: str
    seed: int
    audio: bool
    speech_like: bool
    video: bool
    sample_rate: int

    def check(self, path: Path) -> None:
        if not (self.audio or self.video):
            raise ValueError("a media file needs a video stream, an audio stream or both")
        if not (math.isfinite(self.seconds) and self.seconds > 0):
            raise ValueError(f"seconds must be a positive number, not {self.seconds!r}")
        suffixes = VIDEO_SUFFIXES if self.video else AUDIO_SUFFIXES
        if path.suffix.lower() not in suffixes:
            raise ValueError(f"cannot write {path.name!r}: use one of {', '.join(suffixes)}")
        if self.video:
            if min(self.width, self.height) < 16 or self.width % 2 or self.height % 2:
                raise ValueError(
                    "yuv420p needs an even frame size of at least 16x16, "
                    f"not {self.width}x{self.height}"
                )
            if not 1 <= self.fps <= 120:
                raise ValueError(f"fps must be between 1 and 120, not {self.fps}")
            if self.scene not in SCENE_KINDS:
                raise ValueError(f"unknown scene {self.scene!r}; known: {', '.join(SCENE_KINDS)}")
        if self.audio and self.sample_rate not in AUDIO_SAMPLE_RATES:
            raise ValueError(
                f"sample rate must be one of {AUDIO_SAMPLE_RATES}, not {self.sample_rate}"
            )


def write_video(
    path: Path,
    *,
    seconds: float,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    scene: str = "bars",
    seed: int = 0,
    audio: bool = True,
    speech_like: bool = True,
    video: bool = True,
    sample_rate: int = 16_000,
) -> Path:
    """Write an H.264/AAC file `seconds` long and return its path.

    `video=False` gives an audio-only file (.m4a or .mp4), `audio=False` a silent video.
    The file appears under its name only when complete, so an interrupted run never
    leaves a plausible-looking half file behind.
    """
    plan = _Plan(seconds, width, height, fps, scene, seed, audio, speech_like, video, sample_rate)
    plan.check(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    # The index at the front lets a browser start playing before the whole file arrives.
    options = {"movflags": "+faststart"} if path.suffix.lower() in _FASTSTART_SUFFIXES else {}
    try:
        with av.open(str(partial), mode="w", container_options=options) as container:
            _encode(container, plan)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


class _AudioTrack:
    """Feeds the AAC encoder whole frames, so it can be interleaved with the video."""

    def __init__(self, container: av.container.OutputContainer, plan: _Plan) -> None:
        self.container = container
        self.rate = plan.sample_rate
        self.total = round(plan.seconds * plan.sample_rate)
        self.written = 0
        self.stream = container.add_stream("aac", rate=plan.sample_rate, layout="mono")
        self.stream.bit_rate = 48_000 if plan.sample_rate <= 22_050 else 96_000
        self.voice: SpeechVoice | ChordVoice = (
            SpeechVoice(self.total, self.rate, plan.seed)
            if plan.speech_like
            else ChordVoice(self.rate)
        )

    def write_until(self, seconds: float) -> None:
        self._write_to(min(self.total, round(seconds * self.rate)))

    def finish(self) -> None:
        self._write_to(self.total)
        self.container.mux(self.stream.encode(None))

    def _write_to(self, target: int) -> None:
        # Only the very last frame may be short.
        while self.written < target and (
            self.written + _AAC_FRAME <= target or target == self.total
        ):
            size = min(_AAC_FRAME, target - self.written)
            samples = self.voice.render(self.written, size)[None, :]
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = self.rate
            frame.pts = self.written
            frame.time_base = Fraction(1, self.rate)
            self.container.mux(self.stream.encode(frame))
            self.written += size


def _encode(container: av.container.OutputContainer, plan: _Plan) -> None:
    track = _AudioTrack(container, plan) if plan.audio else None
    if plan.video:
        stream = container.add_stream("libx264", rate=plan.fps, options=_X264_OPTIONS)
        stream.width, stream.height, stream.pix_fmt = plan.width, plan.height, "yuv420p"
        # A keyframe every two seconds keeps seeking to a thumbnail or a shot cheap.
        stream.codec_context.gop_size = 2 * plan.fps
        frames = render_frames(
            plan.scene,
            width=plan.width,
            height=plan.height,
            fps=plan.fps,
            seconds=plan.seconds,
            seed=plan.seed,
        )
        for index, planes in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(planes, format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, plan.fps)
            container.mux(stream.encode(frame))
            if track is not None:
                track.write_until((index + 1) / plan.fps)
        container.mux(stream.encode(None))
    if track is not None:
        track.finish()


# --- other files --------------------------------------------------------------------------


def _srt_time(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def write_srt(path: Path, segments: Sequence[tuple[float, float, str]]) -> Path:
    """Write a UTF-8 SubRip file with one numbered cue per (start, end, text) segment."""
    blocks: list[str] = []
    for number, (start, end, text) in enumerate(segments, start=1):
        if start < 0 or end <= start:
            raise ValueError(f"cue {number}: bad times {start} --> {end}; need 0 <= start < end")
        # A blank line ends a cue in SubRip, so blank lines inside the text are dropped.
        lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
        if not lines:
            raise ValueError(f"cue {number} has no text")
        blocks.append("\n".join([str(number), f"{_srt_time(start)} --> {_srt_time(end)}", *lines]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return path


def write_corrupt_copy(src: Path, dst: Path, keep_fraction: float = 0.3) -> Path:
    """Copy only the first part of `src`, the way an interrupted upload leaves a file.

    `write_video` puts the index at the front, so with the default fraction the copy
    still opens and its first frames decode; decoding fails where the data stops. Keep
    only the first kilobyte or so (about 0.01 of a few-second clip) to get a file whose
    streams cannot be read or that holds no decodable frame.
    """
    if not 0 < keep_fraction < 1:
        raise ValueError(f"keep_fraction must be between 0 and 1, not {keep_fraction}")
    size = src.stat().st_size
    if size < 2:
        raise ValueError(f"{src.name} is too small ({size} bytes) to truncate")
    keep = max(1, int(size * keep_fraction))
    dst.parent.mkdir(parents=True, exist_ok=True)
    with src.open("rb") as reader, dst.open("wb") as writer:
        remaining = keep
        while remaining:
            chunk = reader.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            writer.write(chunk)
            remaining -= len(chunk)
    return dst


def write_not_media(path: Path) -> Path:
    """Write a plain text file, whatever extension `path` has (usually a video one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "This is not a video: it is plain text wearing a video file's name.\n",
        encoding="utf-8",
    )
    return path
