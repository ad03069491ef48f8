"""Reading and writing hierarchical tag taxonomies and tag lists.

A tag is named by its path, "Level 1: Level 2: Level 3". Three layouts are read
and written: the IAB CSV (one column per level, a parent row before its children,
repeated rows allowed), a text file with one path per line, and JSON (a list of
paths or a tree of ``{"name", "children", "hotkey"}`` objects). What a writer
writes, the matching reader reads back to the same entries.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PATH_SEPARATOR = ": "
MAX_DEPTH = 10
MAX_NAME_LENGTH = 200
_HOTKEY = re.compile(r"^[0-9a-z]$")
_WHITESPACE = re.compile(r"\s+")


class TaxonomyFormatError(ValueError):
    """A taxonomy file that cannot be read; the message names the line."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True)
class TaxonomyEntry:
    path: str
    hotkey: str = ""
    # Where the entry was read, for error messages; not part of its identity.
    line: int = field(default=0, compare=False)

    @property
    def parts(self) -> list[str]:
        return self.path.split(PATH_SEPARATOR)


def clean_name(name: str) -> str:
    return _WHITESPACE.sub(" ", name).strip()


def normalize_path(path: str) -> str:
    """Canonical form of a path typed by a person: "Спорт:Футбол " -> "Спорт: Футбол"."""
    return PATH_SEPARATOR.join(clean_name(part) for part in path.split(":"))


def ancestors(path: str) -> list[str]:
    """The path and every path above it, the root first."""
    parts = path.split(PATH_SEPARATOR)
    return [PATH_SEPARATOR.join(parts[: i + 1]) for i in range(len(parts))]


def split_tag_list(text: str) -> list[str]:
    """A comma-separated list of tag paths, as in the Rutube CSV, normalised, empties dropped."""
    seen: dict[str, None] = {}
    for item in text.split(","):
        path = normalize_path(item)
        if path.strip(": "):
            seen.setdefault(path, None)
    return list(seen)


def _checked_path(parts: list[str], line: int) -> str:
    names = [clean_name(part) for part in parts]
    if not names:
        raise TaxonomyFormatError(line, "the row names no tag")
    for level, name in enumerate(names, start=1):
        if not name:
            raise TaxonomyFormatError(line, f"level {level} is empty")
        if ":" in name:
            raise TaxonomyFormatError(line, f"tag name {name!r} contains ':', the level separator")
        if len(name) > MAX_NAME_LENGTH:
            raise TaxonomyFormatError(
                line, f"tag name at level {level} is longer than {MAX_NAME_LENGTH} characters"
            )
    if len(names) > MAX_DEPTH:
        raise TaxonomyFormatError(
            line, f"the path is {len(names)} levels deep; at most {MAX_DEPTH} are allowed"
        )
    return PATH_SEPARATOR.join(names)


def _checked_hotkey(hotkey: object, line: int) -> str:
    if hotkey in (None, ""):
        return ""
    if not isinstance(hotkey, str) or not _HOTKEY.match(hotkey):
        raise TaxonomyFormatError(line, f"hotkey {hotkey!r} must be one digit or lower-case letter")
    return hotkey


def parse_level_csv(text: str) -> Iterator[TaxonomyEntry]:
    """The IAB layout: a header, then one column per level, empty cells to the right."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return
    for row in reader:
        line = reader.line_num
        cells = [clean_name(cell) for cell in row]
        if not any(cells):
            continue
        while cells and not cells[-1]:
            cells.pop()
        if any(not cell for cell in cells):
            first_gap = next(i for i, cell in enumerate(cells, start=1) if not cell)
            raise TaxonomyFormatError(
                line, f"level {first_gap} is empty but a deeper level is filled"
            )
        yield TaxonomyEntry(_checked_path(cells, reader.line_num), line=reader.line_num)


def parse_path_lines(text: str) -> Iterator[TaxonomyEntry]:
    """One path per line, "A: B: C"; blank lines and lines starting with # are ignored."""
    for line, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield TaxonomyEntry(_checked_path(stripped.split(":"), line), line=line)


