"""Audio features of a media file: how much of it is speech, how loud, which frequencies.

The audio is decoded to 16 kHz mono and processed a minute at a time, so memory stays
flat however long the file is. Speech is found by the Silero VAD that ships inside
faster-whisper; loudness is the RMS level of 50 ms frames in dBFS; the spectrum is
summarised by log-mel band statistics.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

import av
import av.error
import numpy as np
import numpy.typing as npt

from ml.media import MediaError, open_container

__all__ = ["SAMPLE_RATE", "audio_feature_keys", "audio_features"]

SAMPLE_RATE = 16_000
_CHUNK_SAMPLES = 60 * SAMPLE_RATE  # a multiple of the loudness frame, the hop and VAD window
_LOUDNESS_FRAME = SAMPLE_RATE // 20  # 50 ms
_N_FFT, _HOP = 400, 160  # Whisper's 25 ms window and 10 ms hop
_MEL_BANDS = 16
_SILENCE_DBFS = -45.0
_FLOOR_DBFS = -100.0
# Silero VAD reads 32 ms windows. Its speech probabilities are read with hysteresis:
# speech starts at 0.5 and lasts until the probability falls below 0.35.
_VAD_WINDOW = 512
_SPEECH_ON, _SPEECH_OFF = 0.5, 0.35
# Each chunk is fed to the VAD after the last second of the one before, so its recurrent
# state has warmed up by the chunk boundary.
_VAD_CONTEXT = 32 * _VAD_WINDOW

Samples = npt.NDArray[np.float32]
PathLike = str | os.PathLike[str]


def audio_feature_keys() -> tuple[str, ...]:
    """The keys of `audio_features`' result, in a fixed order."""
    return (
        "speech_ratio",
        "loudness_mean_db",
        "loudness_std_db",
        "loudness_p10_db",
        "loudness_p90_db",
        "silence_ratio",
        *(f"mel{i:02d}_{stat}" for i in range(_MEL_BANDS) for stat in ("mean", "std")),
    )


@functools.lru_cache(maxsize=1)
def _mel_filters() -> npt.NDArray[np.float64]:
    from faster_whisper.feature_extractor import FeatureExtractor

    filters = FeatureExtractor.get_mel_filters(SAMPLE_RATE, _N_FFT, n_mels=_MEL_BANDS)
    return np.asarray(filters, dtype=np.float64)


@functools.lru_cache(maxsize=1)
def _hann() -> npt.NDArray[np.float64]:
    return np.hanning(_N_FFT + 1)[:-1]


def _speech_probabilities(samples: Samples) -> npt.NDArray[np.float32]:
    """Silero's speech probability for each 32 ms window of `samples` (zero-padded)."""
    from faster_whisper.vad import get_vad_model

    padded = np.pad(samples, (0, -len(samples) % _VAD_WINDOW))
    if len(padded) == 0:
        return np.empty(0, dtype=np.float32)
    return np.asarray(get_vad_model()(padded), dtype=np.float32).reshape(-1)


def _loudness_dbfs(chunk: Samples) -> npt.NDArray[np.float64]:
    usable = len(chunk) - len(chunk) % _LOUDNESS_FRAME
    if usable == 0:
        return np.empty(0)
    frames = chunk[:usable].astype(np.float64).reshape(-1, _LOUDNESS_FRAME)
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    return np.maximum(20 * np.log10(np.maximum(rms, 1e-12)), _FLOOR_DBFS)


def _log_mel(chunk: Samples) -> npt.NDArray[np.float64]:
    """Log-mel energies (dB), one row per 10 ms frame."""
    if len(chunk) < _N_FFT:
        return np.empty((0, _MEL_BANDS))
    windows = np.lib.stride_tricks.sliding_window_view(chunk, _N_FFT)[::_HOP]
    spectrum = np.abs(np.fft.rfft(windows * _hann(), axis=1)) ** 2
    mel = spectrum @ _mel_filters().T
    return 10 * np.log10(np.maximum(mel, 1e-10))


