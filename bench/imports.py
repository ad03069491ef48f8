"""Bulk import benchmark: `manage.py import_videos` on generated manifests; prints a table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_db .venv/bin/python -m bench.imports
    ... -m bench.imports --sizes 10000 100000 --repeats 3
    ... -m bench.imports --with-ids          # rows carry a video_id (the Rutube layout)
    LABEL_STUDIO_TOKEN=... ... -m bench.imports --label-studio http://127.0.0.1:8090

Each manifest row has a title, a 300-character Russian description and one tag. With
--label-studio, a running Label Studio imports the same 10,000 rows through its API in
the same run (bench/label_studio.py), tasks alone and with a prediction each, and ours
are compared with the latter; without it, with the 751 tasks/s Label Studio 1.23.2
reached on another machine (its API, PostgreSQL, a prediction each), which says less:
the rate follows the machine. Manifests are written once to var/bench/ and reused.
Every import runs in a fresh process with DEBUG off, as in production, timed from inside
(the command alone, without Python's start, printing a line per row as it does by
default); the rates of its second and last tenth of rows show whether it slows as the
project grows (PostgreSQL's CPU by tenths is printed as it goes), and its peak resident
memory (VmHWM) is its own. The CPU time of the importer and of its PostgreSQL backend
(read from /proc, on this machine) tells the cost apart from the load of the machine.
After each import the same process writes the search documents of its videos, as a
worker would next, and that rate is printed apart (the import leaves them to a worker:
annotations/models/search.py). After the largest size, a further 10,000 rows go into
that grown project: the cost of a batch must not grow with the project. The label store
audit runs on every imported project, and the bench's projects are deleted at the end
(--keep leaves them).

Use a database of its own: it fills the tables, deletes its projects afterwards, and runs
ANALYZE and VACUUM on the video and label tables as autovacuum would (the development
server runs without it).
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.label_studio import LabelStudioRuns, label_studio_import

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
LABEL_STUDIO_PER_SECOND = 751.0
# Bump when the generated rows change, so stale manifests are not reused.
MANIFEST_VERSION = 1

TAGS = [
    "Спорт: Футбол",
    "Спорт: Хоккей",
    "Спорт: Автогонки",
    "Музыка: Рок",
    "Музыка: Джаз",
    "Еда и напитки: Кулинария",
    "Еда и напитки: Десерты",
    "Транспорт: Автомобили",
    "Транспорт: Авторемонт",
    "Путешествия: Пляжный отдых",
    "Наука: Космос",
    "Животные: Кошки",
    "Животные: Собаки",
    "Дом и сад: Садоводство",
    "Юмор",
]
WORDS = [
    "матч",
    "гол",
    "вратарь",
    "тренер",
    "сезон",
    "команда",
    "рецепт",
    "суп",
    "тесто",
    "духовка",
    "гитара",
    "концерт",
    "сцена",
    "альбом",
    "дорога",
    "мотор",
    "колесо",
    "трасса",
    "море",
    "пляж",
    "отель",
    "закат",
    "ракета",
    "планета",
    "телескоп",
    "звезда",
    "кошка",
    "собака",
    "щенок",
    "прогулка",
    "огород",
    "рассада",
    "урожай",
    "теплица",
    "новости",
    "обзор",
    "выпуск",
    "зрители",
    "подписчики",
    "история",
    "секрет",
    "совет",
    "неделя",
    "город",
]


def _description(rng: random.Random, length: int = 300) -> str:
    words: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    text = " ".join(words)[: length - 1]
    return text[0].upper() + text[1:] + "."


def write_manifest(path: Path, rows: int, *, with_ids: bool, first: int = 0) -> Path:
    """A CSV manifest of ``rows`` rows numbered from ``first`` (written once, then reused)."""
    if path.exists():
        return path
    rng = random.Random(first * 7919 + rows)  # noqa: S311 - reproducible filler, not secrets
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["video_id", "title", "description", "tags"]
            if with_ids
            else ["title", "description", "tags"]
        )
        for number in range(first, first + rows):
            title = f"Выпуск {number}: {rng.choice(WORDS)} и {rng.choice(WORDS)}"
            values = [title, _description(rng), rng.choice(TAGS)]
            writer.writerow([f"bench-{number}", *values] if with_ids else values)
    partial.rename(path)
    return path


def _manifest_path(rows: int, *, with_ids: bool, first: int = 0) -> Path:
    kind = "ids" if with_ids else "noids"
    return BENCH_DIR / f"import-v{MANIFEST_VERSION}-{kind}-{first}-{rows}.csv"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tagging_site.settings")
    os.environ.setdefault("LOG_LEVEL", "warning")
    import django

    django.setup()


# --- the child: one import, timed from inside ------------------------------------------------


class _Timeline(io.StringIO):
    """The command's output: counts its row lines and notes when each tenth was reached."""

    def __init__(self, rows: int, server_cpu: Callable[[], float | None]) -> None:
        super().__init__()
        self.rows, self.lines, self.started = rows, 0, time.perf_counter()
        self.server_cpu = server_cpu
        self.marks: list[float] = []
        self.server_marks: list[float | None] = []
        self.last = ""

    def write(self, text: str) -> int:
        if text.startswith("["):
            self.lines += 1
            if self.lines * 10 >= (len(self.marks) + 1) * self.rows:
                self.marks.append(time.perf_counter() - self.started)
                self.server_marks.append(self.server_cpu())
        else:
            self.last = text.strip()
        return len(text)


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike getrusage, not carried over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(manifest: Path, project_name: str, rows: int) -> None:
    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    from annotations.models import Project
    from annotations.services.search import search_documents_write
    from annotations.services.taxonomy import taxonomy_import_text

    project, _ = Project.objects.get_or_create(name=project_name)
    taxonomy_import_text(project=project, text="\n".join(TAGS), fmt="lines")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0"
        )
        backend = int(cursor.fetchone()[0])
    rss_before = _peak_rss_mb()
    # Every row's line is printed, as the command does by default, into a counter.
    out = _Timeline(rows, lambda: _process_cpu_seconds(backend))
    server_cpu = _process_cpu_seconds(backend)
    own_cpu = time.process_time()
    out.started = started = time.perf_counter()
    call_command("import_videos", "--project", project_name, str(manifest), stdout=out)
    seconds = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    server_after = _process_cpu_seconds(backend)
    # What a worker does next (none runs here): the search documents of the new videos.
    search_started = time.perf_counter()
    written = search_documents_write()
    search_seconds = time.perf_counter() - search_started
    marks = [0.0, *out.marks]
    server_marks = [server_cpu, *out.server_marks]
    server_tenths = [
        (b - a) / (rows / 10) * 1e6 if a is not None and b is not None else None
        for a, b in itertools.pairwise(server_marks)
    ]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "search_seconds": search_seconds if written.written else None,
                "summary": out.last,
                "rss_before_mb": rss_before,
                "peak_mb": _peak_rss_mb(),
                "tenths": [rows / 10 / (b - a) for a, b in itertools.pairwise(marks)],
                "server_tenths": server_tenths,
                "client_cpu": own_cpu,
                "server_cpu": (
                    server_after - server_cpu
                    if server_after is not None and server_cpu is not None
                    else None
                ),
            }
        )
    )


