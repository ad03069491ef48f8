"""Generated media: real files that PyAV opens, with the streams, length and pictures asked for."""

from __future__ import annotations

import bisect
import itertools
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest

from ml.subtitles import read_subtitles
from ml.synthetic_media import (
    SCENE_KINDS,
    plan_cuts,
    write_corrupt_copy,
    write_not_media,
    write_srt,
    write_video,
)
from ml.synthetic_media.speech import english_talk


def _duration(path: Path) -> float:
    with av.open(str(path)) as container:
        assert container.duration is not None
        return container.duration / av.time_base


def _stream_types(path: Path) -> list[str]:
    with av.open(str(path)) as container:
        return [stream.type for stream in container.streams]


def _rgb_frames(path: Path) -> list[npt.NDArray[np.int16]]:
    with av.open(str(path)) as container:
        return [
            frame.to_ndarray(format="rgb24").astype(np.int16) for frame in container.decode(video=0)
        ]


def _mono_samples(path: Path) -> npt.NDArray[np.float32]:
    with av.open(str(path)) as container:
        return np.concatenate([frame.to_ndarray()[0] for frame in container.decode(audio=0)])


def _window_db(samples: npt.NDArray[np.float32], rate: int) -> npt.NDArray[np.float64]:
    size = rate // 50  # 20 ms, about a tenth of a syllable
    windows = samples[: len(samples) // size * size].reshape(-1, size).astype(np.float64)
    return 20 * np.log10(np.sqrt((windows**2).mean(axis=1)) + 1e-9)


def test_video_has_h264_and_mono_aac_with_the_asked_length_and_frame_size(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", seconds=2.4, width=160, height=120, fps=25)

    with av.open(str(path)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert video.codec_context.name == "h264"
        assert video.codec_context.pix_fmt == "yuv420p"
        assert (video.codec_context.width, video.codec_context.height) == (160, 120)
        assert audio.codec_context.name == "aac"
        assert audio.codec_context.sample_rate == 16_000
        assert audio.codec_context.channels == 1
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 60
    assert _duration(path) == pytest.approx(2.4, abs=0.2)
    assert not list(tmp_path.glob(".clip*"))  # no partial file left behind


def test_audio_only_file_has_one_aac_stream_of_the_asked_length(tmp_path: Path) -> None:
    path = write_video(tmp_path / "talk.m4a", seconds=3.0, video=False, sample_rate=44_100)

    assert _stream_types(path) == ["audio"]
    assert _duration(path) == pytest.approx(3.0, abs=0.2)
    with av.open(str(path)) as container:
        assert container.streams.audio[0].codec_context.sample_rate == 44_100


def test_video_without_audio_has_no_audio_stream(tmp_path: Path) -> None:
    path = write_video(tmp_path / "silent.mp4", seconds=1.5, width=64, height=48, audio=False)

    assert _stream_types(path) == ["video"]
    assert _duration(path) == pytest.approx(1.5, abs=0.2)
    assert _rgb_frames(path)[0].shape == (48, 64, 3)


@pytest.mark.parametrize("scene", SCENE_KINDS)
def test_every_scene_moves_and_cuts_where_plan_cuts_says(tmp_path: Path, scene: str) -> None:
    seconds, fps = 1.2, 25
    path = write_video(
        tmp_path / f"{scene}.mp4", seconds=seconds, width=96, height=72, scene=scene, audio=False
    )

    frames = _rgb_frames(path)
    assert len(frames) == 30
    change = [float(np.abs(frames[i] - frames[i - 1]).mean()) for i in range(1, len(frames))]
    cuts = plan_cuts(seconds, seed=0)
    first_of_shot = [
        i
        for i in range(1, len(frames))
        if bisect.bisect_right(cuts, i / fps) != bisect.bisect_right(cuts, (i - 1) / fps)
    ]
    assert len(first_of_shot) == 2
    within_shots = [c for i, c in enumerate(change, start=1) if i not in first_of_shot]
    assert max(within_shots) > 0  # something moves
    for i in first_of_shot:
        assert change[i - 1] > 2 * max(within_shots)


def test_long_videos_get_a_cut_every_few_seconds() -> None:
    cuts = plan_cuts(600, seed=5)

    assert 40 <= len(cuts) <= 160
    assert all(3.99 <= b - a <= 12.01 for a, b in itertools.pairwise(cuts))
    assert cuts[-1] < 600


def test_same_seed_draws_the_same_picture_and_another_seed_a_different_one(tmp_path: Path) -> None:
    def first_frame(name: str, seed: int) -> npt.NDArray[np.int16]:
        path = tmp_path / name
        write_video(path, seconds=0.2, width=96, height=72, scene="road", seed=seed, audio=False)
        return _rgb_frames(path)[0]

    one, again, other = first_frame("a.mp4", 1), first_frame("b.mp4", 1), first_frame("c.mp4", 2)

    assert np.abs(one - again).mean() < 0.5
    assert np.abs(one - other).mean() > 2


def test_speech_like_audio_has_voiced_bursts_and_pauses_but_no_white_noise(tmp_path: Path) -> None:
    path = write_video(tmp_path / "speech.m4a", seconds=6.0, video=False, speech_like=True)

    samples = _mono_samples(path)
    db = _window_db(samples, 16_000)
    loud = db > db.max() - 20
    quiet = db < db.max() - 35
    assert db.max() > -30  # not silence
    assert 0.3 < loud.mean() < 0.9
    assert quiet.mean() > 0.1
    assert np.count_nonzero(loud[1:] & ~loud[:-1]) >= 8  # many separate bursts
    spectrum = np.abs(np.fft.rfft(samples)) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / 16_000)
    assert spectrum[freqs > 4500].sum() / spectrum.sum() < 0.05  # voiced, not hiss


def test_non_speech_audio_is_a_steady_sound(tmp_path: Path) -> None:
    path = write_video(tmp_path / "tone.m4a", seconds=3.0, video=False, speech_like=False)

    db = _window_db(_mono_samples(path), 16_000)[5:-5]  # skip the encoder's edges
    assert db.max() > -30
    assert db.max() - db.min() < 6


@pytest.mark.parametrize(
    "changes",
    [
        {"width": 161},
        {"height": 8},
        {"scene": "underwater"},
        {"seconds": 0},
        {"audio": False, "video": False},
        {"sample_rate": 12_345},
    ],
)
def test_write_video_refuses_arguments_it_cannot_honour(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    arguments: dict[str, Any] = {"seconds": 1.0, **changes}
    with pytest.raises(ValueError):
        write_video(tmp_path / "bad.mp4", **arguments)
    assert not list(tmp_path.glob("*bad*"))


def test_write_video_refuses_a_name_without_a_video_extension(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.mp4"):
        write_video(tmp_path / "clip.avi", seconds=1.0)


def test_corrupt_copy_is_a_shorter_prefix_that_does_not_decode_to_the_end(tmp_path: Path) -> None:
    source = write_video(tmp_path / "whole.mp4", seconds=2.0, width=96, height=72)
    broken = write_corrupt_copy(source, tmp_path / "broken.mp4", keep_fraction=0.3)

    whole_bytes, broken_bytes = source.read_bytes(), broken.read_bytes()
    assert len(broken_bytes) < len(whole_bytes)
    assert whole_bytes.startswith(broken_bytes)
    decoded = 0
    try:
        with av.open(str(broken)) as container:
            for _ in container.decode(video=0):
                decoded += 1
    except av.FFmpegError:
        pass
    assert decoded < len(_rgb_frames(source))


def test_corrupt_copy_refuses_a_fraction_that_would_not_truncate(tmp_path: Path) -> None:
    source = write_not_media(tmp_path / "a.mp4")
    with pytest.raises(ValueError):
        write_corrupt_copy(source, tmp_path / "b.mp4", keep_fraction=1.0)


def test_not_media_file_has_a_video_name_but_pyav_refuses_it(tmp_path: Path) -> None:
    path = write_not_media(tmp_path / "holiday.mp4")

    assert path.stat().st_size > 0
    with pytest.raises(av.FFmpegError):
        av.open(str(path)).close()


def test_srt_round_trips_times_and_russian_text(tmp_path: Path) -> None:
    cues = [
        (0.0, 1.25, "Привет! Сегодня готовим борщ."),
        (1.5, 2.75, "Нарезаем свёклу\nи морковь."),
        (3661.5, 3662.0, "Конец."),
    ]
    path = write_srt(tmp_path / "clip.srt", cues)

    raw = path.read_bytes()
    assert raw.startswith(b"1\n00:00:00,000 --> 00:00:01,250\n")  # no byte-order mark
    assert "01:01:01,500 --> 01:01:02,000" in raw.decode("utf-8")
    segments = read_subtitles(path)
    assert [(s.start, s.end, s.text) for s in segments] == [
        (0.0, 1.25, "Привет! Сегодня готовим борщ."),
        (1.5, 2.75, "Нарезаем свёклу и морковь."),
        (3661.5, 3662.0, "Конец."),
    ]


def test_srt_refuses_a_cue_that_ends_before_it_starts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cue 2"):
        write_srt(tmp_path / "bad.srt", [(0.0, 1.0, "да"), (2.0, 1.5, "нет")])


def test_english_talk_is_reproducible_sentences_of_the_asked_length() -> None:
    talk = english_talk(170, seed=4)
    assert talk == english_talk(170, seed=4) != english_talk(170, seed=5)
    assert 170 <= len(talk.split()) < 190
    assert talk.endswith(".") and talk[0].isupper()
