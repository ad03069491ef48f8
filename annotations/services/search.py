"""Writing the video list's search documents, after the videos were stored.

The import stores videos without stemming their text (see ``models.search``); a
background task writes their documents here, a batch per transaction, shortly after
each import batch commits and, for whatever else is left, every minute. Two workers
writing at once take different batches (``SKIP LOCKED``), and a worker that dies mid
batch leaves it listed, to be written by the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction

from annotations import enqueue
from annotations.models import PendingSearchDocument

# Videos per transaction: a batch costs a few tenths of a second of PostgreSQL's time,
# so a stopping worker is never long in one, and the round trips are a small share.
BATCH_SIZE = 2000

# Every statement here reads by primary key, and must whatever the planner's statistics
# say: right after an import they describe tables a thousand times smaller, and a plan
# on them scanned the whole list for each batch (4 s a batch at a million videos).
BY_KEYS_ONLY = "SET LOCAL enable_seqscan = off"
# The listed videos after the last one this run took, so that a batch starts where the
# previous one ended instead of walking the index entries of the ones it unlisted.
TAKE = """
    SELECT video_id FROM annotations_pendingsearchdocument WHERE video_id > %s
    ORDER BY video_id LIMIT %s FOR UPDATE SKIP LOCKED
"""
UNLIST = "DELETE FROM annotations_pendingsearchdocument WHERE video_id = ANY(%s)"
# The tables of models.search and models.videos. The expression is the one the search
# reads (selectors.videos); a changed title is written again over the document it had.
WRITE = """
    INSERT INTO annotations_searchdocument (video_id, project_id, document)
    SELECT id, project_id, to_tsvector(
        'russian'::regconfig, COALESCE(title, '') || ' ' || COALESCE(description, '')
    )
    FROM annotations_video WHERE id = ANY(%s)
    ON CONFLICT (video_id) DO UPDATE SET document = EXCLUDED.document
"""


@dataclass
class SearchDocumentsWritten:
    written: int = 0
    batches: int = 0
    left: bool = False

    def describe(self) -> str:
        text = f"{self.written} search documents written in {self.batches} batches"
        return text + (", the rest left for the next run" if self.left else "")


def search_documents_write(
    *, batch_size: int = BATCH_SIZE, keep_going: Callable[[], bool] = lambda: True
) -> SearchDocumentsWritten:
    """Write the documents of every listed video, until none is left or ``keep_going`` says no.

    On databases other than PostgreSQL nothing is listed and nothing is written.
    """
    outcome = SearchDocumentsWritten()
    if connection.vendor != "postgresql":
        return outcome
    after = 0
    while True:
        if not keep_going():
            outcome.left = PendingSearchDocument.objects.exists()
            return outcome
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BY_KEYS_ONLY)
            cursor.execute(TAKE, [after, batch_size])
            taken = [video_id for (video_id,) in cursor.fetchall()]
            if taken:
                cursor.execute(UNLIST, [taken])
                # A video deleted since it was listed has no row to read: none is written.
                cursor.execute(WRITE, [taken])
                outcome.written += cursor.rowcount
        if taken:
            outcome.batches += 1
            after = taken[-1]
        elif after:
            after = 0  # once more from the start, for videos listed behind this run
        else:
            return outcome


def search_documents_requested() -> None:
    """Have a worker write the listed documents once the current transaction commits."""
    if connection.vendor == "postgresql":
        enqueue.search_documents()
