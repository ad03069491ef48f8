"""Reading import manifests: CSV or JSONL, one video per row.

Known columns: video_id, title, description, tags (comma-separated tag paths),
file (a path or an http(s) URL; "path" and "url" are accepted as names too) and
subtitles. Every other column is kept as the video's metadata. A row that
cannot be read becomes a ManifestRow with an ``error``, so one bad line never
stops the others.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ml.taxonomy import split_tag_list

KNOWN_COLUMNS = {"video_id", "title", "description", "tags", "file", "path", "url", "subtitles"}
MAX_TITLE_LENGTH = 500
MAX_EXTERNAL_ID_LENGTH = 255


@dataclass
class ManifestRow:
    line: int
    external_id: str = ""
    title: str = ""
    description: str = ""
    tags: list[str] = field(default_factory=list)
    raw_tags: str = ""
    source: str = ""
    subtitles: str = ""
    metadata: dict[str, object] = field(default_factory=dict)
    error: str = ""


class ManifestError(ValueError):
    """A manifest that cannot be read at all (as opposed to one bad row)."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    # NUL cannot be stored or even looked up in PostgreSQL, and means nothing in a field.
    return str(value).replace("\x00", "").strip()


def row_from_mapping(line: int, data: dict[str, object]) -> ManifestRow:
    lowered = {str(key).strip().lower(): value for key, value in data.items() if key is not None}
    row = ManifestRow(line=line)
    row.external_id = _text(lowered.get("video_id"))
    row.title = _text(lowered.get("title"))
    row.description = _text(lowered.get("description"))
    raw_tags = lowered.get("tags")
    if isinstance(raw_tags, list):
        row.raw_tags = ", ".join(_text(tag) for tag in raw_tags)
    else:
        row.raw_tags = _text(raw_tags)
    row.tags = split_tag_list(row.raw_tags)
    row.source = _text(lowered.get("file") or lowered.get("path") or lowered.get("url"))
    row.subtitles = _text(lowered.get("subtitles"))
    row.metadata = {
        key: value
        for key, value in lowered.items()
        if key not in KNOWN_COLUMNS and value not in ("", None)
    }
    row.error = _row_problem(row)
    return row


def _row_problem(row: ManifestRow) -> str:
    if not row.title and not row.source:
        return "the row has neither a title nor a file"
    if len(row.title) > MAX_TITLE_LENGTH:
        return f"the title is longer than {MAX_TITLE_LENGTH} characters"
    if len(row.external_id) > MAX_EXTERNAL_ID_LENGTH:
        return f"video_id is longer than {MAX_EXTERNAL_ID_LENGTH} characters"
    if any(not part.strip() for tag in row.tags for part in tag.split(":")):
        return f"a tag path has an empty level: {row.raw_tags!r}"
    return ""


def _lines(source: str | Iterable[str]) -> Iterable[str]:
    return io.StringIO(source) if isinstance(source, str) else source


def _csv_records(source: str | Iterable[str], *, parse: bool) -> Iterator[ManifestRow | None]:
    """The rows of a CSV manifest; with ``parse`` off, only a None for each (to count them).

    Counting and reading share this loop, so the count announced before an import is the
    number of rows it goes through; counting builds nothing per row.
    """
    reader = csv.reader(_lines(source))
    fieldnames = next(reader, [])
    if not fieldnames:
        raise ManifestError("the CSV manifest has no header row")
    header = [name.strip().lower() for name in fieldnames]
    if not {"title", "file", "path", "url"} & set(header):
        raise ManifestError(
            "the CSV header needs a title or a file column (video_id,title,description,tags,file)"
        )
    width = len(header)
    for record in reader:
        if not record:
            continue  # a blank line
        line = reader.line_num
        if len(record) > width:
            yield (
                ManifestRow(
                    line=line,
                    error=f"the row has {len(record)} values but the header has {width} columns",
                )
                if parse
                else None
            )
        elif len(record) < width:
            yield (
                ManifestRow(
                    line=line, error=f"the row has fewer values than the header's {width} columns"
                )
                if parse
                else None
            )
        elif any(value.strip() for value in record):
            yield (
                row_from_mapping(line, dict(zip(fieldnames, record, strict=True)))
                if parse
                else None
            )


def _jsonl_records(source: str | Iterable[str], *, parse: bool) -> Iterator[ManifestRow | None]:
    lines = source.splitlines() if isinstance(source, str) else source
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if not parse:
            yield None
            continue
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield ManifestRow(line=line, error=f"not valid JSON: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(data, dict):
            yield ManifestRow(line=line, error="each line must be a JSON object")
            continue
        yield row_from_mapping(line, data)


def read_csv_rows(source: str | Iterable[str]) -> Iterator[ManifestRow]:
    """The rows of a CSV manifest, from its text or from an iterable of its lines."""
    for row in _csv_records(source, parse=True):
        assert row is not None
        yield row


def read_jsonl_rows(source: str | Iterable[str]) -> Iterator[ManifestRow]:
    for row in _jsonl_records(source, parse=True):
        assert row is not None
        yield row


_READERS = {".csv": _csv_records, ".jsonl": _jsonl_records, ".ndjson": _jsonl_records}


@dataclass
class Manifest:
    """A manifest file checked whole and counted; iterating reads its rows one at a time.

    Opening it reads the file once (UTF-8, the CSV's header and quoting) without keeping
    it, so a manifest that cannot be read is refused before anything is imported, and an
    import of a million rows holds one row at a time, not the file.
    """

    path: Path
    count: int

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[ManifestRow]:
        # The lines are split and decoded as when counting, so both passes see one file.
        for row in _READERS[self.path.suffix.lower()](_checked_lines(self.path), parse=True):
            assert row is not None
            yield row


def _checked_lines(path: Path) -> Iterator[str]:
    """The file's lines (ended by "\\n"), decoded; ManifestError at the first byte not UTF-8."""
    offset = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ManifestError(
                    f"{path.name} is not UTF-8 text ({exc.reason} at byte {offset + exc.start})"
                ) from None
            offset += len(raw)
            yield text.removeprefix("\ufeff") if number == 0 else text


def open_manifest(path: Path) -> Manifest:
    """Check and count a manifest; raises ManifestError when it cannot be read at all."""
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        if not path.exists():
            raise ManifestError(f"manifest not found: {path}")
        raise ManifestError(f"unknown manifest type {suffix or '(none)'!r}: use .csv or .jsonl")
    try:
        count = sum(1 for _ in _READERS[suffix](_checked_lines(path), parse=False))
    except FileNotFoundError:
        raise ManifestError(f"manifest not found: {path}") from None
    except csv.Error as exc:
        raise ManifestError(f"the CSV cannot be read: {exc}") from None
    return Manifest(path, count)


def read_manifest(path: Path) -> list[ManifestRow]:
    """Every row of a manifest, in a list (for small files; imports iterate open_manifest)."""
    return list(open_manifest(path))
