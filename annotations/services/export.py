"""Dataset exports: immutable snapshots of a project's labels, built in the background.

An admin asks for a snapshot (format and filters); a job reads the project in chunks
of videos, with one query per kind of related data per chunk, and writes each row to
a temporary file as it goes while hashing it, so memory stays flat however many rows
there are. The file is then stored with its row count and SHA-256, and the snapshot
becomes ``ready``: from then on nothing about it changes, and downloading it again
gives the same bytes.
"""

from __future__ import annotations

import logging
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Decision,
    ExportSnapshot,
    Keyframe,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TranscriptSegment,
    Video,
)
from annotations.services.export_filters import SCOPES, ExportFilterError, ExportFilters
from annotations.services.export_formats import FORMATS, HashingWriter
from ml.taxonomy import PATH_SEPARATOR

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# Where imported suggestions remember the model that made them (a version of another project).
SUGGESTIONS_MODEL_KEY = "suggestions_model"
POSITIVE = (Decision.ACCEPT, Decision.ADD)
__all__ = [
    "SCOPES",
    "ExportFilterError",
    "ExportFilters",
    "ExportRow",
    "export_build",
    "export_request",
    "export_rows",
]


@dataclass
class LabelRow:
    tag: str
    source: str
    confirmed_by: str | None
    confirmed_at: datetime


@dataclass
class DecisionRow:
    tag: str
    decision: str
    score: float | None
    model_version: int | None


@dataclass
class AnnotationRow:
    annotator: str
    submitted_at: datetime | None
    decisions: list[DecisionRow] = field(default_factory=list)

    def chosen(self) -> frozenset[str]:
        return frozenset(d.tag for d in self.decisions if d.decision in POSITIVE)


@dataclass
class SuggestionRow:
    tag: str
    score: float
    rank: int
    above_threshold: bool
    model_version: str


@dataclass
class ExportRow:
    """One video with everything a format may write about it."""

    video_id: int
    external_id: str
    title: str
    description: str
    summary: str
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    transcript_source: str = ""
    keyframes: list[float] = field(default_factory=list)
    labels: list[LabelRow] = field(default_factory=list)
    annotations: list[AnnotationRow] = field(default_factory=list)
    suggestions: list[SuggestionRow] = field(default_factory=list)

    @property
    def tags(self) -> list[str]:
        return [label.tag for label in self.labels]

    @property
    def transcript(self) -> str:
        return " ".join(text for _start, _end, text in self.segments)

    @property
    def agreement(self) -> float | None:
        sets = [a.chosen() for a in self.annotations]
        if len(sets) < 2:
            return None
        scores = [
            len(a & b) / len(a | b) if a | b else 1.0
            for i, a in enumerate(sets)
            for b in sets[i + 1 :]
        ]
        return round(sum(scores) / len(scores), 4)

    def majority_tags(self) -> list[str]:
        """Tags chosen by at least half of the annotators, for rows with no confirmed tags."""
        counts: dict[str, int] = defaultdict(int)
        for annotation in self.annotations:
            for tag in annotation.chosen():
                counts[tag] += 1
        needed = len(self.annotations) / 2
        return sorted(tag for tag, n in counts.items() if n >= needed)


def model_label(number: int | None, fallback: str | None = None) -> str:
    return f"v{number}" if number is not None else (fallback or "zero-shot")


def _tag_match(paths: Sequence[str], field_name: str) -> Q:
    query = Q()
    for path in paths:
        query |= Q(**{field_name: path}) | Q(**{f"{field_name}__startswith": path + PATH_SEPARATOR})
    return query


def candidate_videos(project: Project, filters: ExportFilters) -> QuerySet[Video]:
    """The videos a snapshot with these filters holds, before the agreement filter."""
    start, end = filters.time_range()
    labels = ConfirmedLabel.objects.filter(video=OuterRef("pk"))
    submitted = Annotation.objects.filter(video=OuterRef("pk"), state=Annotation.State.SUBMITTED)
    if start is not None:
        labels = labels.filter(confirmed_at__gte=start)
        submitted = submitted.filter(submitted_at__gte=start)
    if end is not None:
        labels = labels.filter(confirmed_at__lt=end)
        submitted = submitted.filter(submitted_at__lt=end)
    videos = Video.objects.filter(project=project)
    if filters.scope == "confirmed":
        videos = videos.filter(Exists(labels))
    else:
        videos = videos.filter(Exists(labels) | Exists(submitted))
    if filters.tags:
        tagged: Q | Exists | Combinable = Exists(
            ConfirmedLabel.objects.filter(video=OuterRef("pk")).filter(
                _tag_match(filters.tags, "tag__path")
            )
        )
        if filters.scope == "all":
            tagged |= Exists(
                TagDecision.objects.filter(
                    annotation__video=OuterRef("pk"),
                    annotation__state=Annotation.State.SUBMITTED,
                    decision__in=POSITIVE,
                ).filter(_tag_match(filters.tags, "tag__path"))
            )
        videos = videos.filter(tagged)
    return videos


