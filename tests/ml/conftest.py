"""Generated media and the tiny Whisper model, made once per test session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from ml.synthetic_media import write_corrupt_copy, write_not_media, write_video
from tests.ml.tiny_whisper import build_tiny_whisper


@dataclass(frozen=True)
class MediaSet:
    talk: Path  # 2 s of studio video with speech-like audio
    silent_video: Path  # video only
    audio_only: Path  # speech-like audio only
    truncated: Path  # the first 40% of `talk`
    not_media: Path  # text with a video's name
    zero_duration: Path  # an MP4 whose encoders never got a frame


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> MediaSet:
    root = tmp_path_factory.mktemp("media")
    talk = write_video(
        root / "talk.mp4", seconds=2.0, width=160, height=120, fps=25, scene="studio", seed=1
    )
    return MediaSet(
        talk=talk,
        silent_video=write_video(
            root / "silent.mp4", seconds=2.0, width=160, height=120, scene="road", audio=False
        ),
        audio_only=write_video(root / "voice.m4a", seconds=2.0, seed=3, video=False),
        truncated=write_corrupt_copy(talk, root / "truncated.mp4", keep_fraction=0.4),
        not_media=write_not_media(root / "notes.mp4"),
        zero_duration=_write_zero_duration(root / "zero.mp4"),
    )


def _write_zero_duration(path: Path) -> Path:
    with av.open(str(path), mode="w") as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
        container.add_stream("aac", rate=16_000, layout="mono")
        container.start_encoding()
    return path


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("whisper") / "tiny")
