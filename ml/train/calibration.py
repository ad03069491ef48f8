"""Calibrated probabilities from a classifier's scores, and how well calibrated scores are.

A classifier trained with balanced class weights says 0.9 for a rare tag far more often
than the tag is there. Platt scaling (a logistic regression on the logit of the score)
maps scores to probabilities, fitted on out-of-fold scores (scores of videos the
classifier did not train on). A tag with enough positive and negative videos gets a map
of its own; the others share one map fitted on all tags' scores together.

The expected calibration error (ECE) is the share-weighted mean gap, over equal-width
score bins, between the mean score of a bin and the share of its (video, tag) pairs that
are true: 0 for perfectly calibrated scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.linear_model import LogisticRegression

__all__ = [
    "MIN_PER_CLASS",
    "Calibration",
    "calibration_report",
    "expected_calibration_error",
    "fit_calibration",
    "top_tag_calibration_error",
]

FloatArray = npt.NDArray[np.float64]
# A tag gets a map of its own with at least this many positive and negative videos.
MIN_PER_CLASS = 8
_EPS = 1e-6
_BINS = 10


def _logit(scores: FloatArray) -> FloatArray:
    clipped = np.clip(scores, _EPS, 1 - _EPS)
    return np.log(clipped / (1 - clipped))


def _platt(logits: FloatArray, truth: npt.NDArray[Any]) -> tuple[float, float]:
    """(slope, intercept) of P(true) = sigmoid(slope * logit + intercept)."""
    if truth.min() == truth.max():
        # One class only: keep the score's order, move it to the observed rate.
        rate = (truth.sum() + 0.5) / (len(truth) + 1.0)
        return 1.0, float(np.log(rate / (1 - rate)) - np.median(logits))
    fit = LogisticRegression(C=100.0, max_iter=1000).fit(logits.reshape(-1, 1), truth)
    slope = float(fit.coef_[0, 0])
    if slope <= 0:
        # A map that reverses the classifier's order is noise from too little data.
        return 0.0, float(fit.intercept_[0])
    return slope, float(fit.intercept_[0])


@dataclass
class Calibration:
    """Per-tag Platt maps (slope, intercept); NaN slope: the tag uses the shared map."""

    slopes: FloatArray
    intercepts: FloatArray
    shared: tuple[float, float]
    own_maps: int

    def apply(self, scores: FloatArray, *, normalise: bool = False) -> FloatArray:
        """Probabilities for videos x tags scores; `normalise`: rows sum to 1 (one tag each)."""
        if scores.size == 0:
            return np.asarray(scores, dtype=np.float64)
        own = ~np.isnan(self.slopes)
        slopes = np.where(own, self.slopes, self.shared[0])
        intercepts = np.where(own, self.intercepts, self.shared[1])
        probabilities = 1.0 / (1.0 + np.exp(-(_logit(scores) * slopes + intercepts)))
        if normalise:
            probabilities /= np.maximum(probabilities.sum(axis=1, keepdims=True), _EPS)
        return probabilities

    def describe(self) -> dict[str, Any]:
        return {"tags_with_own_map": self.own_maps, "shared_map": list(self.shared)}


def fit_calibration(
    truth: npt.NDArray[Any], scores: FloatArray, *, min_per_class: int = MIN_PER_CLASS
) -> Calibration:
    """Maps fitted on out-of-fold `scores` (videos x tags) against `truth` (0/1, same shape)."""
    truth = np.asarray(truth, dtype=np.int8)
    logits = _logit(np.asarray(scores, dtype=np.float64))
    shared = _platt(logits.ravel(), truth.ravel())
    slopes = np.full(truth.shape[1], np.nan)
    intercepts = np.full(truth.shape[1], np.nan)
    positives = truth.sum(axis=0)
    negatives = truth.shape[0] - positives
    own = 0
    for j in np.flatnonzero((positives >= min_per_class) & (negatives >= min_per_class)):
        slopes[j], intercepts[j] = _platt(logits[:, j], truth[:, j])
        own += 1
    return Calibration(slopes, intercepts, shared, own)


def calibration_report(
    truth: npt.NDArray[Any], probabilities: FloatArray, *, bins: int = _BINS
) -> dict[str, Any]:
    """The ECE and the reliability diagram's bins over every (video, tag) pair."""
    truth_flat = np.asarray(truth, dtype=np.float64).ravel()
    flat = np.asarray(probabilities, dtype=np.float64).ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(flat, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    gap = 0.0
    for b in range(bins):
        inside = which == b
        count = int(inside.sum())
        if not count:
            continue
        mean_score = float(flat[inside].mean())
        rate = float(truth_flat[inside].mean())
        gap += count * abs(mean_score - rate)
        rows.append(
            {
                "lower": float(edges[b]),
                "upper": float(edges[b + 1]),
                "count": count,
                "mean_score": mean_score,
                "true_rate": rate,
            }
        )
    total = len(flat)
    return {"ece": gap / total if total else float("nan"), "pairs": total, "bins": rows}


def top_tag_calibration_error(truth: npt.NDArray[Any], probabilities: FloatArray) -> float:
    """The ECE of each video's most probable tag alone: does "0.9" on the first
    suggestion mean right nine times in ten?"""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.size == 0:
        return float("nan")
    best = probabilities.argmax(axis=1)
    rows = np.arange(len(best))
    truth = np.asarray(truth)
    return float(
        calibration_report(truth[rows, best][:, None], probabilities[rows, best][:, None])["ece"]
    )


def expected_calibration_error(truth: npt.NDArray[Any], probabilities: FloatArray) -> float:
    return float(calibration_report(truth, probabilities)["ece"])
