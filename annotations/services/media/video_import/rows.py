"""Importing manifest rows (the command, the API's bulk import, folder scans), in batches.

Rows are read one batch at a time, so a manifest of a million rows is never held
whole. In a batch, what the project already has is looked up once for all its rows;
the text-only rows (the Rutube layout: id, title, description, tags) are then stored
together, with their confirmed tags and history, and queued for processing in jobs of
a few hundred videos. Rows with a file or a URL still go one by one through the checks of
``media_prepare``: fetching and probing media cannot be batched.

A row that fails is reported with its line and reason and the others go on. A row
already in the project (same video_id, same file, or for a text-only row without an
id the same title and description) is skipped, so importing twice creates nothing
twice; a video_id repeated within the manifest fails on its second line.
"""

from __future__ import annotations

import bisect
import itertools
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence, Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from annotations.manifest import ManifestRow
from annotations.models import Job, Project
from annotations.services.jobs.lifecycle import jobs_request_new
from annotations.services.media.sources import SourceRejected, resolve_import_folder
from annotations.services.media.video_import.bulk import (
    NewVideo,
    existing_external_ids,
    existing_text_only,
    video_statistics_refresh,
    videos_insert,
)
from annotations.services.media.video_import.outcomes import ImportReport, RowOutcome
from annotations.services.media.video_import.single import (
    MEDIA_SUFFIXES,
    LocalMedia,
    TagResolver,
    VideoImportError,
    media_prepare,
    video_create,
    without_nul,
)
from annotations.services.search import search_documents_requested
from ml.media import MediaError

ProgressCallback = Callable[[int, int, RowOutcome], None]

# Rows per batch: large enough that round trips and commits are a small share of the
# cost (5,000 measured 8 % faster than 2,000), small enough that a batch's rows and
# their outcomes stay a few MB. It is also the API's bulk row limit: one batch a request.
BATCH_SIZE = 5000
# The video table's statistics are refreshed once this many videos were stored, then
# each time the import has doubled (50,000, 100,000, 200,000...): a few runs of ANALYZE
# (a fraction of a second each) for a million rows.
ANALYZE_AFTER = 50_000


@dataclass
class _Run:
    """What one import knows across its batches (bounded: no per-row state is kept)."""

    project: Project
    base_dir: Path | None
    user: User | None
    resolver: TagResolver
    # The id ranges this run inserted, sorted: a video_id found in one of them was
    # imported from an earlier line of this manifest, not before it.
    created: list[tuple[int, int]] = field(default_factory=list)
    stored: int = 0
    analyze_at: int = ANALYZE_AFTER

    def created_here(self, video_id: int) -> bool:
        index = bisect.bisect_right(self.created, (video_id, float("inf"))) - 1
        return index >= 0 and self.created[index][0] <= video_id <= self.created[index][1]

    def remember(self, ids: list[int]) -> None:
        if ids:
            bisect.insort(self.created, (min(ids), max(ids)))


