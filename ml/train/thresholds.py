"""Per-tag decision thresholds chosen on validation scores to maximise each tag's F1."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["DEFAULT_THRESHOLD", "MAX_THRESHOLD", "tune_thresholds"]

DEFAULT_THRESHOLD = 0.5
MAX_THRESHOLD = 0.99


def _best_cut(truth: npt.NDArray[Any], scores: npt.NDArray[np.float64]) -> tuple[float, float]:
    """(best F1, threshold) over all cuts "score >= t" of one tag."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], truth[order].astype(np.float64)
    true_positives = np.cumsum(hits)
    predicted = np.arange(1, len(ranked) + 1)
    f1 = 2 * true_positives / (predicted + hits.sum())
    # Only the last of equal scores is a real cut: "score >= t" takes all of them.
    real_cut = np.append(ranked[1:] < ranked[:-1], True)
    f1 = np.where(real_cut, f1, -1.0)
    best = int(np.argmax(f1))
    # Halfway to the next score generalises better than the exact score of the last hit.
    threshold = (ranked[best] + ranked[best + 1]) / 2 if best + 1 < len(ranked) else ranked[best]
    return float(f1[best]), float(threshold)


def tune_thresholds(
    truth: npt.NDArray[Any],
    scores: npt.NDArray[np.float64],
    *,
    floor: float = 0.1,
    default: float = DEFAULT_THRESHOLD,
) -> npt.NDArray[np.float64]:
    """For each column, the threshold with the best F1 on these rows, kept within
    [floor, MAX_THRESHOLD]; `default` for a tag with no positive row or no useful cut."""
    if truth.shape != scores.shape:
        raise ValueError(f"truth {truth.shape} and scores {scores.shape} differ in shape")
    thresholds = np.full(truth.shape[1], default, dtype=np.float64)
    if truth.shape[0] == 0:
        return thresholds
    for j in range(truth.shape[1]):
        if not truth[:, j].any():
            continue
        f1, threshold = _best_cut(truth[:, j], scores[:, j])
        if f1 > 0:
            thresholds[j] = min(max(threshold, floor), MAX_THRESHOLD)
    return thresholds
