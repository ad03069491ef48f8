"""Transcription with a tiny Whisper model built by the tests, and embedded subtitles.

The tiny model's words are meaningless, so these tests pin the mechanics: timings
within the audio, the recorded settings, progress, loading once, and the errors.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import faster_whisper
import huggingface_hub.constants
import pytest

from ml.asr import (
    AsrSettings,
    _load_whisper,
    embedded_subtitles,
    load_whisper,
    resolved_compute_type,
    transcribe,
    word_error_rate,
)
from ml.errors import ModelUnavailable
from ml.media import MediaError
from ml.synthetic_media import write_srt
from tests.ml.conftest import MediaSet


@pytest.fixture
def asr(tiny_whisper: Path) -> AsrSettings:
    return AsrSettings(model=str(tiny_whisper), device="cpu", vad_filter=False)


def test_segments_lie_within_the_audio_and_the_producer_is_recorded(
    media: MediaSet, asr: AsrSettings
) -> None:
    transcript = transcribe(media.talk, asr)
    assert transcript.duration == pytest.approx(2.0, abs=0.1)
    assert transcript.segments
    for segment in transcript.segments:
        assert 0.0 <= segment.start <= segment.end <= transcript.duration
        assert segment.text.strip() == segment.text != ""
    assert transcript.language == "ru"
    assert transcript.producer == {
        "engine": "faster-whisper",
        "engine_version": faster_whisper.__version__,
        "model": asr.model,
        "device": "cpu",
        "compute_type": "int8",
        "language": "ru",
        "detected_language": "ru",
        "language_probability": 1.0,
        "vad_filter": False,
        "beam_size": 5,
        "batch_size": 0,
    }


def test_progress_rises_to_the_end(media: MediaSet, asr: AsrSettings) -> None:
    reported: list[float] = []
    transcribe(media.talk, asr, progress=reported.append)
    assert len(reported) >= 2
    assert reported == sorted(reported)
    assert all(0.0 <= value <= 1.0 for value in reported)
    assert reported[-1] == 1.0


def test_the_model_is_loaded_once_for_many_videos(media: MediaSet, asr: AsrSettings) -> None:
    _load_whisper.cache_clear()
    transcribe(media.talk, asr)
    transcribe(media.audio_only, asr)
    info = _load_whisper.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert load_whisper(asr) is load_whisper(AsrSettings(**vars(asr)))


def test_sequential_and_batched_recognition_share_one_loaded_model(asr: AsrSettings) -> None:
    batched = replace(asr, vad_filter=True, batch_size=8, beam_size=1, language="en")
    assert load_whisper(batched) is load_whisper(asr)


def test_batched_recognition_needs_the_voice_activity_filter(asr: AsrSettings) -> None:
    with pytest.raises(ValueError, match="voice-activity filter"):
        replace(asr, vad_filter=False, batch_size=8)
    with pytest.raises(ValueError, match="batch_size"):
        replace(asr, batch_size=-1)


def test_language_is_detected_when_not_forced(media: MediaSet, asr: AsrSettings) -> None:
    detecting = AsrSettings(model=asr.model, device="cpu", language="detect", vad_filter=True)
    transcript = transcribe(media.talk, detecting)
    assert detecting.requested_language is None
    assert transcript.producer["language"] is None
    assert transcript.producer["vad_filter"] is True
    assert transcript.language == transcript.producer["detected_language"] == "ru"
    assert all(s.end <= transcript.duration for s in transcript.segments)


def test_a_truncated_file_gives_what_can_be_decoded(media: MediaSet, asr: AsrSettings) -> None:
    transcript = transcribe(media.truncated, asr)
    assert 0.0 < transcript.duration <= 2.1
    assert all(0.0 <= s.start <= s.end <= transcript.duration for s in transcript.segments)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("silent_video", "no audio stream"),
        ("not_media", "not a video or audio file"),
        ("zero_duration", "no audio stream"),
    ],
)
def test_media_without_audio_is_refused(
    media: MediaSet, asr: AsrSettings, kind: str, message: str
) -> None:
    with pytest.raises(MediaError, match=message):
        transcribe(getattr(media, kind), asr)


def test_a_model_name_that_is_not_available_offline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    settings = AsrSettings(model="small", device="cpu", download_root=str(tmp_path))
    with pytest.raises(ModelUnavailable, match="cannot be downloaded from here") as caught:
        load_whisper(settings)
    assert "'small'" in str(caught.value)


def test_a_directory_without_a_model(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ModelUnavailable, match=r"lacks model\.bin, tokenizer\.json"):
        load_whisper(AsrSettings(model=str(tmp_path), device="cpu"))
    with pytest.raises(ModelUnavailable, match="there is no directory"):
        load_whisper(AsrSettings(model=str(tmp_path / "missing"), device="cpu"))


def test_a_damaged_model_file(tmp_path: Path, tiny_whisper: Path) -> None:
    broken = shutil.copytree(tiny_whisper, tmp_path / "broken")
    (broken / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="cannot be loaded"):
        load_whisper(AsrSettings(model=str(broken), device="cpu"))


def test_compute_type_follows_the_device() -> None:
    assert resolved_compute_type(AsrSettings(device="cpu")) == "int8"
    assert resolved_compute_type(AsrSettings(device="cuda")) == "float16"
    assert resolved_compute_type(AsrSettings(device="cuda", compute_type="int8_float16")) == (
        "int8_float16"
    )


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg muxes the subtitle stream")
def test_subtitles_inside_the_file_are_read(media: MediaSet, tmp_path: Path) -> None:
    srt = write_srt(
        tmp_path / "cues.srt",
        [(0.2, 0.9, "Привет, <i>мир</i>!"), (1.0, 1.8, "Вторая строка\nи еще одна")],
    )
    muxed = tmp_path / "with-subtitles.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", str(media.talk), "-i", str(srt)),
            *("-map", "0", "-map", "1", "-c", "copy", "-c:s", "mov_text", str(muxed)),
        ],
        check=True,
        timeout=60,
    )
    cues = embedded_subtitles(muxed)
    assert [cue.text for cue in cues] == ["Привет, мир!", "Вторая строка и еще одна"]
    assert [(cue.start, cue.end) for cue in cues] == [(0.2, 0.9), (1.0, 1.8)]


def test_no_subtitle_stream_gives_no_cues(media: MediaSet) -> None:
    assert embedded_subtitles(media.talk) == []
    with pytest.raises(MediaError, match="not a video or audio file"):
        embedded_subtitles(media.not_media)


def test_word_error_rate_counts_substitutions_insertions_and_deletions() -> None:
    assert word_error_rate("the cat sat", "The cat, sat.") == 0.0
    assert word_error_rate("the cat sat", "the dog sat") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "the cat sat down") == pytest.approx(1 / 3)
    assert word_error_rate("the cat sat", "cat") == pytest.approx(2 / 3)
    assert word_error_rate("Кот сидел.", "кот, сидел") == 0.0
