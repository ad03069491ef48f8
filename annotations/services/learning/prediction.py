"""Tags for a video that is not (yet) labeled: from its text, or from a processed video
with its media features, through the same scorer as the suggestions."""

from __future__ import annotations

from dataclasses import dataclass

from annotations.models import ModelVersion, Project, Video
from annotations.services.learning.examples import examples_for_videos
from annotations.services.learning.suggestions import scorer_for
from ml.dataset import Example


@dataclass(frozen=True)
class Prediction:
    tags: list[tuple[str, float]]
    model_version: ModelVersion | None
    zero_shot: bool


def _predict(project: Project, example: Example) -> Prediction:
    # A caller asking for tags gets the best guess even when zero-shot is unsure of it.
    scorer = scorer_for(project, min_tags=1)
    version = scorer.version
    if not scorer.paths:
        return Prediction([], version, zero_shot=version is None)
    ranking = scorer.predicted([example], single=project.is_single_label)[0]
    return Prediction(
        [(s.tag, round(s.score, 4)) for s in ranking if s.score > 0],
        version,
        zero_shot=version is None,
    )


def predict_for_text(
    *, project: Project, title: str, description: str = "", transcript: str = ""
) -> Prediction:
    """The promoted model's chosen tags, ranked; zero-shot before any model exists."""
    example = Example(
        video_id="request", title=title, description=description, transcript=transcript
    )
    return _predict(project, example)


def predict_for_video(*, video: Video) -> Prediction:
    """The same for a processed video, with its transcript, summary and media features."""
    return _predict(video.project, examples_for_videos([video], with_tags=False)[0])
