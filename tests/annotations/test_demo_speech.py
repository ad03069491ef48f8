"""The demo's English clips: spoken by espeak-ng, without subtitles, tagged from the taxonomy."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from annotations.demo.speech import SPOKEN_CLIPS, write_spoken_clips
from annotations.manifest import read_manifest
from annotations.models import Project, Video
from annotations.services.media.video_import import videos_import_rows
from ml.synthetic_media.speech import espeak_available
from ml.taxonomy import paths_of, read_taxonomy_file
from tests.factories import make_tag

TAXONOMY = Path(__file__).resolve().parents[2] / "annotations" / "demo" / "taxonomy.json"
needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")


def test_every_spoken_clip_is_tagged_from_the_demo_taxonomy() -> None:
    known = set(paths_of(read_taxonomy_file(TAXONOMY)))

    assert len(SPOKEN_CLIPS) >= 1
    for clip in SPOKEN_CLIPS:
        assert set(clip.tags) <= known, clip.video_id
        # Short enough for tiny.en to transcribe in seconds while the demo is watched.
        assert len(clip.speech.split()) <= 40, clip.video_id


@needs_espeak
@pytest.mark.django_db
def test_spoken_clips_import_as_videos_with_sound_and_no_subtitles(
    project: Project, import_root: Path
) -> None:
    for clip in SPOKEN_CLIPS:
        for tag in clip.tags:
            make_tag(project, tag)
    manifest = write_spoken_clips(import_root / "demo")
    assert manifest is not None

    report = videos_import_rows(
        project=project, rows=read_manifest(manifest), base_dir=manifest.parent
    )

    assert report.summary() == f"{len(SPOKEN_CLIPS)} imported, 0 skipped, 0 failed"
    for clip in SPOKEN_CLIPS:
        video = Video.objects.get(external_id=clip.video_id)
        assert video.has_audio_stream and video.has_video_stream
        assert not video.subtitles_file
        assert 4.0 <= (video.duration_seconds or 0) <= 15.0
        assert list(video.confirmed_labels.values_list("tag__path", flat=True)) == list(clip.tags)
        with av.open(str(import_root / "demo" / clip.file_name)) as container:
            assert not container.streams.subtitles
