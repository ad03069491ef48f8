"""Dataset exports: immutable snapshots of a project's labels, built in the background.

An admin asks for a snapshot (format and filters); a job writes each row (see rows.py)
to a temporary file as it goes while hashing it, so memory stays flat however many
rows there are. The file is then stored with its row count and SHA-256, and the
snapshot becomes ``ready``: from then on nothing about it changes, and downloading it
again gives the same bytes.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotations import enqueue
from annotations.models import ExportSnapshot, ModelVersion, Project
from annotations.services.export.filters import ExportFilterError, ExportFilters
from annotations.services.export.formats import FORMATS, HashingWriter
from annotations.services.export.rows import CHUNK_SIZE, export_rows

logger = logging.getLogger(__name__)


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
            model_version=ModelVersion.objects.filter(project=project).promoted().first(),
            created_by=user,
        )
        enqueue.export(snapshot.pk)
    return snapshot


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