class _Accumulator:
    def __init__(self) -> None:
        self.samples = 0
        self.speech = 0
        self.in_speech = False
        self.vad_context: Samples = np.empty(0, dtype=np.float32)
        self.loudness: list[npt.NDArray[np.float64]] = []
        self.mel_sum = np.zeros(_MEL_BANDS)
        self.mel_square = np.zeros(_MEL_BANDS)
        self.mel_frames = 0

    def add(self, chunk: Samples) -> None:
        self.samples += len(chunk)
        self._add_speech(chunk)
        self.loudness.append(_loudness_dbfs(chunk).astype(np.float32))
        mel = _log_mel(chunk)
        self.mel_sum += mel.sum(axis=0)
        self.mel_square += (mel * mel).sum(axis=0)
        self.mel_frames += len(mel)

    def _add_speech(self, chunk: Samples) -> None:
        probabilities = _speech_probabilities(np.concatenate([self.vad_context, chunk]))
        self.vad_context = chunk[-_VAD_CONTEXT:] if len(chunk) % _VAD_WINDOW == 0 else chunk[:0]
        windows = -(-len(chunk) // _VAD_WINDOW)  # the chunk's own, after the context
        for probability in probabilities[len(probabilities) - windows :]:
            if self.in_speech:
                self.in_speech = probability >= _SPEECH_OFF
            else:
                self.in_speech = probability >= _SPEECH_ON
            self.speech += _VAD_WINDOW if self.in_speech else 0

    def features(self) -> dict[str, float]:
        levels = np.concatenate(self.loudness) if self.loudness else np.empty(0)
        if len(levels) == 0:
            levels = np.asarray([_FLOOR_DBFS])
        count = max(1, self.mel_frames)
        mel_mean = self.mel_sum / count
        mel_std = np.sqrt(np.maximum(self.mel_square / count - mel_mean**2, 0.0))
        values: dict[str, float] = {
            "speech_ratio": min(1.0, self.speech / self.samples) if self.samples else 0.0,
            "loudness_mean_db": float(levels.mean()),
            "loudness_std_db": float(levels.std()),
            "loudness_p10_db": float(np.percentile(levels, 10)),
            "loudness_p90_db": float(np.percentile(levels, 90)),
            "silence_ratio": float(np.mean(levels < _SILENCE_DBFS)),
        }
        for band in range(_MEL_BANDS):
            values[f"mel{band:02d}_mean"] = float(mel_mean[band])
            values[f"mel{band:02d}_std"] = float(mel_std[band])
        return {key: round(values[key], 6) for key in audio_feature_keys()}


def _decoded_chunks(container: Any, stream: Any) -> Iterator[Samples]:
    """16 kHz mono float samples in chunks of `_CHUNK_SAMPLES` (the last one shorter).

    Packets that cannot be decoded are skipped, so a damaged file yields what it holds.
    """
    # Whole seconds out of the resampler: a few dozen frames a minute to handle in Python
    # instead of one per compressed frame (about a thousand).
    resampler = av.AudioResampler(
        format="flt", layout="mono", rate=SAMPLE_RATE, frame_size=SAMPLE_RATE
    )
    pending: list[Samples] = []
    held = 0

    def frames() -> Iterator[Any]:
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except (av.error.InvalidDataError, av.error.UndefinedError):
                continue
            for frame in decoded:
                yield from resampler.resample(frame)
        yield from resampler.resample(None)

    for frame in frames():
        samples = frame.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        pending.append(samples)
        held += len(samples)
        while held >= _CHUNK_SAMPLES:
            joined = np.concatenate(pending)
            yield joined[:_CHUNK_SAMPLES]
            rest = joined[_CHUNK_SAMPLES:]
            pending, held = [rest], len(rest)
    if held:
        yield np.concatenate(pending)


def audio_features(
    path: PathLike, *, progress: Callable[[float], None] | None = None
) -> dict[str, float]:
    """Speech ratio, loudness and log-mel statistics of the first audio stream of `path`.

    Keys are those of `audio_feature_keys()`. Raises MediaError for a file without an
    audio stream or with no decodable audio.
    """
    totals = _Accumulator()
    with open_container(path) as container:
        if not container.streams.audio:
            raise MediaError("no audio stream")
        stream = container.streams.audio[0]
        duration = (container.duration or 0) / av.time_base
        try:
            for chunk in _decoded_chunks(container, stream):
                totals.add(chunk)
                if progress is not None and duration > 0:
                    progress(min(1.0, totals.samples / SAMPLE_RATE / duration))
        except av.error.FFmpegError as exc:
            if totals.samples == 0:
                raise MediaError(f"the audio cannot be decoded: {exc}") from None
    if totals.samples == 0:
        raise MediaError("no audio could be decoded")
    if progress is not None:
        progress(1.0)
    return totals.features()
