"""Importing datasets: a Label Studio JSON export, or this app's own JSONL export.

Each task or line becomes a video with its transcript, its confirmed labels (Label
Studio: the ground-truth annotation, else the majority of the annotations), its
annotators' submitted annotations (when the annotator is a user here) and its
suggestions (Label Studio predictions). Exporting what was imported gives the same
rows again, except for ids and keyframe images, which are not part of a dataset.

Imported suggestions keep the name of the model that made them in the video's
metadata, never a link to a model version of this project, which may be another
model with the same number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotations import enqueue
from annotations.models import (
    SUGGESTIONS_MODEL_KEY,
    Annotation,
    ConfirmedLabel,
    Decision,
    LabelChange,
    LabelSource,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    TranscriptSegment,
    Video,
)
from annotations.services.interchange.reading import (
    FORMATS,
    DatasetImportReport,
    ImportItem,
    InterchangeError,
    read_items,
)
from annotations.services.learning.suggestions import uncertainty_refresh
from annotations.services.taxonomy import taxonomy_import
from ml.taxonomy import TaxonomyEntry, ancestors

logger = logging.getLogger(__name__)

__all__ = ["FORMATS", "DatasetImportReport", "InterchangeError", "dataset_import", "read_items"]


class _Tags:
    def __init__(self, project: Project, *, create: bool, report: DatasetImportReport) -> None:
        self.project = project
        self.create = create
        self.report = report
        self.by_path = {tag.path: tag for tag in Tag.objects.filter(project=project)}

    def ensure(self, paths: Iterable[str]) -> None:
        missing = sorted({p for p in paths if p and p not in self.by_path})
        if not missing or not self.create:
            return
        entries = [
            TaxonomyEntry(path) for path in sorted({a for p in missing for a in ancestors(p)})
        ]
        result = taxonomy_import(project=self.project, entries=entries)
        self.report.tags_created += result.created
        self.by_path = {tag.path: tag for tag in Tag.objects.filter(project=self.project)}

    def get(self, path: str) -> Tag | None:
        return self.by_path.get(path)


def _users(names: Iterable[str]) -> dict[str, User]:
    names = set(names)
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    emails = [n.removeprefix("email:") for n in names if n.startswith("email:")]
    for user in User.objects.filter(email__in=emails).exclude(email=""):
        users[f"email:{user.email}"] = user
    return users


def _ingest_steps(item: ImportItem) -> list[str]:
    # What the dataset brought is kept: only what it lacks is derived again.
    steps = ["probe", "transcript", "text", "frames", "audio", "image_embedding"]
    if not item.summary:
        steps.append("summary")
    if not item.suggestions:
        steps.append("suggestions")
    return steps


def _store_item(
    project: Project, item: ImportItem, tags: _Tags, users: dict[str, User], user: User | None
) -> tuple[Video, list[str]]:
    warnings: list[str] = []
    unknown = sorted(p for p in item.all_tags() if tags.get(p) is None)
    metadata: dict[str, object] = {"imported_from": "dataset"}
    if unknown:
        metadata["unknown_tags"] = unknown
        warnings.append(f"unknown tags kept in metadata only: {', '.join(unknown)}")
    if item.suggestions_model and item.suggestions_model != "zero-shot":
        metadata[SUGGESTIONS_MODEL_KEY] = item.suggestions_model
    video = Video.objects.create(
        project=project,
        title=item.title,
        description=item.description,
        external_id=item.external_id,
        summary=item.summary,
        metadata=metadata,
    )
    source = item.transcript_source or TranscriptSegment.Source.SIDECAR
    TranscriptSegment.objects.bulk_create(
        TranscriptSegment(
            video=video,
            index=index,
            start_seconds=start,
            end_seconds=end,
            text=text,
            source=source,
            producer={"imported": True},
        )
        for index, (start, end, text) in enumerate(item.segments)
    )
    labels = []
    for path in item.tags:
        tag = tags.get(path)
        if tag is None:
            continue
        label_source = item.label_sources.get(path) or LabelSource.IMPORT
        if label_source == LabelSource.MODEL:
            # Another project's model is no version here: the label arrives as imported,
            # and the video's metadata keeps that a model had confirmed it.
            model_confirmed = metadata.setdefault("model_confirmed_tags", [])
            assert isinstance(model_confirmed, list)
            model_confirmed.append(path)
        if label_source not in LabelSource.values or label_source == LabelSource.MODEL:
            label_source = LabelSource.IMPORT
        # The file says who confirmed (JSONL, even "nobody"); otherwise the importer did.
        confirmer = users.get(item.label_by[path] or "") if path in item.label_by else user
        labels.append(
            ConfirmedLabel(video=video, tag=tag, source=label_source, confirmed_by=confirmer)
        )
    if "model_confirmed_tags" in metadata:
        video.metadata = metadata
        video.save(update_fields=["metadata"])
    ConfirmedLabel.objects.bulk_create(labels)
    for label in labels:
        # When the labels were confirmed is part of the dataset (exports filter on it).
        when = item.label_at.get(label.tag.path)
        if when is not None:
            ConfirmedLabel.objects.filter(pk=label.pk).update(confirmed_at=when)
    LabelChange.objects.bulk_create(
        LabelChange(
            video=video,
            tag=label.tag,
            action=LabelChange.Action.ADDED,
            source=label.source,
            changed_by=label.confirmed_by,
        )
        for label in labels
    )
    Suggestion.objects.bulk_create(
        Suggestion(
            video=video,
            tag=tag,
            score=s.score,
            rank=s.rank,
            above_threshold=s.above_threshold,
        )
        for s in item.suggestions
        if (tag := tags.get(s.tag)) is not None
    )
    uncertainty_refresh(video_ids=[video.pk])
    for imported in item.annotations:
        annotator = users.get(imported.annotator)
        if annotator is None:
            warnings.append(f"annotator {imported.annotator!r} is not a user here; skipped")
            continue
        annotation = Annotation.objects.create(
            video=video,
            annotator=annotator,
            state=Annotation.State.SUBMITTED,
            submitted_at=imported.submitted_at or timezone.now(),
        )
        TagDecision.objects.bulk_create(
            TagDecision(annotation=annotation, tag=tag, decision=decision, suggested_score=score)
            for path, decision, score in imported.decisions
            if (tag := tags.get(path)) is not None and decision in Decision.values
        )
    return video, warnings


def dataset_import(
    *,
    project: Project,
    stream: IO[bytes],
    fmt: str,
    user: User | None = None,
    create_missing_tags: bool = False,
) -> DatasetImportReport:
    """Import every item of a dataset file; each is stored in its own transaction.

    An item whose external id is already in the project is skipped, so importing a
    file twice creates nothing new; an item that cannot be read is reported and the
    others go on. A file that cannot be read at all raises InterchangeError.
    """
    report = DatasetImportReport()
    tags = _Tags(project, create=create_missing_tags, report=report)
    for item in read_items(stream, fmt):
        if isinstance(item, InterchangeError):
            report.failed += 1
            report.note(str(item))
            continue
        if item.external_id and project.videos.filter(external_id=item.external_id).exists():
            report.skipped += 1
            report.note(f"item {item.position}: {item.external_id!r} is already in the project")
            continue
        try:
            with transaction.atomic():
                tags.ensure(item.all_tags())
                users = _users(
                    [a.annotator for a in item.annotations]
                    + [who for who in item.label_by.values() if who]
                )
                video, warnings = _store_item(project, item, tags, users, user)
                enqueue.ingest(video.pk, _ingest_steps(item))
        except Exception as exc:  # one bad item must not stop the others
            logger.warning("dataset item %s failed: %s", item.position, exc)
            report.failed += 1
            report.note(f"item {item.position}: {exc}")
            continue
        report.created += 1
        for warning in warnings:
            report.note(f"item {item.position}: {warning}")
    return report
