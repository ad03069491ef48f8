"""Tags for text that is not (yet) a video of the project: the prediction service."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings

from annotations.models import ModelVersion, Project
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
    text = " ".join(filter(None, (title, description, transcript[:2000])))
    row = zero_shot_scores([text], paths, model_name=settings.EMBEDDING_MODEL)[0]
    ranked = rank_scores(paths, row, np.full(len(paths), ZERO_SHOT_THRESHOLD), shown=shown, extra=0)
    return Prediction([(s.path, round(s.score, 4)) for s in ranked], None, zero_shot=True)
