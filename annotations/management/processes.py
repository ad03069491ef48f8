"""The processes running on this machine, read from /proc (Linux)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path


def process_stats() -> Iterator[tuple[int, list[str]]]:
    """Each process's id and the fields of its ``/proc/<pid>/stat`` after the command:
    state, parent, process group, … (``proc(5)``'s fields from the third on).

    A process that ends while it is read is left out.
    """
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The second field, the command, may hold spaces and parentheses: split after it.
        yield int(entry.name), stat[stat.rindex(")") + 2 :].split()
