"""A JSON parser with its own body limit, for the endpoint that takes thousands of rows.

Django refuses bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB) wherever the body
is read whole, which DRF's JSON parser does. The bulk import takes up to 5,000 rows, and
5,000 rows of Russian titles and descriptions are tens of megabytes, more still when a
client escapes every Cyrillic letter as ``\\uXXXX``. This parser reads the stream
itself, up to ``limit`` bytes, so that one endpoint can take what its row limit allows
while every other request keeps Django's limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any, ClassVar

from rest_framework import exceptions
from rest_framework.parsers import BaseParser

from annotations.api.exceptions import PayloadTooLarge

MB = 1024 * 1024


def too_large(limit: int, rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than this endpoint takes ({limit // MB} MB). "
        f"Send the rows in several requests (at most {rows:,} rows and {limit // MB} MB each); "
        "rows already imported are skipped, so a batch can be sent again safely."
    )


class LargeJSONParser(BaseParser):
    """JSON of at most ``limit`` bytes; over it, 413 saying how to split the request."""

    media_type = "application/json"
    limit: ClassVar[int] = 32 * MB
    rows: ClassVar[int] = 5000

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        data = stream.read(self.limit + 1) if stream is not None else b""
        if len(data) > self.limit:
            raise too_large(self.limit, self.rows)
        encoding = (parser_context or {}).get("encoding") or "utf-8"
        try:
            return json.loads(data.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(f"The body is not valid JSON: {exc}") from None
