"""What the video list's text search reads on PostgreSQL, written after the video itself.

Stemming a title and description into PostgreSQL's full-text index costs more than
storing the video (an expression index on the video table made a bulk import spend
three quarters of its database time on it), so the index is not on the video table: a
video's document is a ``SearchDocument`` row, written in batches by a background task
(``services.search``) a few seconds after the video was stored. Until then the video is
listed in ``PendingSearchDocument`` and the search matches it by its words as written.

A trigger on the video table (migration 0013) lists every new video, and every video
whose title or description changes, so no way of storing a video can forget its
document. Other databases search by substring only: there both tables stay empty.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

from annotations.models.projects import Project
from annotations.models.videos import Video


class SearchDocument(models.Model):
    """A video's title and description as ``to_tsvector('russian', …)`` reads them."""

    video = models.OneToOneField(
        Video, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    # The video's, kept here so that a search reads the matches of one project from the
    # GIN index alone: through a join to the video table it walked every document.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, db_index=False, related_name="+")
    # The GIN index on it is made by migration 0013, on PostgreSQL only.
    document = SearchVectorField()

    def __str__(self) -> str:
        return f"search document of video {self.video_id}"


class PendingSearchDocument(models.Model):
    """A video whose document is still to be written (or written again)."""

    # No foreign key constraint: its check would cost every imported video a lookup.
    # Deleting a video through Django still deletes its row; one left behind by a
    # deletion in SQL is dropped by the writer, which finds no video to read.
    video = models.OneToOneField(
        Video, primary_key=True, on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )

    def __str__(self) -> str:
        return f"video {self.video_id}, search document to write"
