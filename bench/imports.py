"""Bulk import benchmark: `manage.py import_videos` on generated manifests; prints a table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_db .venv/bin/python -m bench.imports
    ... -m bench.imports --sizes 10000 100000 --repeats 3
    ... -m bench.imports --with-ids          # rows carry a video_id (the Rutube layout)

Each manifest row has a title, a 300-character Russian description and one tag, like
the tasks Label Studio imported at 751 tasks/s on this machine (its API, PostgreSQL,
10,000 tasks); that figure is printed beside ours. Manifests are written once to
var/bench/ and reused. Every import runs in a fresh process, timed from inside (the
command alone, without Python's start), and its peak resident memory is read from the
kernel when it exits, so each size gets its own peak. After the largest size, a further
10,000 rows go into that grown project: the cost of a batch must not grow with the
project. The label store audit runs on every imported project, and the bench's projects
are deleted at the end (--keep leaves them).

Use a database of its own: it fills the tables and deletes its projects afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def child(manifest: Path, project_name: str) -> None:
    _setup_django()
    import resource
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    from annotations.models import Project
    from annotations.services.taxonomy import taxonomy_import_text

    project, _ = Project.objects.get_or_create(name=project_name)
    taxonomy_import_text(project=project, text="\n".join(TAGS), fmt="lines")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0"
        )
        backend = int(cursor.fetchone()[0])
    out = StringIO()
    server_cpu = _process_cpu_seconds(backend)
    own_cpu = time.process_time()
    started = time.perf_counter()
    call_command(
        "import_videos", "--project", project_name, str(manifest), "--quiet-rows", stdout=out
    )
    seconds = time.perf_counter() - started
    own_cpu = time.process_time() - own_cpu
    server_after = _process_cpu_seconds(backend)
    summary = out.getvalue().strip().splitlines()[-1]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "summary": summary,
                "rss_before_mb": rss_before,
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
    client_cpu: list[float] = field(default_factory=list)
    server_cpu: list[float] = field(default_factory=list)
    summary: str = ""

    def per_second(self) -> list[float]:
        return [self.rows / s for s in self.seconds]


def _run_child(manifest: Path, project_name: str) -> tuple[dict[str, Any], float]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.imports", "--child", str(manifest), project_name],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"the import of {manifest.name} failed (exit {process.returncode})")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _measure(result: Result, manifest: Path, project_name: str) -> None:
    data, peak = _run_child(manifest, project_name)
    result.seconds.append(float(data["seconds"]))
    result.base_mb.append(float(data["rss_before_mb"]))
    result.peak_mb.append(peak)
    result.client_cpu.append(float(data["client_cpu"]))
    if data["server_cpu"] is not None:
        result.server_cpu.append(float(data["server_cpu"]))
    result.summary = str(data["summary"])
    print(
        f"  {result.label}: {result.seconds[-1]:.1f} s, "
        f"{result.rows / result.seconds[-1]:,.0f} videos/s, peak {peak:.0f} MB ({result.summary})",
        file=sys.stderr,
    )


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
        for table in ("annotations_labelchange", "annotations_confirmedlabel"):
            cursor.execute(f"DELETE FROM {table} WHERE video_id IN ({videos})", [ids])  # noqa: S608
        cursor.execute("DELETE FROM annotations_video WHERE project_id = ANY(%s)", [ids])
        cursor.execute(
            "UPDATE annotations_tag SET parent_id = NULL WHERE project_id = ANY(%s)", [ids]
        )
        cursor.execute("DELETE FROM annotations_tag WHERE project_id = ANY(%s)", [ids])
        Project.objects.filter(id__in=ids).delete()


def _table(results: list[Result]) -> str:
    lines = [
        "| import | rows | runs | median s | median videos/s | min-max videos/s "
        "| x Label Studio | CPU µs/video: importer + PostgreSQL | peak RSS MB "
        "| RSS before import MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
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
            f"{min(rates):,.0f}-{max(rates):,.0f} | {rate / LABEL_STUDIO_PER_SECOND:.1f}x | "
            f"{client:.0f} + {server} | "
            f"{max(result.peak_mb):.0f} | {statistics.median(result.base_mb):.0f} |"
        )
    lines.append(
        f"| Label Studio 1.23.2, API (reference) | 10,000 | - | - | "
        f"{LABEL_STUDIO_PER_SECOND:,.0f} | - | 1.0x | - | - | - |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size under 1,000,000")
    parser.add_argument("--with-ids", action="store_true", help="rows carry a video_id")
    parser.add_argument("--keep", action="store_true", help="keep the bench's projects")
    parser.add_argument("--child", nargs=2, metavar=("MANIFEST", "PROJECT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return

    _setup_django()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
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
    audits.append(_audit(grown))
    if not args.keep:
        _delete_projects(made)

    print(
        f"\n{connection.vendor}, {os.cpu_count()} CPUs, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}\n"
    )
    print(_table(results))
    print("\nLabel store audit:\n" + "\n".join(f"  {line}" for line in audits))


if __name__ == "__main__":
    main()
