"""Importing datasets: a Label Studio JSON export, or this app's own JSONL export.

Each task or line becomes a video with its transcript, its confirmed labels (Label
Studio: the ground-truth annotation, else the majority of the annotations), its
annotators' submitted annotations (when the annotator is a user here) and its
suggestions (Label Studio predictions). Exporting what was imported gives the same
rows again, except for ids and keyframe images, which are not part of a dataset.

Imported suggestions keep the name of the model that made them in the video's
metadata, never a link to a model version of this project, which may be another
model with the same number.

A confirmed label keeps the source the file gives it ("review", "agreement") only when
this project holds what backs it: the reviewer as a user here, an imported answer that
chose the tag. Otherwise it arrives as imported, and the report says so for each label.

Through the API an import is a job (``Job`` of kind ``import``) reading the stored
file: each item commits together with the job's checkpoint (how many items are done,
and the report so far), so a run that stops is taken up after the last item it stored,
and no item is imported twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import IO, Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from annotations.models import (
    POSITIVE_DECISIONS,
    SUGGESTIONS_MODEL_KEY,
    Annotation,
    ConfirmedLabel,
    Decision,
    Job,
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
from annotations.services.jobs.lifecycle import JobFailed, JobRun, job_request
from annotations.services.learning.uncertainty import uncertainty_refresh
from annotations.services.search import search_documents_requested
from annotations.services.stored_files import local_copy
from annotations.services.taxonomy import taxonomy_import
from ml.taxonomy import TaxonomyEntry, ancestors

logger = logging.getLogger(__name__)
# Largest dataset file the API accepts, and that an import job copies from the storage.
MAX_IMPORT_BYTES = 512 * 1024**2

__all__ = [
    "FORMATS",
    "MAX_IMPORT_BYTES",
    "DatasetImportReport",
    "InterchangeError",
    "dataset_import",
    "dataset_import_job_run",
    "dataset_import_request",
    "read_items",
]


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
            # Another project's model is no version here, and no person's word either:
            # exports of people's labels and training leave such a label out.
            label_source = LabelSource.IMPORTED_MODEL
        if label_source not in LabelSource.values:
            label_source = LabelSource.IMPORT
        # The file says who confirmed (JSONL, even "nobody"); otherwise the importer did.
        confirmer = users.get(item.label_by[path] or "") if path in item.label_by else user
        unbacked = _unbacked_source(item, path, label_source, confirmer, users)
        if unbacked:
            warnings.append(f"tag {path!r}: {unbacked}; kept as imported")
            label_source = LabelSource.IMPORT
        labels.append(
            ConfirmedLabel(video=video, tag=tag, source=label_source, confirmed_by=confirmer)
        )
    ConfirmedLabel.objects.bulk_create(labels)
    for label in labels:
        # When the labels were confirmed is part of the dataset (exports filter on it).
        when = item.label_at.get(label.tag.path)
        if when is not None:
            ConfirmedLabel.objects.filter(pk=label.pk).update(confirmed_at=when)
    LabelChange.objects.bulk_create(label.added_change() for label in labels)
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
    # Its confirmed labels and suggestions are both stored: the rule decides between them.
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


def _unbacked_source(
    item: ImportItem, path: str, source: str, confirmer: User | None, users: dict[str, User]
) -> str:
    """Why the label's source cannot stand here ("" when it can).

    A label says how it was confirmed only when this project holds what says so (what
    ``audit_labels`` checks): the reviewer, a user here, for "review"; an imported
    answer that chose the tag for "agreement" (an export without the annotators'
    decisions has none).
    """
    if source == LabelSource.REVIEW and confirmer is None:
        named = item.label_by.get(path)
        return (
            f"confirmed by review of {named!r}, who is not a user here"
            if named
            else "confirmed by review, with no reviewer named"
        )
    if source == LabelSource.AGREEMENT and not any(
        tag == path and decision in POSITIVE_DECISIONS
        for answer in item.annotations
        if answer.annotator in users
        for tag, decision, _score in answer.decisions
    ):
        return "confirmed by agreement, but no imported answer chose it"
    return ""


# Called with the number of items done and the report so far, in the transaction of
# the last item stored (so that both commit together), or on its own after an item
# that stored nothing.
Checkpoint = Callable[[int, DatasetImportReport], None]


def dataset_import(
    *,
    project: Project,
    stream: IO[bytes],
    fmt: str,
    user: User | None = None,
    create_missing_tags: bool = False,
    report: DatasetImportReport | None = None,
    items_done: int = 0,
    checkpoint: Checkpoint | None = None,
) -> DatasetImportReport:
    """Import every item of a dataset file; each is stored in its own transaction.

    An item whose external id is already in the project is skipped, so importing a
    file twice creates nothing new; an item that cannot be read is reported and the
    others go on. A file that cannot be read at all raises InterchangeError. The first
    ``items_done`` items are passed over (a run taken up again, with its ``report``).
    """
    report = report or DatasetImportReport()
    tags = _Tags(project, create=create_missing_tags, report=report)
    for index, item in enumerate(read_items(stream, fmt), start=1):
        if index <= items_done:
            continue
        if isinstance(item, InterchangeError):
            report.failed += 1
            report.note(str(item))
        elif item.external_id and project.videos.filter(external_id=item.external_id).exists():
            report.skipped += 1
            report.note(f"item {item.position}: {item.external_id!r} is already in the project")
        else:
            _import_item(project, item, tags, user, report, index, checkpoint)
            continue
        if checkpoint is not None:
            with transaction.atomic():
                checkpoint(index, report)
    if report.created:
        search_documents_requested()
    return report


def _import_item(
    project: Project,
    item: ImportItem,
    tags: _Tags,
    user: User | None,
    report: DatasetImportReport,
    index: int,
    checkpoint: Checkpoint | None,
) -> None:
    before = DatasetImportReport(**asdict(report))
    try:
        with transaction.atomic():
            tags.ensure(item.all_tags())
            users = _users(
                [a.annotator for a in item.annotations]
                + [who for who in item.label_by.values() if who]
            )
            video, warnings = _store_item(project, item, tags, users, user)
            job_request(
                kind=Job.Kind.INGEST,
                project=project,
                object_id=video.pk,
                params={"only": _ingest_steps(item)},
                user=user,
            )
            report.created += 1
            for warning in warnings:
                report.note(f"item {item.position}: {warning}")
            if checkpoint is not None:
                checkpoint(index, report)
    except Exception as exc:  # one bad item must not stop the others
        logger.warning("dataset item %s failed: %s", item.position, exc)
        # What the rolled-back item added to the report is gone with it.
        for name, value in asdict(before).items():
            setattr(report, name, value)
        report.failed += 1
        report.note(f"item {item.position}: {exc}")
        if checkpoint is not None:
            with transaction.atomic():
                checkpoint(index, report)


def dataset_import_request(
    *,
    project: Project,
    upload: UploadedFile,
    fmt: str,
    user: User | None,
    create_missing_tags: bool = False,
) -> Job:
    """Store the file and queue the job that imports it.

    A file that cannot be read at all (a Label Studio export that is not a JSON list)
    is refused now, with InterchangeError; items that cannot be read are the job's to
    report.
    """
    if fmt not in FORMATS:
        raise InterchangeError(f"format must be one of {', '.join(FORMATS)}; got {fmt!r}")
    if fmt == "labelstudio":
        next(read_items(upload, fmt), None)
        upload.seek(0)
    return job_request(
        kind=Job.Kind.IMPORT,
        project=project,
        params={"format": fmt, "create_missing_tags": create_missing_tags},
        user=user,
        input_file=upload,
    )


def dataset_import_job_run(job: Job, run: JobRun) -> str:
    """The import job: the stored file's items, from the first one no run stored yet."""
    if not job.input_file:
        raise JobFailed("the file to import is no longer there; send it again")
    saved: dict[str, Any] = job.result.get("report") or {}
    report = DatasetImportReport(**saved)
    done = int(job.result.get("items_done", 0))
    read = [done]

    def checkpoint(items_done: int, so_far: DatasetImportReport) -> None:
        run.write_checkpoint({"items_done": items_done, "report": asdict(so_far)})
        run.progress(None, stage=f"{items_done} items read: {so_far.summary()}")
        read[0] = items_done

    run.progress(0.0, stage=f"{done} items read" if done else "reading the file")
    try:
        # A local file to read (a copy in the run's scratch folder with object storage).
        with (
            local_copy(job.input_file, limit=MAX_IMPORT_BYTES) as path,
            path.open("rb") as stream,
        ):
            dataset_import(
                project=job.project,
                stream=stream,
                fmt=str(job.params.get("format", "")),
                user=job.requested_by,
                create_missing_tags=bool(job.params.get("create_missing_tags")),
                report=report,
                items_done=done,
                checkpoint=checkpoint,
            )
    except InterchangeError as exc:
        raise JobFailed(str(exc)) from None
    result = {"items_done": read[0], "report": asdict(report)}
    with run.complete(report.summary(), result=result):
        pass
    return report.summary()
