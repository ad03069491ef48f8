"""Fixtures for the video import tests: a library of tiny real media and a folder outside."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from ml.synthetic_media import write_corrupt_copy, write_not_media, write_srt, write_video
from tests.annotations.video_import.helpers import Library


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    """Tiny real media, written once per test run; tests copy what they need."""
    folder = tmp_path_factory.mktemp("library")

    def clip(name: str, seed: int) -> Path:
        return write_video(
            folder / name, seconds=1.0, width=64, height=48, fps=10, seed=seed, audio=False
        )

    files = {
        "a": clip("a.mp4", 0),
        "b": clip("b.mp4", 1),
        "c": clip("c.mp4", 2),
        "d": clip("d.mp4", 3),
        "mkv": clip("e.mkv", 4),
        "big": write_video(folder / "big.mp4", seconds=1.5, width=160, height=120, fps=10, seed=9),
    }
    # Cut off well before the first frame's end, the way an interrupted copy leaves it.
    files["truncated"] = write_corrupt_copy(
        files["d"], folder / "truncated.mp4", keep_fraction=0.15
    )
    files["half"] = write_corrupt_copy(files["d"], folder / "half.mp4", keep_fraction=0.6)
    files["text"] = write_not_media(folder / "text.mp4")
    files["srt"] = write_srt(
        folder / "a.srt", [(0.0, 0.5, "Привет, мир"), (0.5, 1.0, "Второй титр")]
    )
    return files


@pytest.fixture(autouse=True)
def _no_url_allowlist(settings: Settings) -> None:
    settings.URL_IMPORT_ALLOWLIST = []


@pytest.fixture
def outside(tmp_path: Path, library: Library) -> Path:
    """A folder next to the import root, holding a real video that must never be imported."""
    folder = tmp_path / "outside"
    folder.mkdir()
    shutil.copy(library["c"], folder / "secret.mp4")
    write_srt(folder / "subs.srt", [(0.0, 1.0, "секрет")])
    return folder


@pytest.fixture
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temporary files of this test land here, so leftovers can be seen."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