def _group(rows: Iterable[tuple[Any, ...]]) -> dict[int, list[tuple[Any, ...]]]:
    grouped: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        grouped[row[0]].append(row[1:])
    return grouped


def _chunk_rows(
    ids_and_fields: list[tuple[Any, ...]],
    *,
    paths: dict[int, str],
    with_annotations: bool,
    with_suggestions: bool,
) -> list[ExportRow]:
    """The rows of one chunk of videos, with one query per kind of related data.

    Related rows are read by the chunk's id range rather than an id list (no list to
    send, and the indexes on video_id serve it); rows of videos outside the chunk that
    fall in the range are read and left unused. Tags are named from ``paths``.
    """
    span = (ids_and_fields[0][0], ids_and_fields[-1][0])
    labels = _group(
        ConfirmedLabel.objects.filter(video_id__gte=span[0], video_id__lte=span[1])
        .order_by()
        .values_list("video_id", "tag_id", "source", "confirmed_by__username", "confirmed_at")
    )
    segments = _group(
        TranscriptSegment.objects.filter(video_id__gte=span[0], video_id__lte=span[1])
        .order_by("video_id", "index")
        .values_list("video_id", "start_seconds", "end_seconds", "text", "source")
    )
    keyframes = _group(
        Keyframe.objects.filter(video_id__gte=span[0], video_id__lte=span[1])
        .order_by("video_id", "timestamp_seconds")
        .values_list("video_id", "timestamp_seconds")
    )
    annotations: dict[int, list[AnnotationRow]] = defaultdict(list)
    if with_annotations:
        by_id: dict[int, AnnotationRow] = {}
        for annotation_id, video_id, annotator, submitted_at in (
            Annotation.objects.filter(
                video_id__gte=span[0], video_id__lte=span[1], state=Annotation.State.SUBMITTED
            )
            .order_by("video_id", "annotator__username")
            .values_list("id", "video_id", "annotator__username", "submitted_at")
        ):
            row = AnnotationRow(annotator, submitted_at)
            by_id[annotation_id] = row
            annotations[video_id].append(row)
        for annotation_id, tag_id, decision, score, number in (
            TagDecision.objects.filter(
                annotation__video_id__gte=span[0],
                annotation__video_id__lte=span[1],
                annotation__state=Annotation.State.SUBMITTED,
            )
            .order_by()
            .values_list(
                "annotation_id", "tag_id", "decision", "suggested_score", "model_version__number"
            )
        ):
            by_id[annotation_id].decisions.append(
                DecisionRow(paths.get(tag_id, ""), decision, score, number)
            )
        for annotation in by_id.values():
            annotation.decisions.sort(key=lambda d: d.tag)
    suggestions = (
        _group(
            Suggestion.objects.filter(video_id__gte=span[0], video_id__lte=span[1])
            .order_by()
            .values_list(
                "video_id", "tag_id", "score", "rank", "above_threshold", "model_version__number"
            )
        )
        if with_suggestions
        else {}
    )
    rows = []
    for video_id, external_id, title, description, summary, imported_model in ids_and_fields:
        video_segments = segments.get(video_id, [])
        rows.append(
            ExportRow(
                video_id=video_id,
                external_id=external_id,
                title=title,
                description=description,
                summary=summary,
                segments=[(s, e, t) for s, e, t, _src in video_segments],
                transcript_source=str(video_segments[0][3]) if video_segments else "",
                keyframes=[t for (t,) in keyframes.get(video_id, [])],
                labels=sorted(
                    (
                        LabelRow(paths.get(tag_id, ""), source, by, at)
                        for tag_id, source, by, at in labels.get(video_id, [])
                    ),
                    key=lambda label: label.tag,
                ),
                annotations=annotations.get(video_id, []),
                suggestions=sorted(
                    (
                        SuggestionRow(
                            paths.get(tag_id, ""),
                            score,
                            rank,
                            above,
                            model_label(n, imported_model),
                        )
                        for tag_id, score, rank, above, n in suggestions.get(video_id, [])
                    ),
                    key=lambda s: (s.rank, s.tag),
                ),
            )
        )
    return rows