def _process_cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of a process of this machine (the database's backend)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the parent: manifests, children, table --------------------------------------------------


@dataclass
class Result:
    label: str
    rows: int
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)
    base_mb: list[float] = field(default_factory=list)
    tenths: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    search_seconds: list[float] = field(default_factory=list)
    summary: str = ""

    def per_second(self) -> list[float]:
        return [self.rows / s for s in self.seconds]


def _run_child(manifest: Path, project_name: str, rows: int) -> dict[str, Any]:
    # As in production: DEBUG off (which wants a key and hosts), no query log kept.
    production = {
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "localhost",
        # One database connection for the whole import, so its backend's CPU time is all
        # read (the queue otherwise recycles a connection older than a minute).
        "DB_CONN_MAX_AGE": "3600",
    }
    command = [sys.executable, "-m", "bench.imports", "--child", str(manifest), project_name]
    process = subprocess.run(
        [*command, "--child-rows", str(rows)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **production},
        check=False,
    )
    if process.returncode != 0:
        raise SystemExit(f"the import of {manifest.name} failed (exit {process.returncode})")
    data: dict[str, Any] = json.loads(process.stdout.strip().splitlines()[-1])
    return data


def _measure(result: Result, manifest: Path, project_name: str) -> None:
    data = _run_child(manifest, project_name, result.rows)
    result.seconds.append(float(data["seconds"]))
    result.base_mb.append(float(data["rss_before_mb"]))
    result.peak_mb.append(float(data["peak_mb"]))
    result.tenths = [float(rate) for rate in data["tenths"]]
    result.client_cpu.append(float(data["client_cpu"]))
    if data["server_cpu"] is not None:
        result.server_cpu.append(float(data["server_cpu"]))
    if data["search_seconds"] is not None:
        result.search_seconds.append(float(data["search_seconds"]))
    result.summary = str(data["summary"])
    print(
        f"  {result.label}: {result.seconds[-1]:.1f} s, "
        f"{result.rows / result.seconds[-1]:,.0f} videos/s, peak {result.peak_mb[-1]:.0f} MB, "
        f"by tenths {', '.join(f'{rate:,.0f}' for rate in result.tenths)}; PostgreSQL µs/video "
        f"by tenths {', '.join(_cpu(cpu) for cpu in data['server_tenths'])} ({result.summary})",
        file=sys.stderr,
    )


