"""A trained tag model: features, one linear layer, calibration, the hierarchy and the one
way tags are decided and ranked.

Whatever classifier was trained (one-vs-rest logistic regression, a calibrated linear SVM,
a multinomial logistic regression), it is stored as one weight matrix, so scoring a batch
is one sparse-dense product followed by a sigmoid (multi-label) or softmax (single-label).
Scores then go through the calibration maps fitted on out-of-fold scores, so what the
model shows is a probability, and a parent is at least as probable as each of its children.

Everything that needs tags from the model calls `suggest`, `predict` or `evaluate` here:
suggestions for annotators, the prediction API, the promotion gate and offline evaluation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import expit, softmax

from ml.dataset import Example
from ml.evaluate import evaluate_predictions
from ml.features import FeatureBuilder
from ml.train.calibration import Calibration
from ml.train.labels import Hierarchy

__all__ = [
    "DECISION_RULES",
    "LIKELY_ANCHOR",
    "DecisionRule",
    "Decisions",
    "Suggestion",
    "TagModel",
    "choose_expected_iou",
    "choose_tags",
    "rank_suggestions",
]

Link = Literal["sigmoid", "softmax"]
DecisionRule = Literal["thresholds", "expected_iou"]
DECISION_RULES: tuple[DecisionRule, ...] = ("thresholds", "expected_iou")
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# Under the expected-IoU rule a video's set counts as chosen on its merits only when its
# best tag is at least this probable: the rule always takes a first tag (an empty set
# scores nothing), and adds more the weaker that first guess is.
LIKELY_ANCHOR = 0.5


@dataclass(frozen=True)
class Suggestion:
    tag: str
    score: float
    # Chosen by the model on its merits ("likely"); False: a candidate below its decision,
    # or a tag taken only because a prediction needs one ("possible").
    above_threshold: bool


@dataclass(frozen=True)
class Decisions:
    """Per video and tag: the score people see, the tags predicted (with at least the
    minimum a prediction needs), and which of them the rule chose on their merits."""

    shown: FloatArray
    chosen: BoolArray
    likely: BoolArray

    @property
    def forced(self) -> BoolArray:
        """Tags predicted only because a prediction needs at least one."""
        return self.chosen & ~self.likely


def choose_tags(
    raw: FloatArray,
    thresholds: FloatArray,
    hierarchy: Hierarchy | None,
    *,
    min_tags: int,
) -> BoolArray:
    """Multi-label decisions: tags at or above their thresholds, at least `min_tags` per
    video (the ones closest to their thresholds), closed under "a child implies its parents"."""
    chosen = raw >= thresholds[np.newaxis, :]
    if min_tags > 0 and raw.shape[1]:
        short = np.flatnonzero(chosen.sum(axis=1) < min_tags)
        if short.size:
            ratio = raw[short] / np.maximum(thresholds, 1e-9)[np.newaxis, :]
            best = np.argsort(-ratio, axis=1, kind="stable")[:, :min_tags]
            chosen[short[:, np.newaxis], best] = True
    if hierarchy is not None:
        chosen = hierarchy.close(chosen)
    return chosen


def _depths(tags: Sequence[str]) -> npt.NDArray[np.intp]:
    return np.array([tag.count(": ") for tag in tags], dtype=np.intp)


def _order(shown: FloatArray, depth: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """Best first; ties go to the shallower tag, so a prefix keeps parents with children."""
    return np.lexsort((np.broadcast_to(depth, shown.shape), -shown), axis=1)


def choose_expected_iou(
    probabilities: FloatArray, depth: npt.NDArray[np.intp], *, min_tags: int = 1
) -> BoolArray:
    """Per video, the tag set with the highest expected hierarchical IoU.

    With P(tag) = p, the expected IoU of a set S is approximated by
    sum_S p / (sum_all p + sum_S (1 - p)) (expected overlap over expected union). Adding
    a tag raises it exactly when p > A / (A + B) for the current overlap A and union B,
    so the best set is a prefix of the tags by probability; with a parent at least as
    probable as its children (and first on ties) every prefix holds each chosen tag's
    parents: parents and children are decided together.
    """
    chosen = np.zeros(probabilities.shape, dtype=bool)
    if not probabilities.shape[1]:
        return chosen
    order = _order(probabilities, depth)
    expected_true = probabilities.sum(axis=1)
    for i in range(probabilities.shape[0]):
        overlap, union = 0.0, float(expected_true[i])
        for rank, j in enumerate(order[i]):
            p = float(probabilities[i, j])
            if rank >= min_tags and p * (overlap + union) <= overlap:
                break
            chosen[i, j] = True
            overlap += p
            union += 1.0 - p
    return chosen


def rank_suggestions(
    tags: Sequence[str],
    shown: FloatArray,
    chosen: BoolArray,
    *,
    limit: int | None = None,
    extra: int = 0,
    parents: bool = True,
    forced: BoolArray | None = None,
) -> list[list[Suggestion]]:
    """Per video: the chosen tags by score (at most `limit`), then up to `extra` others,
    marked as below the decision: first the `forced` ones (taken only because a
    prediction needs a tag), then the best of the rest. `parents=False` leaves out a
    parent whose child is chosen (choosing the child says it)."""
    tags = list(tags)
    order = _order(shown, _depths(tags))
    if forced is None:
        forced = np.zeros(shown.shape, dtype=bool)
    result = []
    for i in range(shown.shape[0]):
        implied: set[str] = set()
        if not parents:
            for j in np.flatnonzero(chosen[i]):
                parts = tags[j].split(": ")
                implied.update(": ".join(parts[:k]) for k in range(1, len(parts)))
        above = [
            Suggestion(tags[j], float(shown[i, j]), True)
            for j in order[i]
            if chosen[i, j] and tags[j] not in implied
        ][:limit]
        others = [j for j in order[i] if not chosen[i, j] and tags[j] not in implied]
        below = [
            Suggestion(tags[j], float(shown[i, j]), False)
            for j in [j for j in others if forced[i, j]] + [j for j in others if not forced[i, j]]
        ][:extra]
        result.append(above + below)
    return result


class TagScorer(ABC):
    """What every model that suggests tags shares: one way from its scores to suggestions,
    tag sets and offline figures. A subclass says how it scores and decides."""

    tags: list[str]

    @property
    @abstractmethod
    def multi_label(self) -> bool: ...

    @abstractmethod
    def scored(self, examples: Sequence[Example]) -> Decisions:
        """Per video and tag: the score people see, whether the tag is predicted, and
        whether the rule chose it on its merits."""

    def suggest(
        self,
        examples: Sequence[Example],
        *,
        limit: int | None = None,
        extra: int = 0,
        parents: bool = True,
    ) -> list[list[Suggestion]]:
        """The tags chosen on their merits ("likely"), best first, then up to `extra`
        others marked as below the decision ("possible"): first a tag predicted only
        because a prediction needs one, then the best of the rest; see `rank_suggestions`."""
        decided = self.scored(examples)
        return rank_suggestions(
            self.tags,
            decided.shown,
            decided.likely,
            limit=limit,
            extra=extra,
            parents=parents,
            forced=decided.forced,
        )

    def predict(
        self, examples: Sequence[Example], *, top_k: int | None = None, parents: bool = True
    ) -> list[list[tuple[str, float]]]:
        """For each video, its predicted tags with their scores, best first: at least the
        minimum a prediction needs, even when none is likely (single-label: exactly one
        tag); parents of predicted tags included unless `parents=False`."""
        decided = self.scored(examples)
        return [
            [(s.tag, s.score) for s in row]
            for row in rank_suggestions(
                self.tags, decided.shown, decided.chosen, limit=top_k, extra=0, parents=parents
            )
        ]

    def tag_sets(self, examples: Sequence[Example]) -> list[list[str]]:
        chosen = self.scored(examples).chosen
        return [[self.tags[j] for j in np.flatnonzero(row)] for row in chosen]

    def evaluate(self, examples: Sequence[Example], *, per_tag: bool = False) -> dict[str, Any]:
        """Offline figures on tagged videos, decided exactly as predictions are."""
        decided = self.scored(examples)
        shown, chosen = decided.shown, decided.chosen
        predicted = [[self.tags[j] for j in np.flatnonzero(row)] for row in chosen]
        truth = [e.tags if self.multi_label else e.tags[:1] for e in examples]
        return evaluate_predictions(
            truth, predicted, scores=shown, score_tags=self.tags, per_tag=per_tag
        )


class TagModel(TagScorer):
    def __init__(
        self,
        *,
        features: FeatureBuilder,
        tags: Sequence[str],
        coef: npt.NDArray[Any],
        intercept: npt.NDArray[Any],
        link: Link,
        thresholds: Sequence[float] | npt.NDArray[Any],
        hierarchy: bool,
        min_predicted_tags: int,
        config: dict[str, Any],
        params: dict[str, Any],
        calibration: Calibration | None = None,
        decision: DecisionRule = "thresholds",
    ) -> None:
        self.features = features
        self.tags = list(tags)
        self.coef = np.ascontiguousarray(coef, dtype=np.float32)
        self.intercept = np.asarray(intercept, dtype=np.float32)
        if self.coef.shape != (features.n_features, len(self.tags)):
            raise ValueError(
                f"weights of shape {self.coef.shape} do not fit "
                f"{features.n_features} features and {len(self.tags)} tags"
            )
        self.link = link
        self.threshold_array = np.asarray(thresholds, dtype=np.float64)
        self.hierarchy = Hierarchy(self.tags) if hierarchy and link == "sigmoid" else None
        self.min_predicted_tags = min_predicted_tags
        self.config = config
        self.params = params
        self.calibration = calibration
        if decision not in DECISION_RULES:
            raise ValueError(f"decision must be one of {', '.join(DECISION_RULES)}")
        self.decision = decision

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models saved before calibration existed read back uncalibrated.
        state.setdefault("calibration", None)
        state.setdefault("decision", "thresholds")
        self.__dict__.update(state)

    @property
    def multi_label(self) -> bool:
        return self.link == "sigmoid"

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    @property
    def thresholds(self) -> dict[str, float]:
        return {tag: float(t) for tag, t in zip(self.tags, self.threshold_array, strict=True)}

    # -- scores --------------------------------------------------------------------------

    def scores_from_features(self, features: sp.csr_matrix) -> FloatArray:
        """Per-tag scores in [0, 1] as the classifier gives them, before calibration."""
        logits = np.asarray(features.astype(np.float32) @ self.coef) + self.intercept
        logits = logits.astype(np.float64)
        return softmax(logits, axis=1) if self.link == "softmax" else expit(logits)

    def raw_scores(self, examples: Sequence[Example]) -> FloatArray:
        if not examples:
            return np.zeros((0, len(self.tags)))
        return self.scores_from_features(self.features.transform(examples))

    def probabilities(self, raw: FloatArray) -> FloatArray:
        """Calibrated probabilities from classifier scores; a parent at least as probable
        as each of its children; single-label rows sum to 1."""
        scores = raw
        if self.calibration is not None:
            scores = self.calibration.apply(raw, normalise=not self.multi_label)
        return self.hierarchy.propagate_max(scores) if self.hierarchy is not None else scores

    def predict_scores(self, examples: Sequence[Example]) -> FloatArray:
        """Videos x `tags` probabilities (see `probabilities`)."""
        return self.probabilities(self.raw_scores(examples))

    # -- decisions -----------------------------------------------------------------------

    def decide(self, raw: FloatArray, probabilities: FloatArray | None = None) -> Decisions:
        """The predicted tags of each video, from classifier scores, and which of them the
        rule chose on their merits: under per-tag thresholds, a tag whose score reaches its
        threshold (the calibration maps keep the order, so its probability reaches the
        threshold's), with the parents of such tags; under the expected-IoU rule, the set
        of a video whose best tag is at least `LIKELY_ANCHOR` probable. The tags taken
        only to reach `min_predicted_tags` are predicted, not chosen on their merits."""
        shown = self.probabilities(raw) if probabilities is None else probabilities
        if not self.multi_label:
            chosen = np.zeros(raw.shape, dtype=bool)
            if raw.shape[1]:
                chosen[np.arange(raw.shape[0]), shown.argmax(axis=1)] = True
            return Decisions(shown, chosen, chosen)
        if self.decision == "expected_iou" and self.calibration is not None:
            chosen = choose_expected_iou(
                shown, _depths(self.tags), min_tags=self.min_predicted_tags
            )
            best = shown.max(axis=1, initial=0.0)
            return Decisions(shown, chosen, chosen & (best >= LIKELY_ANCHOR)[:, np.newaxis])
        likely = choose_tags(raw, self.threshold_array, self.hierarchy, min_tags=0)
        chosen = choose_tags(
            raw, self.threshold_array, self.hierarchy, min_tags=self.min_predicted_tags
        )
        return Decisions(shown, chosen, likely)

    def scored(self, examples: Sequence[Example]) -> Decisions:
        raw = self.raw_scores(examples)
        return self.decide(raw, self.probabilities(raw))

    def describe(self) -> dict[str, Any]:
        return {
            "tags": len(self.tags),
            "multi_label": self.multi_label,
            "decision": self.decision,
            "calibration": self.calibration.describe() if self.calibration else None,
            "features": self.features.describe(),
            "params": self.params,
        }
