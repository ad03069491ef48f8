"""Reading taxonomies: the three layouts, normalisation, and errors that name their line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ml.taxonomy import (
    MAX_DEPTH,
    TaxonomyEntry,
    TaxonomyFormatError,
    ancestors,
    detect_format,
    normalize_path,
    parse_taxonomy,
    paths_of,
    read_taxonomy_file,
    split_tag_list,
    write_taxonomy,
)
from tests.taxonomy_samples import IAB_CSV, IAB_PATHS


def _error(text: str, fmt: str) -> TaxonomyFormatError:
    with pytest.raises(TaxonomyFormatError) as caught:
        parse_taxonomy(text, fmt)
    return caught.value


def _assert_parents_first(entries: list[TaxonomyEntry]) -> None:
    seen: set[str] = set()
    for entry in entries:
        for ancestor in ancestors(entry.path)[:-1]:
            assert ancestor in seen, f"{entry.path!r} comes before its parent {ancestor!r}"
        seen.add(entry.path)


# --- IAB CSV ---------------------------------------------------------------------------


def test_iab_csv_gives_each_path_once_with_its_depth() -> None:
    entries = parse_taxonomy(IAB_CSV, "csv")

    assert set(paths_of(entries)) == IAB_PATHS
    assert len(entries) == len(IAB_PATHS)  # the repeated row is collapsed
    depths = {entry.path: len(entry.parts) for entry in entries}
    assert depths["Спорт"] == 1
    assert depths["Спорт: Футбол"] == 2
    assert depths["Спорт: Футбол: Премьер-лига"] == 3


def test_iab_csv_lists_every_parent_before_its_children() -> None:
    _assert_parents_first(parse_taxonomy(IAB_CSV, "csv"))


def test_iab_csv_adds_a_parent_that_has_no_row_of_its_own() -> None:
    entries = parse_taxonomy("\n".join(["Tier 1,Tier 2,Tier 3", "Новости,Политика,Выборы"]), "csv")

    assert paths_of(entries) == ["Новости", "Новости: Политика", "Новости: Политика: Выборы"]


def test_iab_csv_header_row_is_not_a_tag() -> None:
    assert "Tier 1" not in paths_of(parse_taxonomy(IAB_CSV, "csv"))


def test_byte_order_mark_is_ignored() -> None:
    assert set(paths_of(parse_taxonomy("\ufeff" + IAB_CSV, "csv"))) == IAB_PATHS


def test_csv_path_at_the_depth_limit_is_accepted() -> None:
    deepest = ",".join(f"L{level}" for level in range(MAX_DEPTH))

    entries = parse_taxonomy("header\n" + deepest + "\n", "csv")

    assert max(len(entry.parts) for entry in entries) == MAX_DEPTH


# --- one path per line ----------------------------------------------------------------


def test_lines_layout_skips_comments_and_blank_lines() -> None:
    text = "\n".join(
        [
            "# Тематики видео",
            "",
            "Спорт: Футбол",
            "   # an indented comment",
            "Спорт:Хоккей ",
            "",
            "Музыка",
        ]
    )

    entries = parse_taxonomy(text, "lines")

    assert paths_of(entries) == ["Музыка", "Спорт", "Спорт: Футбол", "Спорт: Хоккей"]
    _assert_parents_first(entries)


# --- JSON -----------------------------------------------------------------------------

JSON_TREE = """[
  {"name": "Спорт", "hotkey": "1", "children": [
    {"name": "Футбол", "hotkey": "f"},
    {"name": "Хоккей", "children": [{"name": "НХЛ"}]}
  ]},
  {"name": "Музыка", "hotkey": "2"}
]
"""


def test_json_tree_gives_paths_and_hotkeys() -> None:
    entries = parse_taxonomy(JSON_TREE, "json")

    hotkeys = {entry.path: entry.hotkey for entry in entries}
    assert hotkeys == {
        "Спорт": "1",
        "Спорт: Футбол": "f",
        "Спорт: Хоккей": "",
        "Спорт: Хоккей: НХЛ": "",
        "Музыка": "2",
    }
    _assert_parents_first(entries)


def test_json_tree_may_sit_under_a_tags_key() -> None:
    wrapped = json.dumps({"tags": json.loads(JSON_TREE)}, ensure_ascii=False, indent=1)

    assert set(paths_of(parse_taxonomy(wrapped, "json"))) == set(
        paths_of(parse_taxonomy(JSON_TREE, "json"))
    )


def test_json_list_of_paths_is_normalised_and_gets_its_parents() -> None:
    text = json.dumps(["Спорт:Футбол ", "Музыка", "Спорт: Футбол"], ensure_ascii=False)

    entries = parse_taxonomy(text, "json")

    assert paths_of(entries) == ["Музыка", "Спорт", "Спорт: Футбол"]


def test_unknown_format_is_refused() -> None:
    error = _error("A\n", "xml")

    assert "unknown taxonomy format" in str(error)


# --- errors that name their line -----------------------------------------------------

_DEEPER_THAN_THE_LIMIT = [f"L{level}" for level in range(MAX_DEPTH + 1)]
_HOTKEY_TWICE = '[\n  {"name": "Спорт", "hotkey": "s"},\n  {"name": "Сериалы", "hotkey": "s"}\n]\n'

# (text, format, the line named, fragments of the message)
BAD_TAXONOMIES: dict[str, tuple[str, str, int, tuple[str, ...]]] = {
    "csv: a gap between levels": (
        "Tier 1,Tier 2,Tier 3\nA,,\nA,B,\n\nA,,C\n",
        "csv",
        5,
        ("line 5", "level 2 is empty"),
    ),
    "csv: a name containing the separator": (
        "\n".join(["Tier 1,Tier 2", "Спорт,", "Спорт,Футбол: Премьер-лига"]),
        "csv",
        3,
        ("':'",),
    ),
    "csv: a path deeper than the limit": (
        "header\nok\n" + ",".join(_DEEPER_THAN_THE_LIMIT) + "\n",
        "csv",
        3,
        (f"{MAX_DEPTH + 1} levels deep",),
    ),
    "lines: an empty level": (
        "# comment\nA: B\n\nA: : C\nD\n",
        "lines",
        4,
        ("line 4: level 2 is empty",),
    ),
    "lines: a trailing separator is an empty level": (
        "A\nA: B:\n",
        "lines",
        2,
        ("level 3 is empty",),
    ),
    "lines: a path deeper than the limit": (
        "A\n" + ": ".join(_DEEPER_THAN_THE_LIMIT) + "\n",
        "lines",
        2,
        ("levels deep",),
    ),
    "json: invalid JSON": ('[\n  "A",\n  "B"\n  "C"\n]\n', "json", 4, ("not valid JSON",)),
    "json: a path with an empty level": (
        '[\n  "A",\n  "A: B",\n  "A: : C"\n]\n',
        "json",
        4,
        ("level 2 is empty",),
    ),
    "json: a bad hotkey": (
        '[\n  {"name": "A"},\n  {"name": "B", "hotkey": "Shift"}\n]\n',
        "json",
        3,
        ("hotkey",),
    ),
    "json: not a list": ('{"name": "A"}', "json", 1, ("expected a list",)),
    "json: a hotkey used twice names both tags": (
        _HOTKEY_TWICE,
        "json",
        3,
        ("'s'", "Спорт", "Сериалы"),
    ),
    "json: a hotkey used twice names the line of the second use": (
        _HOTKEY_TWICE,
        "json",
        3,
        ("line 3",),
    ),
    "json: an error in a repeated name names the line of the bad one": (
        "[\n"
        '  {"name": "Спорт", "children": [\n'
        '    {"name": "Другое", "hotkey": "d"}\n'
        "  ]},\n"
        '  {"name": "Музыка", "children": [\n'
        '    {"name": "Другое", "hotkey": "D"}\n'
        "  ]}\n"
        "]\n",
        "json",
        6,
        (),
    ),
}


@pytest.mark.parametrize("case", list(BAD_TAXONOMIES), ids=list(BAD_TAXONOMIES))
def test_a_bad_taxonomy_is_refused_naming_its_line(case: str) -> None:
    text, fmt, line, fragments = BAD_TAXONOMIES[case]

    error = _error(text, fmt)

    assert error.line == line
    for fragment in fragments:
        assert fragment in str(error)


# --- normalisation, tag lists, format detection --------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("Спорт:Футбол ", "Спорт: Футбол"),
        ("  Спорт :  Футбол  :Премьер   лига", "Спорт: Футбол: Премьер лига"),
        ("Спорт: Футбол", "Спорт: Футбол"),
        ("Музыка", "Музыка"),
        ("Спорт:\t Футбол", "Спорт: Футбол"),
    ],
)
def test_normalize_path_gives_the_canonical_form(typed: str, canonical: str) -> None:
    assert normalize_path(typed) == canonical


def test_split_tag_list_normalises_and_drops_empties_and_repeats() -> None:
    text = "Спорт:Футбол ,  Транспорт,,  , Спорт: Футбол, Музыка: Рок"

    assert split_tag_list(text) == ["Спорт: Футбол", "Транспорт", "Музыка: Рок"]


def test_split_tag_list_of_nothing_is_empty() -> None:
    assert split_tag_list("") == []
    assert split_tag_list(" , ,") == []


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("iab.csv", "A\n", "csv"),
        ("tags.json", "A\n", "json"),
        ("tags.TXT", "A,B\n", "lines"),
        ("upload", '[{"name": "A"}]', "json"),
        ("upload", '  {"tags": []}', "json"),
        ("upload", "Tier 1,Tier 2\nA,B\n", "csv"),
        ("upload", "\n".join(["Спорт: Футбол", "Музыка"]), "lines"),
        ("upload", "", "lines"),
    ],
)
def test_detect_format(filename: str, text: str, expected: str) -> None:
    assert detect_format(filename, text) == expected


def test_read_taxonomy_file_detects_the_layout(tmp_path: Path) -> None:
    path = tmp_path / "iab.csv"
    path.write_text(IAB_CSV, encoding="utf-8")

    assert set(paths_of(read_taxonomy_file(path))) == IAB_PATHS


def test_read_taxonomy_file_refuses_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "cp1251.txt"
    path.write_bytes("Спорт: Футбол\n".encode("cp1251"))

    with pytest.raises(TaxonomyFormatError, match="not UTF-8"):
        read_taxonomy_file(path)


@pytest.mark.parametrize("fmt", ["csv", "lines", "json"])
def test_what_a_writer_writes_its_reader_reads_back(fmt: str) -> None:
    entries = parse_taxonomy(
        '[{"name": "Спорт", "hotkey": "2", "children": [{"name": "Футбол", "hotkey": "1"},'
        ' {"name": "Хоккей, с шайбой"}]}, {"name": "Еда", "children": [{"name": "Вино"}]}]',
        "json",
    )
    text = write_taxonomy(entries, fmt)
    read_back = parse_taxonomy(text, fmt)
    assert paths_of(read_back) == paths_of(entries)
    if fmt == "json":
        assert {e.path: e.hotkey for e in read_back} == {e.path: e.hotkey for e in entries}


def test_writers_add_missing_parents_before_their_children() -> None:
    text = write_taxonomy([TaxonomyEntry("А: Б: В")], "lines")
    assert text == "А\nА: Б\nА: Б: В\n"
    assert write_taxonomy([TaxonomyEntry("А: Б")], "csv") == "Level 1,Level 2\nА,\nА,Б\n"
