"""Opening media: one translation of PyAV's errors, and the container closed afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.media import MediaError, open_container
from tests.ml.conftest import MediaSet


def test_an_opened_file_is_closed_when_the_block_ends(media: MediaSet) -> None:
    with open_container(media.talk) as container:
        assert container.streams.video and container.streams.audio
        stream = container.streams.video[0]
        assert next(iter(container.decode(stream))) is not None

    with pytest.raises(AssertionError, match="not open"):  # PyAV's word for a closed file
        next(iter(container.demux(stream)))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_media", r"^not a video or audio file \(its contents are not a known media format\)$"),
        ("missing", r"^the file could not be opened as media: .*No such file"),
    ],
)
def test_files_that_cannot_be_opened_are_refused_in_plain_words(
    media: MediaSet, tmp_path: Path, name: str, message: str
) -> None:
    path = tmp_path / "missing.mp4" if name == "missing" else getattr(media, name)

    with pytest.raises(MediaError, match=message), open_container(path):
        pytest.fail("the block must not run")


def test_errors_inside_the_block_are_left_to_the_caller(media: MediaSet) -> None:
    with pytest.raises(KeyError), open_container(media.talk):
        raise KeyError("the caller's own error")