TABLES = (
    "annotations_video",
    "annotations_confirmedlabel",
    "annotations_labelchange",
    "annotations_searchdocument",
    "annotations_pendingsearchdocument",
)


def _maintain(*, vacuum: bool = False) -> None:
    """What autovacuum does on a server that runs it (this one, for benchmarks, does not).

    Fresh statistics after each import keep the lookups and the audit on their indexes;
    VACUUM after the bench's deletes gives the next run a table without dead rows.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"{'VACUUM ANALYZE' if vacuum else 'ANALYZE'} {', '.join(TABLES)}")


def _cpu(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _audit(project_name: str) -> str:
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    try:
        call_command("audit_labels", "--project", project_name, stdout=out)
    except CommandError as exc:
        return f"{project_name}: {exc}"
    return out.getvalue().strip()


def _delete_projects(names: list[str]) -> None:
    """Raw deletes, table by table: the ORM's cascade would load a million videos first."""
    from django.db import connection, transaction

    from annotations.models import Project

    ids = list(Project.objects.filter(name__in=names).values_list("id", flat=True))
    if not ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        videos = "SELECT id FROM annotations_video WHERE project_id = ANY(%s)"
        for table in (
            "annotations_labelchange",
            "annotations_confirmedlabel",
            "annotations_searchdocument",
            "annotations_pendingsearchdocument",
        ):
            cursor.execute(f"DELETE FROM {table} WHERE video_id IN ({videos})", [ids])  # noqa: S608
        cursor.execute("DELETE FROM annotations_video WHERE project_id = ANY(%s)", [ids])
        cursor.execute(
            "UPDATE annotations_tag SET parent_id = NULL WHERE project_id = ANY(%s)", [ids]
        )
        cursor.execute("DELETE FROM annotations_tag WHERE project_id = ANY(%s)", [ids])
        Project.objects.filter(id__in=ids).delete()


def _search_rate(result: Result) -> str:
    if not result.search_seconds:
        return "-"
    return f"{result.rows / statistics.median(result.search_seconds):,.0f}"


def _tenths(result: Result) -> str:
    """Rates of the second and the last tenth of the rows (the first includes the count).

    Outcomes come a batch at a time, so a tenth shorter than a few batches says nothing.
    """
    if result.rows < 100_000 or len(result.tenths) < 10:
        return "-"
    return f"{result.tenths[1]:,.0f} / {result.tenths[-1]:,.0f}"


