"""Dataset exports: immutable snapshots of a project's labels, built in the background.

An admin asks for a snapshot (format and filters); a job (``Job`` of kind ``export``)
writes each row (see rows.py) to a temporary file in the run's scratch folder as it
goes while hashing it, so memory stays flat however many rows there are. The file is
then stored with its row count and SHA-256, and the snapshot becomes ``ready`` in the
same transaction as its job ends: from then on nothing about it changes, and
downloading it again gives the same bytes. A run killed half way leaves nothing: its
temporary file goes with its scratch folder, and a stored file no snapshot names is
replaced by the next run or deleted when the job fails.
"""

from __future__ import annotations

import logging
import tempfile

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.models import ExportSnapshot, Job, ModelVersion, Project
from annotations.services.export.filters import ExportFilterError, ExportFilters
from annotations.services.export.formats import FORMATS, HashingWriter
from annotations.services.export.rows import CHUNK_SIZE, export_rows
from annotations.services.jobs.lifecycle import JobFailed, JobRun, job_object, job_request

logger = logging.getLogger(__name__)


def export_request(
    *,
    project: Project,
    user: User | None,
    fmt: str,
    filters: ExportFilters,
    hand_over_now: bool = True,
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
            model_version=ModelVersion.objects.filter(project=project).promoted().first(),
            created_by=user,
        )
        job_request(
            kind=Job.Kind.EXPORT,
            project=project,
            object_id=snapshot.pk,
            user=user,
            hand_over_now=hand_over_now,
        )
    return snapshot


def _file_name(snapshot: ExportSnapshot) -> str:
    extension = FORMATS[snapshot.format].extension
    return f"exports/{snapshot.project_id}/{snapshot.pk}-{snapshot.format}.{extension}"


def export_job_run(job: Job, run: JobRun) -> str:
    """Write the snapshot's file and store it; the snapshot is ready when the job is done."""
    snapshot = job_object(job, ExportSnapshot.objects.select_related("project"), "snapshot")
    if snapshot.state != ExportSnapshot.State.BUILDING:
        raise JobFailed(f"the snapshot is {snapshot.state}, not waiting to be built")
    try:
        filters = ExportFilters.from_dict(snapshot.filters)
    except ExportFilterError as exc:
        raise JobFailed(f"the export could not be written: {exc}") from None
    writer_class = FORMATS[snapshot.format]
    run.progress(0.0, stage="0 rows written")
    # In the run's scratch folder (tempfile's folder while the job runs).
    with tempfile.NamedTemporaryFile(suffix=f".{writer_class.extension}") as handle:
        out = HashingWriter(handle)
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
            if count % CHUNK_SIZE == 0:
                run.progress(None, stage=f"{count} rows written")
                if count % (CHUNK_SIZE * 10) == 0:
                    ExportSnapshot.objects.filter(pk=snapshot.pk).update(row_count=count)
        writer.end()
        handle.flush()
        handle.seek(0)
        name = _file_name(snapshot)
        # A file there is one a killed run stored without making the snapshot ready.
        default_storage.delete(name)
        stored = default_storage.save(name, File(handle))
    message = f"{writer.rows} rows"
    try:
        with run.complete(message, result={"snapshot": snapshot.pk, "rows": writer.rows}):
            ExportSnapshot.objects.filter(pk=snapshot.pk).update(
                state=ExportSnapshot.State.READY,
                file=stored,
                row_count=writer.rows,
                sha256=out.hexdigest(),
                error="",
            )
    except BaseException:
        default_storage.delete(stored)
        raise
    return message


def export_job_ended(job: Job, state: str, reason: str) -> None:
    """A failed or cancelled export: the snapshot fails with the reason, and keeps no file."""
    snapshot = ExportSnapshot.objects.filter(
        pk=job.object_pk, state=ExportSnapshot.State.BUILDING
    ).first()
    if snapshot is None:
        return
    error = (
        f"the export could not be written: {reason}"
        if state == Job.State.FAILED
        else f"cancelled: {reason}"
    )
    ExportSnapshot.objects.filter(pk=snapshot.pk).update(
        state=ExportSnapshot.State.FAILED, error=error
    )
    name = _file_name(snapshot)
    transaction.on_commit(lambda: default_storage.delete(name))


def export_job_queued(job: Job) -> None:
    """A failed export tried again: the snapshot is being built again."""
    ExportSnapshot.objects.filter(pk=job.object_pk, state=ExportSnapshot.State.FAILED).update(
        state=ExportSnapshot.State.BUILDING, error="", row_count=0
    )
