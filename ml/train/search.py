"""Candidate hyperparameters for the search: a grid or random draws, within a budget.

A candidate sets the classifier's regularisation C, the class weighting, and the weights
of the feature blocks. The configured values are always the first candidate, so a search
can only replace them with something that scored better in cross-validation.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ml.train.config import TrainConfig
from ml.train.params import ClassifierParams, ClassWeight

__all__ = ["Candidate", "candidates"]


@dataclass(frozen=True)
class Candidate:
    params: ClassifierParams
    # Multipliers of the feature blocks ("word", "char", "embedding", "media").
    weights: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        """The JSON form stored with the model and in the search table: the classifier
        settings and, under "weights", the block weights."""
        return {**self.params.as_dict(), "weights": dict(self.weights)}

    def describe(self) -> str:
        weights = ", ".join(f"{name}={w:g}" for name, w in self.weights.items())
        return f"C={self.params.C:g}, class_weight={self.params.class_weight}, weights: {weights}"


_C_RANGE = {"logreg": (0.5, 64.0), "linear_svm": (0.02, 4.0)}
_C_GRID = {"logreg": (1.0, 4.0, 16.0, 64.0), "linear_svm": (0.03, 0.1, 0.3, 1.0)}
_CLASS_WEIGHTS: tuple[ClassWeight, ...] = ("balanced", None)
_BLOCK_WEIGHTS = {"char": (0.5, 1.0, 1.5), "embedding": (0.5, 1.0, 2.0), "media": (0.25, 0.5, 1.0)}


def _default(config: TrainConfig, blocks: set[str]) -> Candidate:
    weights = {name: w for name, w in config.feature_weights.items() if name in blocks}
    return Candidate(config.classifier_params(), weights)


def candidates(config: TrainConfig, blocks: set[str]) -> list[Candidate]:
    """At most `config.search_budget` candidates for the feature blocks present."""
    first = _default(config, blocks)
    if config.search == "none" or config.search_budget <= 1:
        return [first]
    searched: list[str] = [name for name in ("char", "embedding", "media") if name in blocks]
    rng = np.random.default_rng(config.seed)
    if config.search == "grid":
        block_grid = itertools.product(*(_BLOCK_WEIGHTS[name] for name in searched))
        pool = [
            _candidate(first, c, class_weight, dict(zip(searched, ws, strict=True)))
            for c, class_weight, ws in itertools.product(
                _C_GRID[config.classifier], _CLASS_WEIGHTS, list(block_grid)
            )
        ]
        pool = [p for p in pool if p != first]
        # A grid larger than the budget is sampled evenly at random, never cut in order.
        chosen = rng.permutation(len(pool))[: config.search_budget - 1]
        return [first, *(pool[i] for i in sorted(chosen))]
    low, high = _C_RANGE[config.classifier]
    drawn: list[Candidate] = [first]
    for _ in range(config.search_budget * 20):
        if len(drawn) >= config.search_budget:
            break
        c = float(math.exp(rng.uniform(math.log(low), math.log(high))))
        weights = {name: float(rng.choice(_BLOCK_WEIGHTS[name])) for name in searched}
        class_weight = _CLASS_WEIGHTS[int(rng.integers(len(_CLASS_WEIGHTS)))]
        candidate = _candidate(first, round(c, 4), class_weight, weights)
        if candidate not in drawn:
            drawn.append(candidate)
    return drawn


def _candidate(
    first: Candidate, c: float, class_weight: ClassWeight, searched: dict[str, float]
) -> Candidate:
    params = replace(first.params, C=c, class_weight=class_weight)
    return Candidate(params, {**first.weights, **searched})
