"""Held-out splits and cross-validation folds that keep the multi-label distribution.

Iterative stratification (Sechidis et al., via iterstrat) balances every tag's share
across the parts. Tags with a single video cannot be balanced and only disturb the
procedure, so they are left out of the stratification (their videos still take part).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from iterstrat.ml_stratifiers import MultilabelStratifiedKFold, MultilabelStratifiedShuffleSplit
from sklearn.model_selection import KFold, ShuffleSplit

__all__ = ["Fold", "stratified_folds", "stratified_holdout"]

Indices = npt.NDArray[np.intp]
Fold = tuple[Indices, Indices]


def _stratifiable(Y: npt.NDArray[Any]) -> npt.NDArray[Any]:
    return np.asarray(Y)[:, np.asarray(Y).sum(axis=0) >= 2]


def stratified_holdout(Y: npt.NDArray[Any], test_size: float, seed: int) -> Fold:
    """(train rows, test rows) with about `test_size` of the rows in the test part."""
    columns = _stratifiable(Y)
    placeholder = np.zeros(len(Y))
    splitter: Any
    if columns.shape[1]:
        splitter = MultilabelStratifiedShuffleSplit(
            n_splits=1, test_size=test_size, random_state=seed
        )
        train, test = next(splitter.split(placeholder, columns))
    else:
        splitter = ShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
        train, test = next(splitter.split(placeholder))
    return np.sort(train), np.sort(test)


def stratified_folds(Y: npt.NDArray[Any], folds: int, seed: int) -> list[Fold]:
    """`folds` (train rows, validation rows) pairs; every row is validated exactly once."""
    if folds < 2:
        raise ValueError("cross-validation needs at least 2 folds")
    if len(Y) < folds:
        raise ValueError(f"{len(Y)} videos cannot be split into {folds} folds")
    columns = _stratifiable(Y)
    placeholder = np.zeros(len(Y))
    if columns.shape[1]:
        splitter: Any = MultilabelStratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        parts = splitter.split(placeholder, columns)
    else:
        parts = KFold(n_splits=folds, shuffle=True, random_state=seed).split(placeholder)
    return [(np.sort(train), np.sort(validation)) for train, validation in parts]