def _table(results: list[Result], label_studio: list[LabelStudioRuns]) -> str:
    """Our imports beside Label Studio's; "x Label Studio" compares with its tasks that
    carry a prediction, the nearest to our rows, which bring their tag."""
    with_tags = [runs for runs in label_studio if runs.with_predictions]
    reference = with_tags[0].median_per_second() if with_tags else LABEL_STUDIO_PER_SECOND
    lines = [
        "| import | rows | runs | median s | median videos/s | min-max videos/s "
        "| x Label Studio | videos/s, 2nd and last tenth | CPU µs/video: importer + PostgreSQL "
        "| peak RSS MB | RSS before import MB | then search documents, videos/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        rates = result.per_second()
        rate = statistics.median(rates)
        client = statistics.median(result.client_cpu) / result.rows * 1e6
        server = (
            f"{statistics.median(result.server_cpu) / result.rows * 1e6:.0f}"
            if result.server_cpu
            else "-"
        )
        lines.append(
            f"| {result.label} | {result.rows:,} | {len(rates)} | "
            f"{statistics.median(result.seconds):.1f} | {rate:,.0f} | "
            f"{min(rates):,.0f}-{max(rates):,.0f} | {rate / reference:.1f}x | "
            f"{_tenths(result)} | {client:.0f} + {server} | "
            f"{max(result.peak_mb):.0f} | {statistics.median(result.base_mb):.0f} | "
            f"{_search_rate(result)} |"
        )
    if not label_studio:
        lines.append(
            f"| Label Studio 1.23.2, API, a prediction each (measured on another machine) "
            f"| 10,000 | - | - | {LABEL_STUDIO_PER_SECOND:,.0f} | - | 1.0x | - | - | - | - | - |"
        )
    for runs in label_studio:
        rates = runs.per_second()
        rate = runs.median_per_second()
        kind = "a prediction each" if runs.with_predictions else "tasks alone"
        lines.append(
            f"| Label Studio {runs.version}, API, {kind}, this machine | {runs.rows:,} | "
            f"{len(rates)} | {statistics.median(runs.seconds):.1f} | {rate:,.0f} | "
            f"{min(rates):,.0f}-{max(rates):,.0f} | {rate / reference:.1f}x | - | - | - | - | - |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size under 1,000,000")
    parser.add_argument("--with-ids", action="store_true", help="rows carry a video_id")
    parser.add_argument("--keep", action="store_true", help="keep the bench's projects")
    parser.add_argument(
        "--label-studio",
        metavar="URL",
        help="also time a running Label Studio's API import of the 10,000 rows "
        "(its token in LABEL_STUDIO_TOKEN)",
    )
    parser.add_argument("--child", nargs=2, metavar=("MANIFEST", "PROJECT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-rows", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.child_rows)
        return

    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    _maintain(vacuum=True)
    stamp = time.strftime("%H%M%S")
    made: list[str] = []
    results: list[Result] = []
    audits: list[str] = []
    sizes = sorted(args.sizes)
    for rows in sizes:
        manifest = write_manifest(
            _manifest_path(rows, with_ids=args.with_ids), rows, with_ids=args.with_ids
        )
        result = Result(f"{'with ids' if args.with_ids else 'no ids'}, new project", rows)
        for run in range(args.repeats if rows < 1_000_000 else 1):
            name = f"bench-import {stamp} {rows} #{run + 1}"
            made.append(name)
            _measure(result, manifest, name)
            _maintain()
            audits.append(_audit(name))
        results.append(result)
    extra = 10_000
    grown = made[-1]
    manifest = write_manifest(
        _manifest_path(extra, with_ids=args.with_ids, first=sizes[-1]),
        extra,
        with_ids=args.with_ids,
        first=sizes[-1],
    )
    result = Result(f"into the project of {sizes[-1]:,}", extra)
    _measure(result, manifest, grown)
    results.append(result)
    _maintain()
    audits.append(_audit(grown))
    if not args.keep:
        _delete_projects(made)
        _maintain(vacuum=True)

    print(
        f"\n{connection.vendor}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}\n"
    )
    label_studio = []
    if args.label_studio:
        first = write_manifest(_manifest_path(10_000, with_ids=False), 10_000, with_ids=False)
        label_studio = label_studio_import(args.label_studio, first, args.repeats)
    print(_table(results, label_studio))
    print("\nLabel store audit:\n" + "\n".join(f"  {line}" for line in audits))


if __name__ == "__main__":
    main()
