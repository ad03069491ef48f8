"""The media features on a video's page: ones the pipeline writes, in the reader's language."""

from __future__ import annotations

import pytest
from django.utils import translation

from annotations.models import VideoFeatures
from annotations.views.processing import media_feature_rows
from ml.audio import audio_feature_keys
from ml.frames import visual_feature_keys
from tests.factories import make_project, make_video

pytestmark = pytest.mark.django_db


def _video_with_every_feature() -> VideoFeatures:
    video = make_video(make_project())
    return VideoFeatures.objects.create(
        video=video,
        visual={key: 0.25 for key in visual_feature_keys(faces=True)},
        audio={key: 0.5 for key in audio_feature_keys()},
    )


def test_every_feature_the_page_names_is_one_the_pipeline_writes() -> None:
    features = _video_with_every_feature()

    with translation.override("en"):
        labels = [label for label, _ in media_feature_rows(features.video)]

    # A key the pipeline does not write (a renamed feature) would drop its row silently.
    assert labels == [
        "Brightness",
        "Contrast",
        "Edge density",
        "Motion",
        "Shots per minute",
        "Faces per frame",
        "Speech share",
        "Loudness (dBFS)",
        "Silence share",
    ]


def test_feature_labels_are_said_in_russian() -> None:
    features = _video_with_every_feature()

    with translation.override("en"):
        english = [label for label, _ in media_feature_rows(features.video)]
    with translation.override("ru"):
        russian = [label for label, _ in media_feature_rows(features.video)]

    assert len(russian) == len(english)
    assert all(ru != en for ru, en in zip(russian, english, strict=True))