def export_rows(
    project: Project,
    filters: ExportFilters,
    *,
    with_annotations: bool = True,
    with_suggestions: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[ExportRow]:
    """The snapshot's rows in video id order, read chunk by chunk (keyset pagination)."""
    videos = candidate_videos(project, filters).order_by("id")
    paths = dict(Tag.objects.filter(project=project).values_list("id", "path"))
    need_annotations = with_annotations or filters.min_agreement is not None
    last_id = 0
    while True:
        chunk = list(
            videos.filter(id__gt=last_id).values_list(
                "id",
                "external_id",
                "title",
                "description",
                "summary",
                KT(f"metadata__{SUGGESTIONS_MODEL_KEY}"),
            )[:chunk_size]
        )
        if not chunk:
            return
        last_id = chunk[-1][0]
        for row in _chunk_rows(
            chunk,
            paths=paths,
            with_annotations=need_annotations,
            with_suggestions=with_suggestions,
        ):
            if filters.min_agreement is not None:
                agreement = row.agreement
                if agreement is None or agreement < filters.min_agreement:
                    continue
            yield row


def export_request(
    *, project: Project, user: User | None, fmt: str, filters: ExportFilters
) -> ExportSnapshot:
    """Record a snapshot to build and queue its job; the promoted model is noted now."""
    if fmt not in FORMATS:
        raise ExportFilterError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    with transaction.atomic():
        snapshot = ExportSnapshot.objects.create(
            project=project,
            format=fmt,
            filters=filters.as_dict(),
            state=ExportSnapshot.State.BUILDING,
            model_version=ModelVersion.objects.filter(
                project=project, state=ModelVersion.State.PROMOTED
            ).first(),
            created_by=user,
        )
        transaction.on_commit(lambda: _enqueue(snapshot.pk))
    return snapshot


def _enqueue(snapshot_id: int) -> None:
    from annotations.tasks_export import enqueue_export

    enqueue_export(snapshot_id)


def export_build(*, snapshot_id: int) -> ExportSnapshot:
    """Write the snapshot's file; a snapshot that is already built is left as it is."""
    snapshot = ExportSnapshot.objects.select_related("project").get(pk=snapshot_id)
    if snapshot.state != ExportSnapshot.State.BUILDING:
        return snapshot
    temp_path: Path | None = None
    try:
        filters = ExportFilters.from_dict(snapshot.filters)
        writer_class = FORMATS[snapshot.format]
        with tempfile.NamedTemporaryFile(delete=False, suffix=f".{writer_class.extension}") as fh:
            temp_path = Path(fh.name)
            out = HashingWriter(fh)
            writer = writer_class(out, project=snapshot.project, filters=filters)
            writer.begin()
            for count, row in enumerate(
                export_rows(
                    snapshot.project,
                    filters,
                    with_annotations=writer.wants_annotations,
                    with_suggestions=writer.wants_suggestions,
                ),
                start=1,
            ):
                writer.write(row)
                if count % (CHUNK_SIZE * 10) == 0:
                    # Progress for the jobs endpoint; frozen once the snapshot is ready.
                    ExportSnapshot.objects.filter(
                        pk=snapshot.pk, state=ExportSnapshot.State.BUILDING
                    ).update(row_count=count)
            writer.end()
        name = (
            f"exports/{snapshot.project_id}/"
            f"{snapshot.pk}-{snapshot.format}.{writer_class.extension}"
        )
        with temp_path.open("rb") as handle:
            stored = default_storage.save(name, File(handle))
        finished = ExportSnapshot.objects.filter(
            pk=snapshot.pk, state=ExportSnapshot.State.BUILDING
        ).update(
            state=ExportSnapshot.State.READY,
            file=stored,
            row_count=writer.rows,
            sha256=out.hexdigest(),
            error="",
        )
        if not finished:
            # Another run finished it first; its file is the snapshot, this one is extra.
            default_storage.delete(stored)
    except Exception as exc:
        logger.exception("export %s failed", snapshot_id)
        ExportSnapshot.objects.filter(pk=snapshot.pk, state=ExportSnapshot.State.BUILDING).update(
            state=ExportSnapshot.State.FAILED, error=f"the export could not be written: {exc}"
        )
    finally:
        if temp_path is not None:
            temp_path.unlink(missing_ok=True)
    snapshot.refresh_from_db()
    return snapshot
