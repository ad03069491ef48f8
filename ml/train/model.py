"""A trained tag model: features, one linear layer, per-tag thresholds and the hierarchy.

Whatever classifier was trained (one-vs-rest logistic regression, a calibrated linear SVM,
a multinomial logistic regression), it is stored as one weight matrix, so scoring a batch
is one sparse-dense product followed by a sigmoid (multi-label) or softmax (single-label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.special import expit, softmax

from ml.dataset import Example
from ml.features import FeatureBuilder
from ml.train.labels import Hierarchy

__all__ = ["Suggestion", "TagModel", "choose_tags"]

Link = Literal["sigmoid", "softmax"]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Suggestion:
    tag: str
    score: float
    above_threshold: bool


def choose_tags(
    raw: FloatArray,
    thresholds: FloatArray,
    hierarchy: Hierarchy | None,
    *,
    min_tags: int,
) -> npt.NDArray[np.bool_]:
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


class TagModel:
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

    @property
    def multi_label(self) -> bool:
        return self.link == "sigmoid"

    @property
    def thresholds(self) -> dict[str, float]:
        return {tag: float(t) for tag, t in zip(self.tags, self.threshold_array, strict=True)}

    # -- scores --------------------------------------------------------------------------

    def scores_from_features(self, features: sp.csr_matrix) -> FloatArray:
        """Per-tag scores in [0, 1] as the classifier gives them, before the hierarchy."""
        logits = np.asarray(features.astype(np.float32) @ self.coef) + self.intercept
        logits = logits.astype(np.float64)
        return softmax(logits, axis=1) if self.link == "softmax" else expit(logits)

    def raw_scores(self, examples: Sequence[Example]) -> FloatArray:
        if not examples:
            return np.zeros((0, len(self.tags)))
        return self.scores_from_features(self.features.transform(examples))

    def predict_scores(self, examples: Sequence[Example]) -> FloatArray:
        """Videos x `tags` scores in [0, 1]. Multi-label with hierarchy: a parent scores at
        least as high as its children. Single-label: probabilities that sum to 1."""
        raw = self.raw_scores(examples)
        return self.hierarchy.propagate_max(raw) if self.hierarchy is not None else raw

    # -- decisions -----------------------------------------------------------------------

    def decide(self, raw: FloatArray) -> npt.NDArray[np.bool_]:
        if not self.multi_label:
            chosen = np.zeros(raw.shape, dtype=bool)
            if raw.shape[1]:
                chosen[np.arange(raw.shape[0]), raw.argmax(axis=1)] = True
            return chosen
        return choose_tags(
            raw, self.threshold_array, self.hierarchy, min_tags=self.min_predicted_tags
        )

    def _ranked(self, raw: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
        shown = self.hierarchy.propagate_max(raw) if self.hierarchy is not None else raw
        # Ties go to the shallower tag, so any prefix of the ranking keeps parents with children.
        depth = np.array([tag.count(": ") for tag in self.tags])
        order = np.lexsort((np.broadcast_to(depth, shown.shape), -shown), axis=1)
        return shown, order

    def predict(
        self, examples: Sequence[Example], *, top_k: int | None = None
    ) -> list[list[tuple[str, float]]]:
        """For each video, its chosen tags with scores, best first (parents of chosen tags
        included; single-label: exactly one tag)."""
        raw = self.raw_scores(examples)
        chosen = self.decide(raw)
        shown, order = self._ranked(raw)
        result = []
        for i in range(len(examples)):
            picked = [(self.tags[j], float(shown[i, j])) for j in order[i] if chosen[i, j]]
            result.append(picked[:top_k] if top_k is not None else picked)
        return result

    def suggest(self, examples: Sequence[Example], *, extra: int = 0) -> list[list[Suggestion]]:
        """The chosen tags, then up to `extra` of the best other tags, marked as below
        their thresholds."""
        raw = self.raw_scores(examples)
        chosen = self.decide(raw)
        shown, order = self._ranked(raw)
        result = []
        for i in range(len(examples)):
            above = [
                Suggestion(self.tags[j], float(shown[i, j]), True) for j in order[i] if chosen[i, j]
            ]
            below = [
                Suggestion(self.tags[j], float(shown[i, j]), False)
                for j in order[i]
                if not chosen[i, j]
            ][:extra]
            result.append(above + below)
        return result

    def describe(self) -> dict[str, Any]:
        return {
            "tags": len(self.tags),
            "multi_label": self.multi_label,
            "features": self.features.describe(),
            "params": self.params,
        }
