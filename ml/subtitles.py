"""Reading subtitle files (SubRip .srt and WebVTT .vtt) into timed segments."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_TIME = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[,.](\d{1,3})")
_ARROW = re.compile(rf"^\s*({_TIME.pattern})\s*-->\s*({_TIME.pattern})")
_TAGS = re.compile(r"<[^>]+>|\{\\[^}]*\}")


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str


class SubtitleError(ValueError):
    pass


def _seconds(stamp: str) -> float:
    match = _TIME.fullmatch(stamp.strip())
    if match is None:
        raise SubtitleError(f"bad timestamp {stamp!r}")
    hours, minutes, seconds, millis = match.groups()
    return (
        int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(millis.ljust(3, "0")) / 1000
    )


def parse_subtitles(text: str) -> list[Segment]:
    """Cues of an SRT or VTT text in time order; cue numbers, styling and notes dropped."""
    segments: list[Segment] = []
    blocks = re.split(r"\r?\n\s*\r?\n", text.removeprefix("\ufeff").strip())
    for block in blocks:
        lines = block.splitlines()
        for index, line in enumerate(lines):
            match = _ARROW.match(line)
            if match is None:
                continue
            start = _seconds(match.group(1))
            end = _seconds(match.group(6))
            body = " ".join(_TAGS.sub("", part).strip() for part in lines[index + 1 :])
            body = re.sub(r"\s+", " ", body).strip()
            if body and end >= start:
                segments.append(Segment(start, end, body))
            break
    if not segments and text.strip() and not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise SubtitleError(
            "no subtitle cues found (expected 'HH:MM:SS,mmm --> HH:MM:SS,mmm' lines)"
        )
    return sorted(segments, key=lambda s: (s.start, s.end))


def read_subtitles(path: Path) -> list[Segment]:
    return parse_subtitles(path.read_text(encoding="utf-8", errors="replace"))


SIDECAR_SUFFIXES = (".srt", ".vtt")


def find_sidecar(media_path: Path) -> Path | None:
    """A subtitle file next to the media with the same stem (video.mp4 -> video.srt)."""
    for suffix in SIDECAR_SUFFIXES:
        candidate = media_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None
