"""Many text-only videos at once: what the project already has, and the inserts.

Existence is looked up per batch with one query per kind of key (external ids; title
and description for rows without an id), on indexes, so a batch costs the same in an
empty project and in one of a million videos. The videos (those imported with tags
already at the end of "most uncertain first": ``queue_uncertainty``), their imported
confirmed tags and the "added" history entries of those tags go in with one statement per
table: COPY on PostgreSQL, with the videos' ids taken from their sequence first so the
labels can name them; bulk_create elsewhere (SQLite), which returns the ids.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction
from django.db.models import Model
from psycopg.types.json import Jsonb

from annotations.models import ConfirmedLabel, LabelChange, LabelSource, Project, Tag, Video
from annotations.models.videos import queue_uncertainty
from annotations.services.bulk_copy import CopyRows, next_ids

logger = logging.getLogger(__name__)


@dataclass
class NewVideo:
    """A text-only video to insert, with the tags it is imported with."""

    title: str
    description: str
    external_id: str
    metadata: dict[str, object]
    tags: list[Tag] = field(default_factory=list)


def existing_external_ids(project: Project, ids: Collection[str]) -> dict[str, int]:
    """The project's videos among these external ids: id -> video id."""
    if not ids:
        return {}
    found = Video.objects.filter(project=project, external_id__in=list(ids))
    return dict(found.values_list("external_id", "pk"))


def existing_text_only(
    project: Project, keys: Collection[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """The project's text-only videos (no id, no file) among these (title, description)."""
    if not keys:
        return {}
    # The conditions of the partial index on the title of text-only videos (migration 0007).
    found = Video.objects.filter(
        project=project, external_id="", sha256="", title__in={title for title, _ in keys}
    ).order_by("pk")
    existing: dict[tuple[str, str], int] = {}
    for title, description, pk in found.values_list("title", "description", "pk"):
        if (title, description) in keys:
            existing.setdefault((title, description), pk)
    return existing


def video_statistics_refresh() -> bool:
    """ANALYZE the video table on PostgreSQL (PostgreSQL's advice after a bulk load).

    Without statistics on a table that grew faster than autovacuum looked at it, a lookup
    of thousands of titles or ids is estimated to match every row, and the planner scans
    the project instead of using the index: each batch then costs more than the one
    before (measured: 89 µs of PostgreSQL a video at the start of a million-row import,
    169 at its end, 90 again once analysed). False when this user may not analyse it.
    """
    if connection.vendor != "postgresql":
        return True
    quote = connection.ops.quote_name
    # Only the columns the lookups filter on: with no column list ANALYZE also computes
    # the full-text index's expression for every sampled row (1.3 s of CPU each time).
    column = {field.name: str(field.column) for field in Video._meta.concrete_fields}
    columns = ", ".join(quote(column[name]) for name in ("project", "external_id", "sha256", "title"))
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {quote(Video._meta.db_table)} ({columns})")
    except DatabaseError as exc:
        logger.warning("could not analyse the video table, imports may slow down: %s", exc)
        return False
    return True


def videos_insert(*, project: Project, videos: Sequence[NewVideo], user: User | None) -> list[int]:
    """Insert the videos, their confirmed tags and those tags' history; their ids, in order.

    Runs in the caller's transaction; an IntegrityError means another import stored one
    of these external ids since they were looked up.
    """
    if not videos:
        return []
    if connection.vendor == "postgresql":
        return _copy_insert(project, videos, user)
    return _orm_insert(project, videos, user)


def _orm_insert(project: Project, videos: Sequence[NewVideo], user: User | None) -> list[int]:
    created = Video.objects.bulk_create(
        Video(
            project=project,
            title=video.title,
            description=video.description,
            external_id=video.external_id,
            metadata=video.metadata,
            uncertainty=queue_uncertainty(confirmed=bool(video.tags)),
        )
        for video in videos
    )
    ids = [video.pk for video in created]
    labels = [
        ConfirmedLabel(video_id=video_id, tag=tag, source=LabelSource.IMPORT, confirmed_by=user)
        for video_id, video in zip(ids, videos, strict=True)
        for tag in video.tags
    ]
    ConfirmedLabel.objects.bulk_create(labels)
    LabelChange.objects.bulk_create(label.added_change() for label in labels)
    return ids


def _copy_insert(project: Project, videos: Sequence[NewVideo], user: User | None) -> list[int]:
    ids = next_ids(Video, len(videos))
    columns = ["id", "title", "description", "external_id", "metadata", "uncertainty"]
    video_rows = CopyRows(Video(project=project), columns)
    video_rows.copy(
        video_rows.line(
            pk,
            video.title,
            video.description,
            video.external_id,
            video.metadata,
            queue_uncertainty(confirmed=bool(video.tags)),
        )
        for pk, video in zip(ids, videos, strict=True)
    )
    tagged = [(pk, tag.pk) for pk, video in zip(ids, videos, strict=True) for tag in video.tags]
    if tagged:
        label_rows = CopyRows(
            ConfirmedLabel(source=LabelSource.IMPORT, confirmed_by=user), ["video_id", "tag_id"]
        )
        label_rows.copy(label_rows.line(pk, tag_id) for pk, tag_id in tagged)
        change_rows = CopyRows(
            LabelChange(
                action=LabelChange.Action.ADDED, source=LabelSource.IMPORT, changed_by=user
            ),
            ["video_id", "tag_id"],
        )
        change_rows.copy(change_rows.line(pk, tag_id) for pk, tag_id in tagged)
    return ids
