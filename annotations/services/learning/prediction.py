"""Tags for a video that is not (yet) labeled: the prediction service.

One path for text sent on its own and for a video the pipeline processed: each becomes
an ``ml.dataset.Example`` (a video's with the media features its training examples
had, from ``examples_for_videos``) scored by the promoted model, or zero-shot before
any model exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from annotations.models import ModelVersion, Project, Video
from annotations.services.learning.examples import examples_for_videos
from annotations.services.learning.model_store import model_for, promoted_version
from annotations.services.learning.suggestions import ZERO_SHOT_THRESHOLD, rank_scores
from ml.dataset import Example


@dataclass(frozen=True)
class Prediction:
    tags: list[tuple[str, float]]
    model_version: ModelVersion | None
    zero_shot: bool


def predict_for_text(
    *, project: Project, title: str, description: str = "", transcript: str = ""
) -> Prediction:
    """The promoted model's tags above threshold, ranked; zero-shot before any model exists."""
    example = Example(
        video_id="request", title=title, description=description, transcript=transcript
    )
    return predict_example(project=project, example=example)


def predict_for_video(*, project: Project, video: Video) -> Prediction:
    """The same for a processed video: its text, summary and media features."""
    return predict_example(
        project=project, example=examples_for_videos([video], with_tags=False)[0]
    )


def predict_example(*, project: Project, example: Example) -> Prediction:
    version = promoted_version(project)
    shown = 1 if project.is_single_label else settings.SUGGESTIONS_SHOWN
    if version is not None:
        model = model_for(version)
        scores = model.predict_scores([example])[0]
        thresholds = np.asarray([model.thresholds[tag] for tag in model.tags], dtype=float)
        if project.is_single_label:
            thresholds = np.full_like(scores, np.inf)
            thresholds[int(np.argmax(scores))] = -np.inf
        ranked = rank_scores(model.tags, scores, thresholds, shown=shown, extra=0)
        return Prediction([(s.path, round(s.score, 4)) for s in ranked], version, zero_shot=False)
    from ml.zero_shot import zero_shot_scores

    paths = sorted(project.tags.filter(active=True).values_list("path", flat=True))
    if not paths:
        return Prediction([], None, zero_shot=True)
    spoken = example.summary or example.transcript[:2000]
    text = " ".join(filter(None, (example.title, example.description, spoken)))
    row = zero_shot_scores([text], paths, model_name=settings.EMBEDDING_MODEL)[0]
    ranked = rank_scores(paths, row, np.full(len(paths), ZERO_SHOT_THRESHOLD), shown=shown, extra=0)
    return Prediction([(s.path, round(s.score, 4)) for s in ranked], None, zero_shot=True)
