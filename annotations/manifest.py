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
from collections.abc import Iterator
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


def read_csv_rows(text: str) -> Iterator[ManifestRow]:
    reader = csv.DictReader(io.StringIO(text), restkey="\x00extra")
    if not reader.fieldnames:
        raise ManifestError("the CSV manifest has no header row")
    header = [name.strip().lower() for name in reader.fieldnames]
    if not {"title", "file", "path", "url"} & set(header):
        raise ManifestError(
            "the CSV header needs a title or a file column (video_id,title,description,tags,file)"
        )
    for record in reader:
        line = reader.line_num
        extra = record.pop("\x00extra", None)
        if extra:
            yield ManifestRow(
                line=line,
                error=(
                    f"the row has {len(header) + len(extra)} values "
                    f"but the header has {len(header)} columns"
                ),
            )
            continue
        if any(value is None for value in record.values()):
            yield ManifestRow(
                line=line, error=f"the row has fewer values than the header's {len(header)} columns"
            )
            continue
        if not any((value or "").strip() for value in record.values()):
            continue
        yield row_from_mapping(line, dict(record))


def read_jsonl_rows(text: str) -> Iterator[ManifestRow]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
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


def read_manifest(path: Path) -> list[ManifestRow]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ManifestError(f"manifest not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start})"
        ) from None
    suffix = path.suffix.lower()
    try:
        if suffix in {".jsonl", ".ndjson"}:
            return list(read_jsonl_rows(text))
        if suffix == ".csv":
            return list(read_csv_rows(text))
    except csv.Error as exc:
        raise ManifestError(f"the CSV cannot be read: {exc}") from None
    raise ManifestError(f"unknown manifest type {suffix or '(none)'!r}: use .csv or .jsonl")
