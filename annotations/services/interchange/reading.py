"""Reading dataset files into import items: Label Studio tasks, or this app's JSONL rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from annotations.models import Decision
from ml.taxonomy import PATH_SEPARATOR, normalize_path

FORMATS = ("labelstudio", "jsonl")
MAX_MESSAGES = 100


class InterchangeError(ValueError):
    """A dataset file that cannot be read at all; the message says why."""


@dataclass
class ImportedAnnotation:
    annotator: str
    submitted_at: datetime | None
    decisions: list[tuple[str, str, float | None]]


@dataclass
class ImportedSuggestion:
    tag: str
    score: float
    rank: int
    above_threshold: bool


@dataclass
class ImportItem:
    position: int
    external_id: str
    title: str
    description: str = ""
    summary: str = ""
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    transcript_source: str = ""
    tags: list[str] = field(default_factory=list)
    label_sources: dict[str, str] = field(default_factory=dict)
    label_by: dict[str, str | None] = field(default_factory=dict)
    label_at: dict[str, datetime] = field(default_factory=dict)
    annotations: list[ImportedAnnotation] = field(default_factory=list)
    suggestions: list[ImportedSuggestion] = field(default_factory=list)
    suggestions_model: str = ""

    def all_tags(self) -> set[str]:
        found = set(self.tags) | {s.tag for s in self.suggestions}
        for annotation in self.annotations:
            found.update(tag for tag, _d, _s in annotation.decisions)
        return found


@dataclass
class DatasetImportReport:
    created: int = 0
    skipped: int = 0
    failed: int = 0
    tags_created: int = 0
    messages: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(message)

    def summary(self) -> str:
        return (
            f"{self.created} imported, {self.skipped} skipped, {self.failed} failed, "
            f"{self.tags_created} tags created"
        )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _float(value: object, default: float = 0.0) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _segments(raw: object, transcript: str) -> list[tuple[float, float, str]]:
    if isinstance(raw, list) and raw:
        segments = []
        for item in raw:
            if isinstance(item, list | tuple) and len(item) == 3:
                start, end = _float(item[0]), _float(item[1])
                segments.append((start, max(start, end), str(item[2])))
            elif isinstance(item, dict):
                start, end = _float(item.get("start")), _float(item.get("end"))
                segments.append((start, max(start, end), _text(item.get("text"))))
        return segments
    return [(0.0, 0.0, transcript)] if transcript.strip() else []


def _datetime(value: object) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(str(value))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def _result_tags(result: object) -> list[tuple[str, dict[str, Any]]]:
    """(tag path, result item) for each choice of a Label Studio result list."""
    found: list[tuple[str, dict[str, Any]]] = []
    if not isinstance(result, list):
        return found
    for item in result:
        if not isinstance(item, dict):
            continue
        value = item.get("value") or {}
        if not isinstance(value, dict):
            continue
        for choice in value.get("choices") or []:
            found.append((normalize_path(str(choice)), item))
        for levels in value.get("taxonomy") or []:
            if isinstance(levels, list) and levels:
                found.append((PATH_SEPARATOR.join(str(level) for level in levels), item))
    return found


def _majority(annotations: list[list[str]]) -> list[str]:
    counts: dict[str, int] = {}
    for tags in annotations:
        for tag in set(tags):
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(tag for tag, n in counts.items() if n >= len(annotations) / 2)


def item_from_labelstudio(position: int, task: object) -> ImportItem:
    if not isinstance(task, dict):
        raise InterchangeError(f"task {position}: each task must be a JSON object")
    data = task.get("data")
    if not isinstance(data, dict):
        raise InterchangeError(f"task {position}: the task has no 'data' object")
    title = _text(data.get("title")) or _text(data.get("text")).split("\n", 1)[0][:500]
    external_id = _text(data.get("video_id") or data.get("external_id"))
    if not external_id and task.get("id") is not None:
        external_id = f"labelstudio-{task['id']}"
    transcript = _text(data.get("transcript"))
    item = ImportItem(
        position=position,
        external_id=external_id[:255],
        title=(title or f"Task {task.get('id', position)}")[:500],
        description=_text(data.get("description")),
        summary=_text(data.get("summary")),
        segments=_segments(data.get("segments"), transcript),
        transcript_source=_text(data.get("transcript_source")),
    )
    ground_truth: list[str] | None = None
    chosen_sets: list[list[str]] = []
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        tags = sorted({tag for tag, _item in _result_tags(annotation.get("result"))})
        if annotation.get("ground_truth"):
            ground_truth = tags
            sources = annotation.get("label_sources")
            if isinstance(sources, dict):
                item.label_sources = {normalize_path(str(k)): str(v) for k, v in sources.items()}
            continue
        annotator = _text(annotation.get("annotator"))
        if not annotator:
            # A Label Studio annotation; this app's own exports name the annotator and
            # carry the confirmed tags as the ground truth instead.
            chosen_sets.append(tags)
        completed_by = annotation.get("completed_by")
        if not annotator and isinstance(completed_by, dict):
            annotator = "email:" + _text(completed_by.get("email"))
        if annotator and annotator != "email:":
            item.annotations.append(
                ImportedAnnotation(
                    annotator,
                    _datetime(annotation.get("created_at")),
                    [(tag, Decision.ADD, None) for tag in tags],
                )
            )
    item.tags = ground_truth if ground_truth is not None else _majority(chosen_sets)
    predictions = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    if predictions:
        prediction = predictions[0]
        overall = _float(prediction.get("score"), 0.0)
        seen: set[str] = set()
        for tag, result_item in _result_tags(prediction.get("result")):
            if tag in seen:
                continue
            seen.add(tag)
            item.suggestions.append(
                ImportedSuggestion(
                    tag,
                    _float(result_item.get("score"), overall),
                    len(item.suggestions) + 1,
                    bool(result_item.get("above_threshold", True)),
                )
            )
        item.suggestions_model = _text(prediction.get("model_version"))
    _mark_accepted(item)
    return item


def _mark_accepted(item: ImportItem) -> None:
    # A chosen tag that was suggested was accepted; the others were added by hand.
    suggested = {s.tag for s in item.suggestions}
    for annotation in item.annotations:
        annotation.decisions = [
            (tag, Decision.ACCEPT if decision == Decision.ADD and tag in suggested else decision, s)
            for tag, decision, s in annotation.decisions
        ]


def item_from_jsonl(position: int, data: object) -> ImportItem:
    if not isinstance(data, dict):
        raise InterchangeError(f"line {position}: each line must be a JSON object")
    title = _text(data.get("title"))
    if not title:
        raise InterchangeError(f"line {position}: the video has no title")
    transcript = _text(data.get("transcript"))
    item = ImportItem(
        position=position,
        external_id=_text(data.get("external_id"))[:255],
        title=title[:500],
        description=_text(data.get("description")),
        summary=_text(data.get("summary")),
        segments=_segments(data.get("segments"), transcript),
        transcript_source=_text(data.get("transcript_source")),
        tags=sorted({normalize_path(str(tag)) for tag in data.get("tags") or []}),
    )
    for label in data.get("labels") or []:
        if isinstance(label, dict) and label.get("tag"):
            path = normalize_path(str(label["tag"]))
            item.label_sources[path] = _text(label.get("source"))
            item.label_by[path] = _text(label.get("confirmed_by")) or None
            confirmed_at = _datetime(label.get("confirmed_at"))
            if confirmed_at is not None:
                item.label_at[path] = confirmed_at
    for annotation in data.get("annotations") or []:
        if not isinstance(annotation, dict) or not annotation.get("annotator"):
            continue
        decisions = [
            (
                normalize_path(str(d["tag"])),
                _text(d.get("decision")),
                None if d.get("score") is None else _float(d.get("score")),
            )
            for d in annotation.get("decisions") or []
            if isinstance(d, dict) and d.get("tag")
        ]
        item.annotations.append(
            ImportedAnnotation(
                _text(annotation["annotator"]), _datetime(annotation.get("submitted_at")), decisions
            )
        )
    models: set[str] = set()
    for suggestion in data.get("suggestions") or []:
        if isinstance(suggestion, dict) and suggestion.get("tag"):
            item.suggestions.append(
                ImportedSuggestion(
                    normalize_path(str(suggestion["tag"])),
                    _float(suggestion.get("score")),
                    int(_float(suggestion.get("rank"), len(item.suggestions) + 1)),
                    bool(suggestion.get("above_threshold", True)),
                )
            )
            models.add(_text(suggestion.get("model_version")))
    item.suggestions_model = sorted(models)[0] if len(models) == 1 else ""
    return item


def read_items(stream: IO[bytes], fmt: str) -> Iterator[ImportItem | InterchangeError]:
    """The file's items one by one, or the reason an item cannot be read.

    JSONL is read line by line (memory stays flat); a Label Studio file is one JSON
    document, read whole, and a file that is not one raises InterchangeError.
    """
    if fmt == "jsonl":
        for position, raw in enumerate(stream, start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                yield item_from_jsonl(position, json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield InterchangeError(f"line {position} is not valid JSON: {exc}")
            except InterchangeError as exc:
                yield exc
        return
    if fmt != "labelstudio":
        raise InterchangeError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    try:
        tasks = json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InterchangeError(f"the file is not valid JSON: {exc}") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise InterchangeError("a Label Studio export is a JSON list of tasks")
    for position, task in enumerate(tasks, start=1):
        try:
            yield item_from_labelstudio(position, task)
        except InterchangeError as exc:
            yield exc
