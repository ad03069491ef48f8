"""Spoken clips made with espeak-ng, for testing and showing real speech recognition.

espeak-ng (a Debian package, no network) speaks the text; the speech can have
silence before and after it, and is written as a WAV file or muxed with a picture
from ``write_video`` into an H.264/AAC file. A quiet noise floor lies under the
silence, as under any recording: Whisper is known to invent text in silence, and
the tests check that voice activity detection keeps it from doing so.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from ml.synthetic_media import write_video

__all__ = [
    "SPEECH_RATE",
    "SpeechUnavailable",
    "english_talk",
    "espeak_available",
    "filler_sentences",
    "write_speech",
]

SPEECH_RATE = 16_000  # what Whisper listens at
_NOISE_FLOOR = 10 ** (-70 / 20)  # -70 dBFS
_AAC_FRAME = 1024


_SUBJECTS = ("the chef", "our team", "the driver", "a young pilot", "the teacher", "my neighbour")
_VERBS = ("talks about", "shows us", "prepares", "remembers", "compares", "explains")
_OBJECTS = (
    "a tomato soup with fresh bread",
    "the football match on Sunday",
    "the road across the mountains",
    "a concert in the old theatre",
    "the results of the experiment",
    "an old red car",
    "the weather for the coming week",
)
_TAILS = ("", " in the morning", " on live television", " in front of the audience", " again")


class SpeechUnavailable(RuntimeError):
    """espeak-ng is not installed (Debian: apt-get install espeak-ng)."""


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def english_talk(words: int, *, seed: int = 0) -> str:
    """Plain English sentences of about ``words`` words, the same for the same seed.

    espeak-ng speaks them at about 170 words a minute at its default rate, pauses included.
    """
    return filler_sentences(words, (_SUBJECTS, _VERBS, _OBJECTS, _TAILS), seed=seed)


def filler_sentences(words: int, parts: tuple[Sequence[str], ...], *, seed: int = 0) -> str:
    """Sentences of at least ``words`` words, each one choice from every part, in order.

    The first part is capitalised and the last needs its own leading space ("" for none).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible filler text, not secrets
    sentences: list[str] = []
    count = 0
    while count < words:
        first, *middle, last = (rng.choice(part) for part in parts)
        sentence = " ".join([first.capitalize(), *middle]) + f"{last}."
        sentences.append(sentence)
        count += len(sentence.split())
    return " ".join(sentences)


def _spoken(text: str, voice: str, words_per_minute: int) -> npt.NDArray[np.float32]:
    """espeak-ng's speech of ``text`` as mono float samples at SPEECH_RATE."""
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechUnavailable("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "speech.wav"
        subprocess.run(
            [program, "-v", voice, "-s", str(words_per_minute), "-w", str(wav), "--", text],
            check=True,
            capture_output=True,
            timeout=60,
        )
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SPEECH_RATE)
        chunks: list[npt.NDArray[np.float32]] = []
        with av.open(str(wav)) as container:
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray()[0] for f in resampler.resample(frame)]
        chunks += [f.to_ndarray()[0] for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def write_speech(
    path: Path,
    text: str,
    *,
    silence_before: float = 0.0,
    silence_after: float = 0.3,
    voice: str = "en-us",
    words_per_minute: int = 150,
    scene: str = "studio",
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    seed: int = 0,
) -> Path:
    """Write ``text`` spoken (empty: silence only), as .wav, or as a video (.mp4, .mkv, .mov).

    Raises SpeechUnavailable when espeak-ng is missing and there is text to speak.
    """
    speech = _spoken(text, voice, words_per_minute) if text.strip() else np.zeros(0, np.float32)
    before = np.zeros(round(silence_before * SPEECH_RATE), np.float32)
    after = np.zeros(round(silence_after * SPEECH_RATE), np.float32)
    samples = np.concatenate([before, speech, after])
    if not samples.size:
        raise ValueError("nothing to write: no text and no silence")
    noise = np.random.default_rng(seed).standard_normal(samples.size).astype(np.float32)
    samples = np.clip(samples + noise * _NOISE_FLOOR, -1.0, 1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        if path.suffix.lower() == ".wav":
            _write_wav(partial, samples)
        else:
            _write_video(partial, samples, scene=scene, size=(width, height), fps=fps, seed=seed)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def _write_wav(path: Path, samples: npt.NDArray[np.float32]) -> None:
    with av.open(str(path), mode="w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=SPEECH_RATE, layout="mono")
        pcm = (samples * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = SPEECH_RATE
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def _write_video(
    path: Path,
    samples: npt.NDArray[np.float32],
    *,
    scene: str,
    size: tuple[int, int],
    fps: int,
    seed: int,
) -> None:
    """The picture of ``write_video`` (copied, not re-encoded) with these samples as AAC."""
    seconds = samples.size / SPEECH_RATE
    with tempfile.TemporaryDirectory() as folder:
        picture = write_video(
            Path(folder) / f"picture{path.suffix}",
            seconds=seconds,
            width=size[0],
            height=size[1],
            fps=fps,
            scene=scene,
            seed=seed,
            audio=False,
        )
        options = {"movflags": "+faststart"} if path.suffix.lower() in (".mp4", ".mov") else {}
        with (
            av.open(str(picture)) as source,
            av.open(str(path), mode="w", container_options=options) as target,
        ):
            video_in = source.streams.video[0]
            video_out = target.add_stream_from_template(video_in)
            audio_out = target.add_stream("aac", rate=SPEECH_RATE, layout="mono")
            audio_out.bit_rate = 64_000
            written = 0

            def audio_until(sample: int) -> int:
                done = written
                while done < min(sample, samples.size):
                    chunk = samples[done : done + _AAC_FRAME][None, :]
                    frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                    frame.sample_rate = SPEECH_RATE
                    frame.pts = done
                    frame.time_base = Fraction(1, SPEECH_RATE)
                    target.mux(audio_out.encode(frame))
                    done += chunk.shape[1]
                return done

            # Interleaved by time, so a player can start before the end of the file.
            for packet in source.demux(video_in):
                if packet.dts is None:
                    continue
                if packet.pts is not None and packet.time_base is not None:
                    written = audio_until(round(float(packet.pts * packet.time_base) * SPEECH_RATE))
                packet.stream = video_out
                target.mux(packet)
            audio_until(samples.size)
            target.mux(audio_out.encode(None))
