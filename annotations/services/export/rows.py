"""The rows of an export: one per video, with everything a format may write about it.

The project is read in chunks of videos (keyset pagination), with one query per kind
of related data per chunk, so memory stays flat however many rows there are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import Combinable
from django.db.models.fields.json import KT

from annotations.models import (
    POSITIVE_DECISIONS,
    SUGGESTIONS_MODEL_KEY,
    Annotation,
    ConfirmedLabel,
    Keyframe,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TranscriptSegment,
    Video,
)
from annotations.services.export.filters import ExportFilters
from ml.taxonomy import PATH_SEPARATOR

CHUNK_SIZE = 1000


@dataclass
class LabelRow:
    tag: str
    source: str
    confirmed_by: str | None
    confirmed_at: datetime
    # The number of the model version that confirmed it (source "model" only).
    model_version: int | None = None


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
        return frozenset(d.tag for d in self.decisions if d.decision in POSITIVE_DECISIONS)


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


def exported_labels(filters: ExportFilters) -> QuerySet[ConfirmedLabel]:
    """The confirmed labels a snapshot may hold: people's only, when the filters say so."""
    labels = ConfirmedLabel.objects.all()
    return labels.human() if filters.human_only else labels


def candidate_videos(project: Project, filters: ExportFilters) -> QuerySet[Video]:
    """The videos a snapshot with these filters holds, before the agreement filter."""
    start, end = filters.time_range()
    labels = exported_labels(filters).filter(video=OuterRef("pk"))
    submitted = Annotation.objects.submitted().filter(video=OuterRef("pk"))
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
            exported_labels(filters)
            .filter(video=OuterRef("pk"))
            .filter(_tag_match(filters.tags, "tag__path"))
        )
        if filters.scope == "all":
            tagged |= Exists(
                TagDecision.objects.submitted()
                .positive()
                .filter(annotation__video=OuterRef("pk"))
                .filter(_tag_match(filters.tags, "tag__path"))
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
    filters: ExportFilters,
    paths: dict[int, str],
    with_annotations: bool,
    with_suggestions: bool,
) -> list[ExportRow]:
    """The rows of one chunk of videos, with one query per kind of related data.

    Related rows are read by the chunk's id range rather than an id list (no list to
    send, and the indexes on video_id serve it); rows of videos outside the chunk that
    fall in the range are read and left unused. Tags are named from ``paths``; the
    confirmed labels are those ``filters`` keep (see ``exported_labels``).
    """
    span = (ids_and_fields[0][0], ids_and_fields[-1][0])
    labels = _group(
        exported_labels(filters)
        .filter(video_id__gte=span[0], video_id__lte=span[1])
        .order_by()
        .values_list(
            "video_id",
            "tag_id",
            "source",
            "confirmed_by__username",
            "confirmed_at",
            "model_version__number",
        )
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
            Annotation.objects.submitted()
            .filter(video_id__gte=span[0], video_id__lte=span[1])
            .order_by("video_id", "annotator__username")
            .values_list("id", "video_id", "annotator__username", "submitted_at")
        ):
            row = AnnotationRow(annotator, submitted_at)
            by_id[annotation_id] = row
            annotations[video_id].append(row)
        for annotation_id, tag_id, decision, score, number in (
            TagDecision.objects.submitted()
            .filter(annotation__video_id__gte=span[0], annotation__video_id__lte=span[1])
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
                        LabelRow(paths.get(tag_id, ""), source, by, at, version)
                        for tag_id, source, by, at, version in labels.get(video_id, [])
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
            filters=filters,
            paths=paths,
            with_annotations=need_annotations,
            with_suggestions=with_suggestions,
        ):
            if filters.min_agreement is not None:
                agreement = row.agreement
                if agreement is None or agreement < filters.min_agreement:
                    continue
            yield row
