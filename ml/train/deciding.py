"""Deciding tags from scores, and the per-tag thresholds (with one common scale) that the
decisions use, tuned on out-of-fold scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ml.evaluate import evaluate_predictions, hierarchical_iou
from ml.train.calibration import (
    Calibration,
    calibration_report,
    fit_calibration,
    top_tag_calibration_error,
)
from ml.train.config import TrainConfig
from ml.train.data import TrainingData
from ml.train.labels import Hierarchy
from ml.train.model import DecisionRule, choose_expected_iou, choose_tags
from ml.train.splits import Fold
from ml.train.thresholds import MAX_THRESHOLD, tune_thresholds

__all__ = [
    "THRESHOLD_SCALES",
    "CalibratedDecision",
    "Decider",
    "Thresholding",
    "calibrate_and_choose",
    "tune",
]

FloatArray = npt.NDArray[np.float64]


class Decider:
    """Turns scores into tag sets exactly as the finished model will."""

    def __init__(self, data: TrainingData, config: TrainConfig) -> None:
        self.tags = data.labels.tags
        self.single = data.y is not None
        self.hierarchy = Hierarchy(self.tags) if data.labels.hierarchy else None
        self.min_tags = config.min_predicted_tags

    def tag_sets(self, scores: FloatArray, thresholds: FloatArray) -> list[list[str]]:
        if self.single:
            return [[self.tags[j]] for j in scores.argmax(axis=1)]
        chosen = choose_tags(scores, thresholds, self.hierarchy, min_tags=self.min_tags)
        return [[self.tags[j] for j in np.flatnonzero(row)] for row in chosen]

    def shown(self, scores: FloatArray) -> FloatArray:
        return self.hierarchy.propagate_max(scores) if self.hierarchy is not None else scores

    def score(
        self, data: TrainingData, scores: FloatArray, thresholds: FloatArray, config: TrainConfig
    ) -> float:
        return self.score_sets(
            data, self.tag_sets(scores, thresholds), scores, config.search_metric
        )

    def score_sets(
        self, data: TrainingData, predicted: list[list[str]], scores: FloatArray, metric: str
    ) -> float:
        """One figure; hierarchical IoU is computed directly, as it is needed most often."""
        if metric == "hierarchical_iou":
            return hierarchical_iou(data.truth, predicted)
        figures = evaluate_predictions(
            data.truth, predicted, scores=self.shown(scores), score_tags=self.tags, per_tag=False
        )
        return float(figures[metric])

    def evaluate(
        self,
        data: TrainingData,
        scores: FloatArray,
        thresholds: FloatArray,
        *,
        per_tag: bool = False,
    ) -> dict[str, Any]:
        return evaluate_predictions(
            data.truth,
            self.tag_sets(scores, thresholds),
            scores=self.shown(scores),
            score_tags=self.tags,
            per_tag=per_tag,
        )


# Multipliers of the per-tag thresholds tried on out-of-fold scores; 1 first, so it wins ties.
THRESHOLD_SCALES = (1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 1.2, 1.35, 1.5, 1.75)


@dataclass
class Thresholding:
    thresholds: FloatArray  # per tag, tuned on all out-of-fold scores, then scaled
    scale: float
    # The search metric over all videos, each fold decided with thresholds tuned on the
    # other folds: how the thresholds can be expected to do on new videos.
    score: float
    crossed: list[tuple[npt.NDArray[np.intp], FloatArray]]  # (fold rows, their thresholds)


def tune(
    data: TrainingData, scores: FloatArray, folds: list[Fold], config: TrainConfig, decider: Decider
) -> Thresholding:
    """Per-tag thresholds for F1, and one multiplier for all of them chosen for the search
    metric (per-tag F1 ignores how the chosen tags add up per video). The multiplier is
    judged on thresholds tuned on other folds: in-sample, the per-tag optimum always wins."""
    if data.y is not None:
        zeros = np.zeros(len(data.labels.tags))
        crossed = [(valid, zeros) for _, valid in folds]
        return Thresholding(zeros, 1.0, decider.score(data, scores, zeros, config), crossed)
    floor = config.threshold_floor
    per_tag = tune_thresholds(data.Y, scores, floor=floor)
    fold_thresholds = [
        (valid, tune_thresholds(data.Y[train], scores[train], floor=floor))
        for train, valid in folds
    ]
    scales = THRESHOLD_SCALES if config.tune_threshold_scale else (1.0,)
    best_scale, best_score = 1.0, -np.inf
    for scale in scales:
        predicted: list[list[str]] = [[] for _ in data.examples]
        for valid, thresholds in fold_thresholds:
            for row, tags in zip(
                valid, decider.tag_sets(scores[valid], _scaled(thresholds, scale)), strict=True
            ):
                predicted[row] = tags
        figure = decider.score_sets(data, predicted, scores, config.search_metric)
        if figure > best_score + 1e-9:
            best_scale, best_score = scale, figure
    crossed = [(valid, _scaled(thresholds, best_scale)) for valid, thresholds in fold_thresholds]
    return Thresholding(_scaled(per_tag, best_scale), best_scale, best_score, crossed)


def _scaled(thresholds: FloatArray, scale: float) -> FloatArray:
    return np.clip(thresholds * scale, 0.01, MAX_THRESHOLD)


@dataclass
class CalibratedDecision:
    calibration: Calibration
    rule: DecisionRule
    # The hierarchical IoU of each rule and the calibration errors, all on out-of-fold
    # scores with calibration maps and thresholds fitted on the other folds.
    figures: dict[str, Any]
    # Out-of-fold probabilities, each fold calibrated with maps fitted on the others.
    crossed: FloatArray
    # Out-of-fold tag sets of the expected-IoU rule (None for single-label).
    expected_sets: list[list[str]] | None = None


def calibrate_and_choose(
    data: TrainingData,
    scores: FloatArray,
    folds: list[Fold],
    tuning: Thresholding,
    config: TrainConfig,
    decider: Decider,
) -> CalibratedDecision:
    """Calibration maps fitted on all out-of-fold scores, and the decision rule (per-tag
    thresholds or the expected-IoU set) that did better on videos neither the maps nor
    the thresholds were fitted on."""
    calibration = fit_calibration(data.Y, scores)
    crossed = np.zeros_like(scores)
    for train_rows, valid_rows in folds:
        fold_map = fit_calibration(data.Y[train_rows], scores[train_rows])
        crossed[valid_rows] = fold_map.apply(scores[valid_rows], normalise=decider.single)
    before, after = decider.shown(scores), decider.shown(crossed)
    figures: dict[str, Any] = {
        "calibration": {
            "before": calibration_report(data.Y, before),
            "after": calibration_report(data.Y, after),
            "top_tag_before": top_tag_calibration_error(data.Y, before),
            "top_tag_after": top_tag_calibration_error(data.Y, after),
            **calibration.describe(),
        }
    }
    if decider.single:
        figures["rules"] = {"argmax": tuning.score}
        return CalibratedDecision(calibration, "thresholds", figures, after)
    by_threshold: list[list[str]] = [[] for _ in data.examples]
    for valid, thresholds in tuning.crossed:
        for row, tags in zip(valid, decider.tag_sets(scores[valid], thresholds), strict=True):
            by_threshold[row] = tags
    depth = np.array([tag.count(": ") for tag in decider.tags], dtype=np.intp)
    chosen = choose_expected_iou(after, depth, min_tags=decider.min_tags)
    by_expectation = [[decider.tags[j] for j in np.flatnonzero(row)] for row in chosen]
    rules = {
        "thresholds": hierarchical_iou(data.truth, by_threshold),
        "expected_iou": hierarchical_iou(data.truth, by_expectation),
    }
    figures["rules"] = rules
    rule: DecisionRule = config.decision if config.decision != "auto" else "thresholds"
    if config.decision == "auto" and rules["expected_iou"] > rules["thresholds"]:
        rule = "expected_iou"
    figures["chosen"] = rule
    return CalibratedDecision(calibration, rule, figures, after, by_expectation)
