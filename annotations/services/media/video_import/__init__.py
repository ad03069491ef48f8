"""Importing videos: from an upload, from manifest rows, from a folder scan.

``single`` stores one video (fetched, probed and hashed when it has media);
``rows`` imports manifest rows in batches; ``bulk`` holds the batch's set-based
lookups and inserts; ``outcomes`` what became of each row.
"""

from __future__ import annotations

from annotations.services.media.video_import.outcomes import ImportReport, RowOutcome
from annotations.services.media.video_import.rows import (
    BATCH_SIZE,
    ProgressCallback,
    videos_import_rows,
    videos_scan_folder,
)
from annotations.services.media.video_import.single import (
    MEDIA_SUFFIXES,
    LocalMedia,
    TagResolver,
    VideoImportError,
    media_prepare,
    video_create,
    video_import_upload,
    without_nul,
)

__all__ = [
    "BATCH_SIZE",
    "MEDIA_SUFFIXES",
    "ImportReport",
    "LocalMedia",
    "ProgressCallback",
    "RowOutcome",
    "TagResolver",
    "VideoImportError",
    "media_prepare",
    "video_create",
    "video_import_upload",
    "videos_import_rows",
    "videos_scan_folder",
    "without_nul",
]
