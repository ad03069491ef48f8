"""Dataset exports: rows read in chunks, written in a format, stored as a snapshot.

``filters``: which videos a snapshot holds; ``rows``: what is read about each;
``formats``: how a row is written (JSONL, CSV, Label Studio); ``build``: the
snapshot's lifecycle (requested, built in the background, immutable once ready).
"""

from annotations.services.export.build import export_request
from annotations.services.export.filters import SCOPES, ExportFilterError, ExportFilters
from annotations.services.export.formats import FORMATS, labelstudio_config
from annotations.services.export.rows import ExportRow, export_rows

__all__ = [
    "FORMATS",
    "SCOPES",
    "ExportFilterError",
    "ExportFilters",
    "ExportRow",
    "export_request",
    "export_rows",
    "labelstudio_config",
]
