"""Inserting many rows at once: COPY on PostgreSQL, bulk_create elsewhere.

The bulk import writes hundreds of thousands of videos, labels, history entries and
jobs; COPY with lines formatted here costs a fraction of an INSERT per row.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection
from django.db.models import Model
from psycopg.types.json import Jsonb


def next_ids(model: type[Model], count: int) -> list[int]:
    """``count`` ids taken from the model's sequence, so rows can name each other."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return sorted(pk for (pk,) in cursor.fetchall())


class CopyRows:
    """COPY rows of a model (PostgreSQL's text format): a few columns set per row.

    The other columns (defaults, auto_now times, the project) are prepared once, by the
    fields themselves from a prototype instance, so a field added to the model later gets
    its default here too; they are formatted once and end every line. Formatting the
    lines here rather than value by value in the driver halves the importer's share of
    the work.
    """

    def __init__(self, prototype: Model, varying: Sequence[str]) -> None:
        meta = prototype._meta
        by_name = {f.attname: f for f in meta.concrete_fields}
        constant = [
            f for f in meta.concrete_fields if not f.primary_key and f.attname not in varying
        ]
        self.table = meta.db_table
        # Concrete fields all have a column.
        self.columns = [str(f.column) for f in [*(by_name[n] for n in varying), *constant]]
        self.suffix = "".join(
            "\t" + _copy_text(f.get_db_prep_save(f.pre_save(prototype, add=True), connection))
            for f in constant
        )

    def line(self, *values: object) -> str:
        return "\t".join(_copy_text(value) for value in values) + self.suffix + "\n"

    def copy(self, lines: Iterable[str]) -> None:
        quote = connection.ops.quote_name
        statement = (
            f"COPY {quote(self.table)} ({', '.join(quote(c) for c in self.columns)}) FROM STDIN"
        )
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            block: list[str] = []
            for line in lines:
                block.append(line)
                if len(block) == 500:
                    copy.write("".join(block))
                    block.clear()
            copy.write("".join(block))


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: object) -> str:
    """A value as COPY's text format writes it; TypeError for a kind it was not taught."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES) if "\\" in value or not value.isprintable() else value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Jsonb):
        value = value.obj
    if isinstance(value, dict | list):
        # What JSONField stores, as the text COPY reads into jsonb.
        return _copy_text(json.dumps(value, ensure_ascii=False))
    raise TypeError(f"no COPY text for a {type(value).__name__}")
