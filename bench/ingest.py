"""Time each media-pipeline step on a generated video and print a Markdown table.

    .venv/bin/python -m bench.ingest                 # 10-minute 720p video, 3 runs each
    .venv/bin/python -m bench.ingest --minutes 1 --repeat 2
    .venv/bin/python -m bench.ingest --whisper-model /path/to/faster-whisper-small

The video (H.264 1280x720, 25 fps, speech-like audio) is written once to var/bench/.
In the same run, keyframe sampling is compared with `ffmpeg -i f -f null -` on the same
file (the cost of decoding it at all), and `ml.asr.transcribe` with faster-whisper's own
`WhisperModel.transcribe` on the same file with the same loaded model. Without
--whisper-model the ASR rows use the tiny random model of tests/ml/tiny_whisper.py, so
they measure the machinery around the model (decoding, features, VAD), not recognition.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    markdown_table,
    min_max,
    peak_rss_mb,
    timed,
    timed_with_cpu,
    traced_peak_mb,
)
from ml.asr import AsrSettings, load_whisper, transcribe
from ml.audio import audio_features
from ml.frames import FrameSettings, analyse_frames
from ml.media import probe_media
from ml.summarize import summarize
from ml.synthetic_media import write_video
from ml.text import process_text

BENCH_DIR = ROOT / "var" / "bench"


@dataclass
class Row:
    step: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    peak_traced_mb: float | None = None
    rss_mb: float = 0.0

    def add(self, timing: tuple[float, float]) -> None:
        self.seconds.append(timing[0])
        self.cpu_seconds.append(timing[1])

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds)


def _measure(step: str, run: Callable[[], object], repeat: int, *, traced: bool = True) -> Row:
    row = Row(step)
    for _ in range(repeat):
        row.add(timed_with_cpu(run))
    if traced:
        row.peak_traced_mb = traced_peak_mb(run)
    row.rss_mb = peak_rss_mb()
    return row


def _interleaved(
    first: tuple[str, Callable[[], object]],
    second: tuple[str, Callable[[], object]],
    repeat: int,
) -> tuple[Row, Row]:
    """Time two ways of doing the same work alternately, so load changes hit both alike.

    The order flips on every round (A B, B A, A B, ...): whichever runs second in a pair
    tends to be slower (caches, freed memory), and flipping spreads that evenly.
    """
    a, b = Row(first[0]), Row(second[0])
    for round_ in range(repeat):
        pair = ((a, first[1]), (b, second[1]))
        for row, run in pair if round_ % 2 == 0 else reversed(pair):
            row.add(timed_with_cpu(run))
    a.rss_mb = b.rss_mb = peak_rss_mb()
    return a, b


def _ffmpeg(path: Path, *extra: str) -> Callable[[], object]:
    command = ["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), *extra, "-f", "null", "-"]
    return lambda: subprocess.run(command, check=True)


def bench_video(minutes: float) -> Path:
    label = f"{minutes:g}".replace(".", "_")
    path = BENCH_DIR / f"talk-{label}min-720p.mp4"
    if not path.exists():
        print(f"writing {path.relative_to(ROOT)} (once) ...", flush=True)
        _, seconds = timed(
            lambda: write_video(
                path,
                seconds=minutes * 60,
                width=1280,
                height=720,
                fps=25,
                scene="studio",
                seed=7,
                speech_like=True,
            )
        )
        print(f"  written in {seconds:.0f} s", flush=True)
    return path


def tiny_whisper_model() -> Path:
    target = BENCH_DIR / "tiny-whisper"
    if not (target / "model.bin").exists():
        from tests.ml.tiny_whisper import build_tiny_whisper

        build_tiny_whisper(target)
    return target


_SUBJECTS = ("команда", "тренер", "болельщик", "повар", "водитель", "ученый", "артист")
_VERBS = ("рассказал о", "показал", "обсуждает", "готовит", "вспоминает", "сравнивает")
_OBJECTS = (
    "новый матч на стадионе",
    "рецепт борща с капустой",
    "дорогу через горы",
    "концерт в большом зале",
    "результаты эксперимента",
    "старый автомобиль",
    "прогноз погоды на неделю",
)
_TAILS = ("", " вчера вечером", " в прямом эфире", " перед зрителями", " еще раз")


def long_transcript(minutes: float, *, seed: int = 0) -> str:
    """Russian-looking speech at about 130 words a minute, in sentences."""
    rng = random.Random(seed)  # noqa: S311 - reproducible filler text, not secrets
    sentences: list[str] = []
    words = 0
    while words < minutes * 130:
        sentence = (
            f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_VERBS)} "
            f"{rng.choice(_OBJECTS)}{rng.choice(_TAILS)}."
        )
        sentences.append(sentence)
        words += len(sentence.split())
    return " ".join(sentences)


def print_table(rows: list[Row], media_seconds: float) -> None:
    headers = [
        "step",
        "runs",
        "median s",
        "min-max s",
        "median CPU s",
        "x real time",
        "traced peak MB",
        "RSS MB",
    ]
    cells = []
    for row in rows:
        realtime = media_seconds / row.median if row.median > 0 else float("inf")
        traced = "-" if row.peak_traced_mb is None else f"{row.peak_traced_mb:.1f}"
        cells.append(
            [
                row.step,
                str(len(row.seconds)),
                f"{row.median:.2f}",
                min_max(row.seconds),
                f"{row.cpu_median:.2f}",
                f"{realtime:.0f}x",
                traced,
                f"{row.rss_mb:.0f}",
            ]
        )
    markdown_table(headers, cells, align=["---", *["---:"] * (len(headers) - 1)])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=10.0, help="video length (10)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (3)")
    parser.add_argument("--whisper-model", default="", help="faster-whisper model or directory")
    parser.add_argument("--every-nth", type=int, default=10, help="keyframe sampling step (10)")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        parser.error("ffmpeg is needed for the decode comparison")
    repeat = max(1, args.repeat)

    video = bench_video(args.minutes)
    info = probe_media(video)
    rows: list[Row] = [_measure("probe (PyAV)", lambda: probe_media(video), repeat)]

    frame_settings = FrameSettings(every_nth=args.every_nth)
    ffmpeg_all, frames = _interleaved(
        ("ffmpeg -i f -f null - (video+audio decode)", _ffmpeg(video)),
        (
            f"keyframes + visual features, every {args.every_nth}th frame",
            lambda: analyse_frames(video, frame_settings),
        ),
        repeat,
    )
    ffmpeg_video = _measure(
        "ffmpeg -an (video decode only)", _ffmpeg(video, "-an"), repeat, traced=False
    )
    frames.peak_traced_mb = traced_peak_mb(lambda: analyse_frames(video, frame_settings))
    rows += [ffmpeg_all, ffmpeg_video, frames]

    rows.append(
        _measure("audio features (VAD, loudness, log-mel)", lambda: audio_features(video), repeat)
    )

    transcript = long_transcript(args.minutes)
    rows.append(
        _measure(
            f"text: lemmas + stop words ({len(transcript.split())} words)",
            lambda: process_text(transcript),
            repeat,
        )
    )
    rows.append(_measure("text: TextRank summary", lambda: summarize(transcript), repeat))

    model = args.whisper_model or str(tiny_whisper_model())
    settings = AsrSettings(model=model, device="cpu", language="ru", vad_filter=True)
    whisper, load_seconds = timed(lambda: load_whisper(settings))
    model_label = "tiny random model" if not args.whisper_model else Path(model).name

    def direct() -> list[Any]:
        segments, _ = whisper.transcribe(
            str(video),
            language=settings.requested_language,
            vad_filter=settings.vad_filter,
            beam_size=settings.beam_size,
        )
        return list(segments)

    direct_row, ours_row = _interleaved(
        (f"faster-whisper WhisperModel.transcribe ({model_label})", direct),
        (f"ml.asr.transcribe ({model_label})", lambda: transcribe(video, settings)),
        repeat,
    )
    rows += [direct_row, ours_row]

    print()
    print(
        f"Video: {info.duration_seconds / 60:.1f} min, {info.width}x{info.height} "
        f"{info.video_codec} {info.fps:g} fps + {info.audio_codec}, "
        f"{info.size_bytes / 2**20:.1f} MiB; {repeat} runs per step; "
        f"Whisper model loaded in {load_seconds:.2f} s (once)."
    )
    print()
    print_table(rows, info.duration_seconds)
    print()
    paired = sorted(f / d for f, d in zip(frames.seconds, ffmpeg_all.seconds, strict=True))
    print(
        "- Keyframe sampling / `ffmpeg -i f -f null -` on the same file (target <= 1.25x): "
        f"{frames.median / ffmpeg_all.median:.2f}x wall-clock (run by run "
        f"{paired[0]:.2f}-{paired[-1]:.2f}x), {frames.cpu_median / ffmpeg_all.cpu_median:.2f}x "
        f"CPU time; against a video-only decode (-an): "
        f"{frames.median / ffmpeg_video.median:.2f}x wall-clock, "
        f"{frames.cpu_median / ffmpeg_video.cpu_median:.2f}x CPU time."
    )
    wall = (ours_row.median - direct_row.median) / direct_row.median * 100
    cpu = (ours_row.cpu_median - direct_row.cpu_median) / direct_row.cpu_median * 100
    print(
        "- ml.asr.transcribe over faster-whisper's WhisperModel.transcribe (target <= 5%): "
        f"{wall:+.1f}% wall-clock, {cpu:+.1f}% CPU time."
    )
    print(f"- Peak RSS of this process: {peak_rss_mb():.0f} MB.")


if __name__ == "__main__":
    main()