def videos_import_rows(
    *,
    project: Project,
    rows: Iterable[ManifestRow],
    base_dir: Path | None,
    user: User | None = None,
    progress: ProgressCallback | None = None,
    keep_outcomes: bool = True,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import manifest rows, a batch at a time; each row's failure is recorded, not raised.

    ``progress`` is called for every row, in order, once its batch is stored, with the
    row's position and the number of rows (0 when ``rows`` has no length). With
    ``keep_outcomes`` off the report keeps only the counts.
    """
    report = ImportReport(keep_outcomes=keep_outcomes)
    total = len(rows) if isinstance(rows, Sized) else 0
    run = _Run(project, base_dir, user, TagResolver(project))
    position = 0
    batches = _batches(iter(rows), batch_size)
    if not isinstance(rows, Sequence):
        batches = _read_ahead(batches)
    for batch in batches:
        for outcome in _import_batch(run, batch):
            position += 1
            report.add(outcome)
            if progress is not None:
                progress(position, total, outcome)
    return report


def _batches(rows: Iterator[ManifestRow], size: int) -> Iterator[list[ManifestRow]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _read_ahead(batches: Iterator[list[ManifestRow]]) -> Iterator[list[ManifestRow]]:
    """The batches, the next one read and parsed by a thread while this one is stored.

    Parsing a manifest is Python work and storing a batch is mostly the database's: done
    in turn they add up, overlapped the slower one sets the pace. One batch waits at most.
    """
    ready: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def offer(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for batch in batches:
                if not offer(("batch", batch)):
                    return
        except BaseException as exc:  # handed to the importing thread, raised there
            offer(("error", exc))
            return
        offer(("end", None))

    reader = threading.Thread(target=read, name="manifest-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, item = ready.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(item, BaseException)
                raise item
            yield cast(list[ManifestRow], item)
    finally:
        stop.set()
        reader.join()


def _import_batch(run: _Run, rows: list[ManifestRow]) -> list[RowOutcome]:
    outcomes: list[RowOutcome | None] = [None] * len(rows)
    first_line: dict[str, int] = {}
    for index, row in enumerate(rows):
        if row.error:
            outcomes[index] = RowOutcome(row.line, "failed", row.error, row.external_id)
        elif row.external_id in first_line:
            outcomes[index] = RowOutcome(
                row.line,
                "failed",
                f"video_id {row.external_id!r} repeats line {first_line[row.external_id]}",
                row.external_id,
            )
        elif row.external_id:
            first_line[row.external_id] = row.line
    existing = existing_external_ids(run.project, first_line)
    text_keys = {
        (row.title, row.description)
        for index, row in enumerate(rows)
        if outcomes[index] is None and not row.external_id and not row.source
    }
    existing_text = existing_text_only(run.project, text_keys)
    fresh: list[tuple[int, NewVideo]] = []
    same_as: dict[int, int] = {}  # a text-only row repeated in the batch -> its first index
    first_text: dict[tuple[str, str], int] = {}
    media: list[int] = []
    warnings: dict[int, list[str]] = {}
    for index, row in enumerate(rows):
        if outcomes[index] is not None:
            continue
        if row.external_id:
            found = existing.get(row.external_id)
        else:
            # A file is recognised by its hash, once fetched (in video_create).
            found = None if row.source else existing_text.get((row.title, row.description))
        if found is not None:
            outcomes[index] = _already_there(run, row, found)
        elif row.source:
            media.append(index)
        elif not row.external_id and (row.title, row.description) in first_text:
            same_as[index] = first_text[(row.title, row.description)]
        else:
            if not row.external_id:
                first_text[(row.title, row.description)] = index
            video, warnings[index] = _new_video(run, row)
            fresh.append((index, video))
    ids = _store(run, [video for _, video in fresh])
    if ids is None:
        # Another import stored some of these ids meanwhile: the rows go one by one,
        # and those now there are skipped.
        for index, _ in fresh:
            outcomes[index] = _import_one(run, rows[index])
    else:
        for (index, _), video_id in zip(fresh, ids, strict=True):
            row = rows[index]
            outcomes[index] = RowOutcome(
                row.line, "imported", "", row.external_id, video_id, warnings[index]
            )
    for index, first in same_as.items():
        earlier = outcomes[first]
        assert earlier is not None
        outcomes[index] = (
            RowOutcome(
                rows[index].line,
                "skipped",
                f"already imported as video #{earlier.video_id}",
                video_id=earlier.video_id,
            )
            if earlier.video_id is not None
            else _import_one(run, rows[index])
        )
    for index in media:
        outcomes[index] = _import_one(run, rows[index])
    done = [outcome for outcome in outcomes if outcome is not None]
    assert len(done) == len(rows)
    return done


def _already_there(run: _Run, row: ManifestRow, video_id: int) -> RowOutcome:
    # A text-only row without an id that repeats another is skipped, as on a re-import.
    if row.external_id and run.created_here(video_id):
        return RowOutcome(
            row.line,
            "failed",
            f"video_id {row.external_id!r} repeats an earlier line (imported as video #{video_id})",
            row.external_id,
        )
    return RowOutcome(
        row.line, "skipped", f"already imported as video #{video_id}", row.external_id, video_id
    )


def _new_video(run: _Run, row: ManifestRow) -> tuple[NewVideo, list[str]]:
    resolved = run.resolver.resolve(row.tags)
    metadata = dict(without_nul(row.metadata))
    if row.tags:
        metadata["original_tags"] = list(row.tags)
    if resolved.unknown:
        metadata["unknown_tags"] = list(resolved.unknown)
    video = NewVideo(
        title=without_nul(row.title),
        description=without_nul(row.description),
        external_id=without_nul(row.external_id),
        metadata=metadata,
        tags=list(resolved.tags),
    )
    return video, resolved.warnings


def _store(run: _Run, videos: list[NewVideo]) -> list[int] | None:
    """Insert the batch's new videos and queue their processing; None on a conflict."""
    if not videos:
        return []
    try:
        with transaction.atomic():
            ids = videos_insert(project=run.project, videos=videos, user=run.user)
            jobs_request_new(
                kind=Job.Kind.INGEST, project=run.project, object_ids=ids, user=run.user
            )
            search_documents_requested()
    except IntegrityError:
        return None
    run.remember(ids)
    run.stored += len(ids)
    if run.stored >= run.analyze_at:
        run.analyze_at = run.stored * 2 if video_statistics_refresh() else sys.maxsize
    return ids


def _import_one(run: _Run, row: ManifestRow) -> RowOutcome:
    """One row on its own: a file or a URL to fetch and probe, or a batch's leftover."""
    media: LocalMedia | None = None
    try:
        if row.source:
            media = media_prepare(
                source=row.source, base_dir=run.base_dir, subtitles=row.subtitles
            )
        video, warnings = video_create(
            project=run.project,
            title=row.title,
            description=row.description,
            external_id=row.external_id,
            tag_paths=row.tags,
            metadata=row.metadata,
            media=media,
            user=run.user,
            resolver=run.resolver,
        )
    except (SourceRejected, MediaError) as exc:
        return RowOutcome(row.line, "failed", str(exc), row.external_id)
    except VideoImportError as exc:
        return RowOutcome(row.line, "skipped", str(exc), row.external_id)
    finally:
        if media is not None:
            media.discard()
    run.remember([video.pk])
    return RowOutcome(row.line, "imported", "", row.external_id, video.pk, warnings)


def videos_scan_folder(
    *,
    project: Project,
    folder: Path,
    user: User | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import every media file under a folder inside an import root, titled by file name."""
    root = resolve_import_folder(str(folder), roots=settings.IMPORT_ROOTS)
    rows = [
        ManifestRow(line=index, title=path.stem.replace("_", " "), source=str(path))
        for index, path in enumerate(
            sorted(
                p for p in root.rglob("*") if p.suffix.lower() in MEDIA_SUFFIXES and p.is_file()
            ),
            start=1,
        )
    ]
    return videos_import_rows(
        project=project, rows=rows, base_dir=root, user=user, progress=progress
    )
