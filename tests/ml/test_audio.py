"""Audio features on generated sound: speech against a steady chord, and bad media."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import ml.audio
from ml.audio import audio_feature_keys, audio_features
from ml.media import MediaError
from ml.synthetic_media import write_video
from tests.ml.conftest import MediaSet


@pytest.fixture(scope="module")
def chord(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chord") / "chord.m4a"
    return write_video(path, seconds=2.0, video=False, speech_like=False)


def test_speech_is_told_from_music(media: MediaSet, chord: Path) -> None:
    speech = audio_features(media.audio_only)
    music = audio_features(chord)
    assert speech["speech_ratio"] > 0.5
    assert music["speech_ratio"] < 0.1
    # Speech pauses between words; the chord never stops.
    assert speech["silence_ratio"] > music["silence_ratio"] == 0.0
    assert speech["loudness_std_db"] > 3 * music["loudness_std_db"]


def test_features_have_stable_keys_and_sane_values(media: MediaSet) -> None:
    values = audio_features(media.talk)
    assert tuple(values) == audio_feature_keys()
    assert all(math.isfinite(value) for value in values.values())
    assert 0.0 <= values["speech_ratio"] <= 1.0
    assert 0.0 <= values["silence_ratio"] <= 1.0
    assert -100.0 <= values["loudness_p10_db"] <= values["loudness_p90_db"] <= 0.0
    assert values["loudness_p10_db"] <= values["loudness_mean_db"] <= values["loudness_p90_db"]
    assert all(values[f"mel{band:02d}_std"] >= 0.0 for band in range(16))


def test_the_chord_energy_sits_in_the_low_mel_bands(chord: Path) -> None:
    values = audio_features(chord)
    low = max(values[f"mel{band:02d}_mean"] for band in range(4))
    high = max(values[f"mel{band:02d}_mean"] for band in range(12, 16))
    assert low > high + 30  # dB


def test_chunked_processing_matches_one_pass(
    media: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = audio_features(media.talk)
    # 0.8 s chunks: a multiple of the 50 ms loudness frame, the 10 ms hop and the VAD window.
    monkeypatch.setattr(ml.audio, "_CHUNK_SAMPLES", 12_800)
    chunked = audio_features(media.talk)
    for key in ("loudness_mean_db", "loudness_p90_db", "silence_ratio"):
        assert chunked[key] == pytest.approx(whole[key], abs=1e-3)
    assert chunked["speech_ratio"] == pytest.approx(whole["speech_ratio"], abs=0.05)
    assert chunked["mel05_mean"] == pytest.approx(whole["mel05_mean"], abs=0.5)


def test_progress_rises_to_the_end(media: MediaSet, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ml.audio, "_CHUNK_SAMPLES", 12_800)
    reported: list[float] = []
    audio_features(media.talk, progress=reported.append)
    assert len(reported) >= 3
    assert reported == sorted(reported)
    assert reported[-1] == 1.0


def test_a_truncated_file_gives_features_of_what_is_there(media: MediaSet) -> None:
    values = audio_features(media.truncated)
    assert tuple(values) == audio_feature_keys()
    assert 0.0 <= values["speech_ratio"] <= 1.0


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("silent_video", "no audio stream"),
        ("zero_duration", "no audio stream"),
        ("not_media", "not a video or audio file"),
    ],
)
def test_files_without_sound_are_refused(media: MediaSet, kind: str, message: str) -> None:
    with pytest.raises(MediaError, match=message):
        audio_features(getattr(media, kind))
