"""Videos as the model sees them, and the CSV layout of the command line.

A CSV has the columns ``video_id, title, description`` and optionally ``tags`` (a
comma-separated list of tag paths, as in the Rutube challenge), ``transcript`` and
``summary``; any other column is kept in ``metadata``. Tag lists typed by people are
messy ("Спорт:Футбол", "Наука<TAB>Космос", "астрология" next to "Астрология"): levels are
normalised and spellings that differ only in case are merged into the commonest one.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ml.taxonomy import split_tag_list

__all__ = [
    "DatasetError",
    "Example",
    "canonical_tags",
    "merge_case_variants",
    "parse_tag_list",
    "read_csv",
    "write_predictions_csv",
]

REQUIRED_COLUMNS = ("video_id", "title", "description")
_KNOWN_COLUMNS = frozenset({*REQUIRED_COLUMNS, "tags", "transcript", "summary"})
# The csv module refuses longer fields by default; transcripts of long videos exceed it.
_MAX_FIELD_CHARS = 50_000_000


class DatasetError(ValueError):
    """A data file that cannot be read; the message names the file and, where known, the line."""


@dataclass(frozen=True)
class Example:
    video_id: str
    title: str
    description: str
    transcript: str = ""
    summary: str = ""
    # Visual and audio features from the media pipeline, e.g. {"visual.brightness": 0.4}.
    media: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, object] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


def parse_tag_list(text: str) -> list[str]:
    """Tag paths of one cell; a tab between levels counts as the level separator."""
    return split_tag_list(text.replace("\t", ":"))


def merge_case_variants(examples: Sequence[Example]) -> list[Example]:
    """The examples with each tag spelled as its commonest variant (case-insensitively)."""
    counts = Counter(tag for example in examples for tag in example.tags)
    best: dict[str, str] = {}
    # Most frequent first; among equals the first seen wins (Counter keeps insertion order).
    for tag, _ in sorted(counts.items(), key=lambda item: -item[1]):
        best.setdefault(tag.casefold(), tag)
    return [
        replace(example, tags=_unique(best[tag.casefold()] for tag in example.tags))
        for example in examples
    ]


def canonical_tags(
    examples: Sequence[Example], taxonomy_paths: Iterable[str]
) -> tuple[list[Example], Counter[str]]:
    """The examples with tags spelled as in the taxonomy; tags it lacks are dropped and counted."""
    known = {path.casefold(): path for path in taxonomy_paths}
    unknown: Counter[str] = Counter()
    result = []
    for example in examples:
        kept = []
        for tag in example.tags:
            canonical = known.get(tag.casefold())
            if canonical is None:
                unknown[tag] += 1
            else:
                kept.append(canonical)
        result.append(replace(example, tags=_unique(kept)))
    return result, unknown


def _unique(tags: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tags))


def _open_error(path: Path, exc: OSError) -> DatasetError:
    if isinstance(exc, FileNotFoundError):
        return DatasetError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return DatasetError(f"{path}: is a folder, not a CSV file")
    return DatasetError(f"{path}: cannot be read ({exc.strerror or exc})")


def read_csv(path: str | os.PathLike[str], *, require_tags: bool = False) -> list[Example]:
    """The videos of a CSV file, in file order; raises DatasetError naming the line."""
    path = Path(path)
    csv.field_size_limit(_MAX_FIELD_CHARS)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_rows(path, csv.DictReader(handle), require_tags=require_tags)
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DatasetError(f"{path}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise _open_error(path, exc) from None


def _read_rows(path: Path, reader: csv.DictReader[str], *, require_tags: bool) -> list[Example]:
    columns = [name.strip() for name in reader.fieldnames or []]
    if not columns:
        raise DatasetError(f"{path}: the file is empty; expected a header row")
    reader.fieldnames = columns
    needed = [*REQUIRED_COLUMNS, "tags"] if require_tags else list(REQUIRED_COLUMNS)
    missing = [name for name in needed if name not in columns]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)}; the header has {', '.join(columns)}"
        )
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row:
            raise DatasetError(f"{path}, line {line}: more cells than the header has columns")
        video_id = (row.get("video_id") or "").strip()
        if not video_id:
            if not any((value or "").strip() for value in row.values()):
                continue
            raise DatasetError(f"{path}, line {line}: video_id is empty")
        if video_id in seen:
            raise DatasetError(
                f"{path}, line {line}: video_id {video_id!r} already appeared on line "
                f"{seen[video_id]}"
            )
        seen[video_id] = line
        examples.append(
            Example(
                video_id=video_id,
                title=row.get("title") or "",
                description=row.get("description") or "",
                transcript=row.get("transcript") or "",
                summary=row.get("summary") or "",
                metadata={k: v for k, v in row.items() if k not in _KNOWN_COLUMNS and v},
                tags=tuple(parse_tag_list(row.get("tags") or "")),
            )
        )
    if not examples:
        raise DatasetError(f"{path}: the file has a header but no rows")
    return merge_case_variants(examples)


def write_predictions_csv(
    path: str | os.PathLike[str], predictions: Iterable[tuple[str, Sequence[str]]]
) -> int:
    """Writes ``video_id, predicted_tags`` (a JSON list of paths) rows; returns the row count."""
    path = Path(path)
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "predicted_tags"])
        for video_id, tags in predictions:
            writer.writerow([video_id, json.dumps(list(tags), ensure_ascii=False)])
            count += 1
    return count
