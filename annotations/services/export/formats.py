"""The three export formats, each written row by row to a hashing file.

JSONL: one video per line. CSV: the Rutube challenge layout
``video_id,title,description,tags``. Label Studio: a JSON list of tasks with the
confirmed tags as a ground-truth annotation, each annotator's tags as an annotation
(when decisions are asked for) and the suggestions as predictions, for a labeling
config whose Choices control lists the tag paths (``labelstudio_config``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import IO, Any, ClassVar
from xml.sax.saxutils import quoteattr

from django.db.models import Exists, OuterRef, Q

from annotations.models import ConfirmedLabel, Project, Suggestion, TagDecision
from annotations.services.export.filters import ExportFilters
from annotations.services.export.rows import ExportRow

# The names the Label Studio config and the tasks agree on.
LS_CHOICES = "tags"
LS_TEXT = "text"


class HashingWriter:
    """Writes bytes to a file while computing their SHA-256 on the way."""

    def __init__(self, handle: IO[bytes]) -> None:
        self._handle = handle
        self._hash = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self._hash.update(data)
        self._handle.write(data)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _dumps(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


class ExportWriter:
    extension: ClassVar[str] = ""
    content_type: ClassVar[str] = "application/octet-stream"
    wants_annotations: bool = False
    wants_suggestions: bool = False

    def __init__(self, out: HashingWriter, *, project: Project, filters: ExportFilters) -> None:
        self.out = out
        self.project = project
        self.filters = filters
        self.rows = 0

    def begin(self) -> None:
        """Anything that comes before the first row."""

    def write(self, row: ExportRow) -> None:
        self.rows += 1

    def end(self) -> None:
        """Anything that comes after the last row."""


def jsonl_object(row: ExportRow, *, detailed: bool) -> dict[str, object]:
    data: dict[str, object] = {
        "id": row.video_id,
        "external_id": row.external_id,
        "title": row.title,
        "description": row.description,
        "summary": row.summary,
        "transcript": row.transcript,
        "segments": [[start, end, text] for start, end, text in row.segments],
        "keyframes": row.keyframes,
        "tags": row.tags,
    }
    if detailed:
        data["transcript_source"] = row.transcript_source
        data["labels"] = [
            {
                "tag": label.tag,
                "source": label.source,
                "confirmed_by": label.confirmed_by,
                "confirmed_at": _iso(label.confirmed_at),
                **({"model_version": label.model_version} if label.model_version else {}),
            }
            for label in row.labels
        ]
        data["annotations"] = [
            {
                "annotator": annotation.annotator,
                "submitted_at": _iso(annotation.submitted_at),
                "decisions": [
                    {
                        "tag": d.tag,
                        "decision": d.decision,
                        "score": d.score,
                        "model_version": d.model_version,
                    }
                    for d in annotation.decisions
                ],
            }
            for annotation in row.annotations
        ]
        data["agreement"] = row.agreement
        data["suggestions"] = [
            {
                "tag": s.tag,
                "score": s.score,
                "rank": s.rank,
                "above_threshold": s.above_threshold,
                "model_version": s.model_version,
            }
            for s in row.suggestions
        ]
    return data


class JsonlWriter(ExportWriter):
    extension = "jsonl"
    content_type = "application/x-ndjson"

    def __init__(self, out: HashingWriter, *, project: Project, filters: ExportFilters) -> None:
        super().__init__(out, project=project, filters=filters)
        self.wants_annotations = self.wants_suggestions = filters.include_decisions

    def write(self, row: ExportRow) -> None:
        super().write(row)
        self.out.write(_dumps(jsonl_object(row, detailed=self.filters.include_decisions)) + b"\n")


class CsvWriter(ExportWriter):
    extension = "csv"
    content_type = "text/csv; charset=utf-8"

    def __init__(self, out: HashingWriter, *, project: Project, filters: ExportFilters) -> None:
        super().__init__(out, project=project, filters=filters)
        # Rows without confirmed tags (scope "all") carry their annotators' majority.
        self.wants_annotations = filters.scope == "all"
        self._buffer = io.StringIO()
        self._csv = csv.writer(self._buffer, lineterminator="\n")

    def _flush(self) -> None:
        self.out.write(self._buffer.getvalue().encode("utf-8"))
        self._buffer.seek(0)
        self._buffer.truncate()

    def begin(self) -> None:
        self._csv.writerow(["video_id", "title", "description", "tags"])
        self._flush()

    def write(self, row: ExportRow) -> None:
        super().write(row)
        tags = row.tags or (row.majority_tags() if self.filters.scope == "all" else [])
        self._csv.writerow(
            [row.external_id or str(row.video_id), row.title, row.description, ", ".join(tags)]
        )
        self._flush()


def _choices(tags: list[str]) -> dict[str, object]:
    return {"choices": tags}


def _ls_result(tags: list[str]) -> list[dict[str, object]]:
    if not tags:
        return []
    return [
        {
            "from_name": LS_CHOICES,
            "to_name": LS_TEXT,
            "type": "choices",
            "value": _choices(tags),
            "origin": "manual",
        }
    ]


def labelstudio_task(row: ExportRow, *, with_annotators: bool) -> dict[str, object]:
    annotations: list[dict[str, object]] = []
    if row.labels:
        annotations.append(
            {
                "result": _ls_result(row.tags),
                "ground_truth": True,
                "was_cancelled": False,
                "label_sources": {label.tag: label.source for label in row.labels},
            }
        )
    if with_annotators:
        annotations.extend(
            {
                "result": _ls_result(sorted(annotation.chosen())),
                "ground_truth": False,
                "was_cancelled": False,
                "annotator": annotation.annotator,
                "created_at": _iso(annotation.submitted_at),
            }
            for annotation in row.annotations
        )
    predictions: list[dict[str, object]] = []
    if row.suggestions:
        predictions.append(
            {
                "model_version": row.suggestions[0].model_version,
                "score": round(sum(s.score for s in row.suggestions) / len(row.suggestions), 6),
                "result": [
                    {
                        "from_name": LS_CHOICES,
                        "to_name": LS_TEXT,
                        "type": "choices",
                        "value": _choices([s.tag]),
                        "score": s.score,
                        "above_threshold": s.above_threshold,
                    }
                    for s in row.suggestions
                ],
            }
        )
    return {
        "id": row.video_id,
        "data": {
            "video_id": row.external_id or str(row.video_id),
            LS_TEXT: "\n\n".join(part for part in (row.title, row.description) if part),
            "title": row.title,
            "description": row.description,
            "summary": row.summary,
            "transcript": row.transcript,
            "segments": [[start, end, text] for start, end, text in row.segments],
            "transcript_source": row.transcript_source,
            "keyframes": row.keyframes,
        },
        "annotations": annotations,
        "predictions": predictions,
    }


class LabelStudioWriter(ExportWriter):
    extension = "json"
    content_type = "application/json"
    wants_suggestions = True

    def __init__(self, out: HashingWriter, *, project: Project, filters: ExportFilters) -> None:
        super().__init__(out, project=project, filters=filters)
        self.wants_annotations = filters.include_decisions or filters.scope == "all"

    def begin(self) -> None:
        self.out.write(b"[")

    def write(self, row: ExportRow) -> None:
        self.out.write(b"\n" if self.rows == 0 else b",\n")
        super().write(row)
        self.out.write(_dumps(labelstudio_task(row, with_annotators=self.wants_annotations)))

    def end(self) -> None:
        self.out.write(b"\n]\n")


FORMATS: dict[str, type[ExportWriter]] = {
    "jsonl": JsonlWriter,
    "csv": CsvWriter,
    "labelstudio": LabelStudioWriter,
}


def labelstudio_config(project: Project) -> str:
    """A Label Studio labeling config for the project's tasks: one choice per tag path.

    The tags in use, and every deprecated tag an exported task can still carry: a
    confirmed label, a submitted annotator's choice or a suggestion of it (Label
    Studio refuses a task naming a choice its config lacks).
    """
    choice = "single" if project.is_single_label else "multiple"
    paths = (
        project.tags.filter(
            Q(active=True)
            | Exists(ConfirmedLabel.objects.filter(tag=OuterRef("pk")))
            | Exists(TagDecision.objects.submitted().positive().filter(tag=OuterRef("pk")))
            | Exists(Suggestion.objects.filter(tag=OuterRef("pk")))
        )
        .order_by("path")
        .values_list("path", flat=True)
    )
    lines = [
        "<View>",
        '  <Header value="$title"/>',
        f'  <Text name="{LS_TEXT}" value="${LS_TEXT}"/>',
        f'  <Choices name="{LS_CHOICES}" toName="{LS_TEXT}" choice="{choice}" showInline="false">',
        *(f"    <Choice value={quoteattr(path)}/>" for path in paths),
        "  </Choices>",
        "</View>",
    ]
    return "\n".join(lines) + "\n"
