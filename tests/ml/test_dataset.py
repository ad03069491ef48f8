"""Reading the CLI's CSV layout: messy tag lists normalised, bad files refused by line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ml.dataset import DatasetError, Example, canonical_tags, read_csv, write_predictions_csv


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_messy_tag_lists_are_normalised(tmp_path: Path) -> None:
    data = _write(
        tmp_path / "videos.csv",
        "video_id,title,description,tags,channel\n"
        'a,Матч,Гол,"Спорт:Футбол , Наука\tКосмос и астрономия,,",ТВ\n'
        'b,Гороскоп,Звёзды,"Религия и духовность: астрология",\n'
        'c,Гороскоп 2,Звёзды,"Религия и духовность: астрология",\n'
        'd,Гороскоп 3,Звёзды,"Религия и духовность: Астрология",\n',
    )

    examples = read_csv(data)

    assert examples[0].tags == ("Спорт: Футбол", "Наука: Космос и астрономия")
    assert examples[0].metadata == {"channel": "ТВ"}
    # Spellings that differ only in case become the commonest one.
    assert {e.tags for e in examples[1:]} == {("Религия и духовность: астрология",)}


def test_optional_columns_and_missing_tags(tmp_path: Path) -> None:
    data = _write(
        tmp_path / "videos.csv",
        "\ufeffvideo_id,title,description,transcript\nx,T,D,сказал он\n\n",
    )

    [example] = read_csv(data)

    assert example == Example(video_id="x", title="T", description="D", transcript="сказал он")


def test_canonical_tags_follow_the_taxonomy_and_count_the_unknown() -> None:
    examples = [Example("a", "", "", tags=("спорт: футбол", "Нет такого"))]

    fixed, unknown = canonical_tags(examples, ["Спорт", "Спорт: Футбол"])

    assert fixed[0].tags == ("Спорт: Футбол",)
    assert unknown == {"Нет такого": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("video_id,title\na,b\n", r"missing column\(s\) description"),
        ("video_id,title,description\na,b,c\na,d,e\n", "line 3: video_id 'a' already appeared"),
        ("video_id,title,description\n,b,c\n", "line 2: video_id is empty"),
        ("video_id,title,description\na,b,c,d\n", "line 2: more cells"),
        ("video_id,title,description\n", "no rows"),
        ("", "empty"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        read_csv(_write(tmp_path / "bad.csv", text))


def test_tags_column_can_be_required(tmp_path: Path) -> None:
    data = _write(tmp_path / "videos.csv", "video_id,title,description\na,b,c\n")
    with pytest.raises(DatasetError, match=r"missing column.*tags"):
        read_csv(data, require_tags=True)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_csv(tmp_path / "absent.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"video_id,title,description\n\xff\xfe,\x80,x\n")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_csv(binary)


def test_predictions_are_written_as_json_lists(tmp_path: Path) -> None:
    out = tmp_path / "pred.csv"

    count = write_predictions_csv(out, [("a", ["Спорт", "Спорт: Футбол"]), ("b", [])])

    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert count == 2
    assert [json.loads(row["predicted_tags"]) for row in rows] == [["Спорт", "Спорт: Футбол"], []]
    assert [row["video_id"] for row in rows] == ["a", "b"]
