"""Candidate hyperparameters for the search: a grid or random draws, within a budget.

A candidate sets the classifier's regularisation C, the class weighting, and the weights
of the feature blocks. The configured values are always the first candidate, so a search
can only replace them with something that scored better in cross-validation.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ml.train.config import TrainConfig

__all__ = ["Candidate", "candidates", "describe_candidate"]

Candidate = dict[str, Any]

_C_RANGE = {"logreg": (0.5, 64.0), "linear_svm": (0.02, 4.0)}
_C_GRID = {"logreg": (1.0, 4.0, 16.0, 64.0), "linear_svm": (0.03, 0.1, 0.3, 1.0)}
_CLASS_WEIGHTS: tuple[str | None, ...] = ("balanced", None)
_BLOCK_WEIGHTS = {"char": (0.5, 1.0, 1.5), "embedding": (0.5, 1.0, 2.0), "media": (0.25, 0.5, 1.0)}


def _default(config: TrainConfig, blocks: set[str]) -> Candidate:
    weights = {name: w for name, w in config.feature_weights.items() if name in blocks}
    return {"C": config.C, "class_weight": config.class_weight, "weights": weights}


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
            _candidate(c, class_weight, dict(zip(searched, ws, strict=True)), first["weights"])
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
        candidate = _candidate(round(c, 4), class_weight, weights, first["weights"])
        if candidate not in drawn:
            drawn.append(candidate)
    return drawn


def _candidate(
    c: float, class_weight: str | None, searched: dict[str, float], base: dict[str, float]
) -> Candidate:
    return {"C": c, "class_weight": class_weight, "weights": {**base, **searched}}


def describe_candidate(candidate: Candidate) -> str:
    weights = ", ".join(f"{name}={w:g}" for name, w in candidate["weights"].items())
    return f"C={candidate['C']:g}, class_weight={candidate['class_weight']}, weights: {weights}"
