"""Synthetic sound: speech-like syllables or a steady chord, rendered in chunks.

Both voices are pure functions of the sample index (plus a seeded noise floor read
in order), so audio can be produced alongside the video a frame at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

# Rough formant frequencies (Hz) of five vowels: F1, F2, F3.
_VOWELS = (
    (800.0, 1200.0, 2500.0),
    (500.0, 900.0, 2400.0),
    (350.0, 800.0, 2300.0),
    (500.0, 1800.0, 2500.0),
    (300.0, 2200.0, 3000.0),
)
_FORMANT_WEIGHTS = np.array([1.0, 0.6, 0.25])
_FORMANT_WIDTHS = np.array([90.0, 120.0, 160.0])


def _syllable_times(seconds: float, rng: np.random.Generator) -> Iterator[tuple[float, float]]:
    """(start, length) of each syllable: 1-4 syllables a word, 3-7 words a phrase."""
    at = 0.15
    while True:
        for _word in range(int(rng.integers(3, 8))):
            for _syllable in range(int(rng.integers(1, 5))):
                length = float(rng.uniform(0.10, 0.25))
                if at + length > seconds - 0.05:
                    return
                yield at, length
                at += length + float(rng.uniform(0.02, 0.06))
            at += float(rng.uniform(0.08, 0.2))
        at += float(rng.uniform(0.4, 0.9))


class SpeechVoice:
    """Voiced syllables of 100-250 ms grouped into words, with short pauses between words
    and longer ones between phrases, so a voice-activity detector sees speech and gaps."""

    def __init__(self, total: int, rate: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 3])
        self.rate = rate
        self.noise = np.random.default_rng([seed, 4])
        timing = list(_syllable_times(total / rate, rng))
        starts = [int(at * rate) for at, _ in timing]
        lengths = [int(length * rate) for _, length in timing]
        count = len(starts)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.longest = int(self.lengths.max()) if count else 0
        self.f0 = rng.uniform(100, 220, count)
        self.glide = rng.uniform(-30, 20, count)
        self.vowel = rng.integers(0, len(_VOWELS), count)
        self.loudness = rng.uniform(0.15, 0.3, count)

    def render(self, start: int, count: int) -> npt.NDArray[np.float32]:
        out = self.noise.normal(
            0.0, 0.002, count
        )  # room tone: a real recording is never digital silence
        end = start + count
        first = int(np.searchsorted(self.starts, start - self.longest, "left"))
        last = int(np.searchsorted(self.starts, end, "left"))
        for i in range(first, last):
            onset, length = int(self.starts[i]), int(self.lengths[i])
            a, b = max(start, onset), min(end, onset + length)
            if a >= b:
                continue
            t = (np.arange(a, b) - onset) / self.rate
            duration = length / self.rate
            f0 = self.f0[i]
            harmonics = np.arange(1, int(min(4000.0, 0.45 * self.rate) // f0) + 1)
            freqs = harmonics * f0
            formants = np.asarray(_VOWELS[int(self.vowel[i])])
            peaks = np.exp(-0.5 * ((freqs[:, None] - formants[None, :]) / _FORMANT_WIDTHS) ** 2)
            amps = peaks @ _FORMANT_WEIGHTS + 0.3 / harmonics
            amps /= amps.sum()
            phase = 2 * np.pi * (f0 * t + 0.5 * self.glide[i] * t * t / duration)
            wave = amps @ np.sin(np.outer(harmonics, phase))
            envelope = np.sin(np.pi * t / duration) ** 0.7
            out[a - start : b - start] += self.loudness[i] * envelope * wave * 3.0
        return np.clip(out, -1.0, 1.0).astype(np.float32)


class ChordVoice:
    """A steady A-minor chord with a slow tremolo: sound that is clearly not speech."""

    _freqs = np.array([220.0, 261.63, 329.63, 440.0])

    def __init__(self, rate: int) -> None:
        self.rate = rate

    def render(self, start: int, count: int) -> npt.NDArray[np.float32]:
        t = np.arange(start, start + count) / self.rate
        tone = np.sin(2 * np.pi * np.outer(self._freqs, t)).sum(axis=0)
        return (0.08 * (1 + 0.15 * np.sin(2 * np.pi * 0.5 * t)) * tone).astype(np.float32)
