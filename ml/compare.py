"""Two scorers compared on the same videos, with a paired bootstrap confidence interval.

The difference of a metric between a candidate and a reference is computed on the same
videos; resampling those videos (with replacement) many times and recomputing the
difference gives its spread, and the 2.5th and 97.5th percentiles a 95 % interval. A
metric that is a mean over videos (hierarchical IoU, precision@k) is resampled from its
per-video values; any other is recomputed on each resample.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ml.dataset import Example
from ml.evaluate import evaluate_predictions, expand_tags

__all__ = [
    "MIN_GATE_VIDEOS",
    "Comparison",
    "Scorer",
    "compare_scorers",
    "gate_videos",
    "wilson_lower_bound",
]

FloatArray = npt.NDArray[np.float64]
RESAMPLES = 2000
_RECOMPUTED_RESAMPLES = 300
# Fewer held-out videos unseen by the current model than this, and the promotion gate
# compares on all of the candidate's held-out videos.
MIN_GATE_VIDEOS = 5


class Scorer(Protocol):
    tags: list[str]

    def predict_scores(self, examples: Sequence[Example]) -> FloatArray: ...

    def tag_sets(self, examples: Sequence[Example]) -> list[list[str]]: ...


@dataclass(frozen=True)
class Comparison:
    metric: str
    videos: int
    candidate: float
    reference: float
    difference: float
    low: float  # the 95 % interval of the difference
    high: float
    resamples: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _per_video(
    metric: str,
    truth: list[set[str]],
    predicted: list[list[str]],
    scores: FloatArray,
    tags: Sequence[str],
) -> FloatArray | None:
    if metric == "hierarchical_iou":
        values = []
        for true, chosen in zip(truth, predicted, strict=True):
            guess = expand_tags(chosen)
            union = true | guess
            values.append(len(true & guess) / len(union) if union else 1.0)
        return np.array(values)
    if metric.startswith("precision_at_"):
        k = int(metric.rsplit("_", 1)[1])
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.array(
            [sum(tags[j] in true for j in row) / k for row, true in zip(top, truth, strict=True)]
        )
    return None


def _figure(
    metric: str,
    truth: list[tuple[str, ...]],
    predicted: list[list[str]],
    scores: FloatArray,
    tags: Sequence[str],
) -> float:
    figures = evaluate_predictions(truth, predicted, scores=scores, score_tags=tags, per_tag=False)
    return float(figures[metric])


def compare_scorers(
    examples: Sequence[Example],
    candidate: Scorer,
    reference: Scorer,
    *,
    metric: str = "hierarchical_iou",
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Comparison:
    """The candidate's `metric` minus the reference's on the same tagged `examples`."""
    if not examples:
        raise ValueError("no videos to compare on")
    truth = [tuple(e.tags) for e in examples]
    expanded = [expand_tags(t) for t in truth]
    sides = []
    for scorer in (candidate, reference):
        predicted = scorer.tag_sets(examples)
        scores = scorer.predict_scores(examples)
        sides.append((predicted, scores, scorer.tags))
    rng = np.random.default_rng(seed)
    n = len(examples)
    values = [_per_video(metric, expanded, *side) for side in sides]
    if values[0] is not None and values[1] is not None:
        difference = values[0] - values[1]
        draws = rng.integers(0, n, size=(resamples, n))
        spread = difference[draws].mean(axis=1)
        a, b = float(values[0].mean()), float(values[1].mean())
    else:
        resamples = min(resamples, _RECOMPUTED_RESAMPLES)
        a, b = (_figure(metric, truth, *side) for side in sides)
        spread_list = []
        for _ in range(resamples):
            rows = rng.integers(0, n, size=n)
            pick = [truth[i] for i in rows]
            spread_list.append(
                _figure(
                    metric, pick, [sides[0][0][i] for i in rows], sides[0][1][rows], sides[0][2]
                )
                - _figure(
                    metric, pick, [sides[1][0][i] for i in rows], sides[1][1][rows], sides[1][2]
                )
            )
        spread = np.array(spread_list)
    low, high = np.nanpercentile(spread, [2.5, 97.5])
    return Comparison(metric, n, a, b, a - b, float(low), float(high), resamples)


def gate_videos(
    held_out: Sequence[Example], seen: Collection[str], *, minimum: int = MIN_GATE_VIDEOS
) -> tuple[list[Example], bool]:
    """The videos a candidate is compared with the current model on: its held-out ones the
    current model did not train on (``seen``), when there are at least ``minimum``;
    otherwise all its held-out ones, which favours the current model (True then)."""
    unseen = [example for example in held_out if example.video_id not in seen]
    if len(unseen) >= minimum:
        return unseen, False
    return list(held_out), True


def wilson_lower_bound(right: int, checked: int, *, z: float = 1.645) -> float:
    """The lower end of the Wilson score interval of a proportion: with z = 1.645 the true
    share is above it with 95 % confidence. 0 with nothing checked."""
    if checked <= 0:
        return 0.0
    p = right / checked
    z2 = z * z
    centre = p + z2 / (2 * checked)
    margin = z * float(np.sqrt(p * (1 - p) / checked + z2 / (4 * checked * checked)))
    return max(0.0, (centre - margin) / (1 + z2 / checked))