class _JsonLocator:
    """Finds the line of each name in document order, so a repeated name gets its own line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def line_of(self, value: str) -> int:
        needle = json.dumps(value, ensure_ascii=False)
        found = self.text.find(needle, self.position)
        if found < 0:
            found = self.text.find(needle)
        if found < 0:
            return 1
        self.position = found + len(needle)
        return self.text.count("\n", 0, found) + 1


def parse_json(text: str) -> Iterator[TaxonomyEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyFormatError(exc.lineno, f"not valid JSON: {exc.msg}") from None
    if isinstance(data, dict) and "tags" in data:
        data = data["tags"]
    if not isinstance(data, list):
        raise TaxonomyFormatError(1, 'expected a list of paths or of {"name", "children"} objects')
    yield from _walk_json(data, [], _JsonLocator(text))


def _walk_json(
    nodes: list[object], prefix: list[str], locator: _JsonLocator
) -> Iterator[TaxonomyEntry]:
    for node in nodes:
        if isinstance(node, str):
            at = locator.line_of(node)
            yield TaxonomyEntry(_checked_path([*prefix, *node.split(":")], at), line=at)
            continue
        if not isinstance(node, dict):
            raise TaxonomyFormatError(None, f"expected a tag object or path, found {node!r}")
        name = node.get("name")
        if not isinstance(name, str):
            raise TaxonomyFormatError(None, f'a tag object needs a "name" string: {node!r}')
        line = locator.line_of(name)
        path = _checked_path([*prefix, name], line)
        yield TaxonomyEntry(path, _checked_hotkey(node.get("hotkey"), line), line=line)
        children = node.get("children", [])
        if not isinstance(children, list):
            raise TaxonomyFormatError(line, f'"children" of {name!r} must be a list')
        yield from _walk_json(children, path.split(PATH_SEPARATOR), locator)


def detect_format(filename: str, text: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix == ".csv":
        return "csv"
    if suffix in {".txt", ".text", ".tsv"}:
        return "lines"
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        return "json"
    first_line = stripped.splitlines()[0] if stripped else ""
    return "csv" if "," in first_line else "lines"


_PARSERS = {"csv": parse_level_csv, "lines": parse_path_lines, "json": parse_json}


def parse_taxonomy(text: str, fmt: str) -> list[TaxonomyEntry]:
    """All entries of a taxonomy file, parents first, each path once.

    A parent missing from the file is added before its first child, so every
    path's ancestors are present. Raises TaxonomyFormatError naming the line.
    """
    if fmt not in _PARSERS:
        raise TaxonomyFormatError(None, f"unknown taxonomy format {fmt!r}; use csv, lines or json")
    text = text.removeprefix("\ufeff")
    entries: dict[str, TaxonomyEntry] = {}
    for entry in _PARSERS[fmt](text):
        for ancestor in ancestors(entry.path)[:-1]:
            entries.setdefault(ancestor, TaxonomyEntry(ancestor))
        existing = entries.get(entry.path)
        if existing is None or (entry.hotkey and not existing.hotkey):
            entries[entry.path] = entry
    hotkeys: dict[str, str] = {}
    for entry in entries.values():
        if entry.hotkey:
            if entry.hotkey in hotkeys:
                raise TaxonomyFormatError(
                    entry.line or None,
                    f"hotkey {entry.hotkey!r} is given to both "
                    f"{hotkeys[entry.hotkey]!r} and {entry.path!r}",
                )
            hotkeys[entry.hotkey] = entry.path
    return sorted(entries.values(), key=lambda e: (len(e.parts), e.path))


def read_taxonomy_file(path: Path, fmt: str | None = None) -> list[TaxonomyEntry]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TaxonomyFormatError(None, f"{path.name} is not UTF-8 text ({exc.reason})") from None
    return parse_taxonomy(text, fmt or detect_format(path.name, text))


def paths_of(entries: Iterable[TaxonomyEntry]) -> list[str]:
    return [entry.path for entry in entries]


def _tree_order(entries: Iterable[TaxonomyEntry]) -> list[TaxonomyEntry]:
    """Every entry once, each parent right before its children, siblings by name."""
    unique = {entry.path: entry for entry in entries}
    for path in list(unique):
        for ancestor in ancestors(path)[:-1]:
            unique.setdefault(ancestor, TaxonomyEntry(ancestor))
    return sorted(unique.values(), key=lambda entry: entry.parts)


def write_level_csv(entries: Iterable[TaxonomyEntry]) -> str:
    """The IAB layout: a header row, then one row per tag with one column per level."""
    ordered = _tree_order(entries)
    depth = max((len(entry.parts) for entry in ordered), default=1)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([f"Level {level}" for level in range(1, depth + 1)])
    for entry in ordered:
        writer.writerow(entry.parts + [""] * (depth - len(entry.parts)))
    return out.getvalue()


def write_path_lines(entries: Iterable[TaxonomyEntry]) -> str:
    return "".join(f"{entry.path}\n" for entry in _tree_order(entries))


def write_json_tree(entries: Iterable[TaxonomyEntry]) -> str:
    """A tree of ``{"name", "hotkey", "children"}`` objects (hotkey and children when set)."""
    roots: list[dict[str, object]] = []
    nodes: dict[str, dict[str, object]] = {}
    for entry in _tree_order(entries):
        node: dict[str, object] = {"name": entry.parts[-1]}
        if entry.hotkey:
            node["hotkey"] = entry.hotkey
        nodes[entry.path] = node
        parent = PATH_SEPARATOR.join(entry.parts[:-1])
        if parent:
            children = nodes[parent].setdefault("children", [])
            assert isinstance(children, list)
            children.append(node)
        else:
            roots.append(node)
    return json.dumps(roots, ensure_ascii=False, indent=2) + "\n"


WRITERS = {"csv": write_level_csv, "lines": write_path_lines, "json": write_json_tree}


def write_taxonomy(entries: Iterable[TaxonomyEntry], fmt: str) -> str:
    if fmt not in WRITERS:
        raise TaxonomyFormatError(None, f"unknown taxonomy format {fmt!r}; use csv, lines or json")
    return WRITERS[fmt](entries)
