"""The demo catalog: tags from the demo taxonomy, varied text, and media written to disk."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import av
import pytest

from annotations.demo.catalog import DEMO_VIDEOS, DemoVideo, write_demo_media
from ml.subtitles import read_subtitles
from ml.synthetic_media import SCENE_KINDS
from ml.taxonomy import paths_of, read_taxonomy_file, split_tag_list

TAXONOMY = Path(__file__).resolve().parents[2] / "annotations" / "demo" / "taxonomy.json"


def test_every_demo_tag_is_a_path_in_the_demo_taxonomy() -> None:
    known = set(paths_of(read_taxonomy_file(TAXONOMY)))

    for video in DEMO_VIDEOS:
        assert 1 <= len(video.tags) <= 2, video.video_id
        assert set(video.tags) <= known, video.video_id


def test_there_are_at_least_30_demo_videos_with_unique_ids() -> None:
    ids = [video.video_id for video in DEMO_VIDEOS]

    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


def test_every_demo_tag_has_more_than_one_video_to_learn_from() -> None:
    counts = Counter(tag for video in DEMO_VIDEOS for tag in video.tags)

    assert min(counts.values()) >= 2


def test_titles_and_descriptions_differ_from_video_to_video() -> None:
    assert len({video.title for video in DEMO_VIDEOS}) == len(DEMO_VIDEOS)
    assert len({video.description for video in DEMO_VIDEOS}) == len(DEMO_VIDEOS)


@pytest.mark.parametrize("video", DEMO_VIDEOS, ids=lambda video: video.video_id)
def test_demo_video_is_short_with_narration_cues_inside_it(video: DemoVideo) -> None:
    assert 3 <= video.seconds <= 5
    assert video.scene in SCENE_KINDS
    assert 2 <= len(video.narration) <= 4
    previous_end = 0.0
    for start, end, text in video.narration:
        assert previous_end <= start < end <= video.seconds
        assert text.strip()
        previous_end = end


def test_write_demo_media_writes_videos_subtitles_and_manifest(tmp_path: Path) -> None:
    subset = DEMO_VIDEOS[:3]

    manifest = write_demo_media(tmp_path, videos=subset)

    assert manifest == tmp_path / "manifest.csv"
    text = manifest.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "video_id,title,description,tags,file,channel,upload_date"
    with manifest.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["video_id"] for row in rows] == [video.video_id for video in subset]
    for row, video in zip(rows, subset, strict=True):
        assert row["title"] == video.title
        assert split_tag_list(row["tags"]) == list(video.tags)
        media = tmp_path / row["file"]
        with av.open(str(media)) as container:
            assert container.duration is not None
            assert container.duration / av.time_base == pytest.approx(video.seconds, abs=0.2)
            assert container.streams.video and container.streams.audio
        cues = read_subtitles(tmp_path / f"{video.video_id}.srt")
        assert [cue.text for cue in cues] == [text for _, _, text in video.narration]


def test_second_run_keeps_written_videos_and_rewrites_the_manifest(tmp_path: Path) -> None:
    first, second = DEMO_VIDEOS[0], DEMO_VIDEOS[1]
    write_demo_media(tmp_path, videos=[first])
    kept = tmp_path / first.file_name
    stamp = kept.stat().st_mtime_ns
    (tmp_path / second.file_name).touch()  # an empty file left by an interrupted copy
    (tmp_path / "manifest.csv").unlink()
    reported: list[tuple[str, bool]] = []

    write_demo_media(
        tmp_path,
        videos=[first, second],
        progress=lambda video, fresh: reported.append((video.video_id, fresh)),
    )

    assert kept.stat().st_mtime_ns == stamp
    assert (tmp_path / second.file_name).stat().st_size > 0
    assert reported == [(first.video_id, False), (second.video_id, True)]
    assert (tmp_path / "manifest.csv").exists()
