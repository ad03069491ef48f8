"""Videos as the model sees them: ml.dataset.Example built from what the pipeline stored."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from annotations.models import ConfirmedLabel, TranscriptSegment, Video, VideoFeatures
from annotations.models.labels import ConfirmedLabelQuerySet
from ml.dataset import Example


def media_vector(features: VideoFeatures | None) -> dict[str, float]:
    """Visual and audio features in one flat mapping, prefixed by where they came from."""
    if features is None:
        return {}
    vector: dict[str, float] = {}
    for prefix, values in (("visual_", features.visual), ("audio_", features.audio)):
        for key, value in (values or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                vector[prefix + key] = float(value)
    if features.image_embedding:
        for index, value in enumerate(features.image_embedding):
            vector[f"image_{index}"] = float(value)
    return vector


def examples_for_videos(
    videos: QuerySet[Video] | Iterable[Video], *, with_tags: bool, human_only: bool = False
) -> list[Example]:
    """One Example per video, in the given order; tags are the confirmed labels' paths
    (``human_only``: leaving out the labels the model confirmed itself).

    Deprecated tags stay on their labels but are left out: the model stops learning them.
    """
    video_list = list(videos)
    ids = [video.pk for video in video_list]
    transcripts: dict[int, list[str]] = defaultdict(list)
    for video_id, text in (
        TranscriptSegment.objects.filter(video_id__in=ids)
        .order_by("video_id", "index")
        .values_list("video_id", "text")
    ):
        transcripts[video_id].append(text)
    features = {row.video_id: row for row in VideoFeatures.objects.filter(video_id__in=ids)}
    tags: dict[int, list[str]] = defaultdict(list)
    if with_tags:
        labels = ConfirmedLabel.objects.filter(video_id__in=ids, tag__active=True)
        if human_only:
            labels = labels.human()
        for video_id, path in labels.values_list("video_id", "tag__path"):
            tags[video_id].append(path)
    return [
        Example(
            video_id=str(video.pk),
            title=video.title,
            description=video.description,
            transcript=" ".join(transcripts[video.pk]),
            summary=video.summary,
            media=media_vector(features.get(video.pk)),
            tags=tuple(sorted(tags[video.pk])),
        )
        for video in video_list
    ]


def training_labels() -> ConfirmedLabelQuerySet:
    """The confirmed labels training learns from: of tags in use, and confirmed by people
    (the model's own confirmations too with TRAIN_ON_MODEL_LABELS)."""
    labels = ConfirmedLabel.objects.filter(tag__active=True)
    return labels if settings.TRAIN_ON_MODEL_LABELS else labels.human()


def labeled_videos(project_id: int) -> QuerySet[Video]:
    """Videos with at least one label training learns from: the training data."""
    in_use = training_labels().filter(video=OuterRef("pk"))
    return Video.objects.filter(Exists(in_use), project_id=project_id).order_by("id")
