"""Fitting the linear classifiers and reducing each to weights of one linear layer.

Every fit says whether it converged: a fit that stops at its iteration limit is counted
in `LinearWeights` instead of being silenced, so that training can report it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from ml.train.params import ClassifierParams

__all__ = ["LinearWeights", "fit_multinomial", "fit_one_vs_rest"]

# A tag that is always absent (or always present) in the training data gets a constant
# score this far from the middle on the logit scale (probability about 0.0003 or 0.9997).
_CONSTANT_LOGIT = 8.0
_CALIBRATION_FOLDS = 3

FloatArray = npt.NDArray[np.float64]
_T = TypeVar("_T")


@dataclass
class LinearWeights:
    coef: npt.NDArray[np.float32]  # features x tags
    intercept: npt.NDArray[np.float64]
    link: Literal["sigmoid", "softmax"]
    # How many fits stopped at their iteration limit before converging, and the columns
    # they were for (a multinomial fit learns every class at once: all it learned).
    unconverged_fits: int = 0
    unconverged: tuple[int, ...] = ()


@dataclass(frozen=True)
class _TagFit:
    coef: FloatArray | None  # None: a constant score, no weights
    intercept: float
    converged: bool = True


def _converging(fit: Callable[[], _T]) -> tuple[_T, bool]:
    """`fit()`'s result, and whether it ran without a ConvergenceWarning; other warnings
    are passed on as they came."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit()
    converged = True
    for warning in caught:
        if issubclass(warning.category, ConvergenceWarning):
            converged = False
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return result, converged


def _fit_logreg(
    X: sp.csr_matrix, y: npt.NDArray[Any], params: ClassifierParams
) -> tuple[FloatArray, float]:
    # On sparse text, liblinear's dual coordinate descent was 4-30 times faster than its
    # primal Newton method, whether videos or features were the more numerous.
    dual = params.solver == "liblinear"
    model = LogisticRegression(
        C=params.C,
        class_weight=params.class_weight,
        solver=params.solver,
        dual=dual,
        max_iter=params.max_iter,
        random_state=params.seed,
    )
    model.fit(X, y)
    return model.coef_[0], float(model.intercept_[0])


def _fit_calibrated_svm(
    X: sp.csr_matrix, y: npt.NDArray[Any], params: ClassifierParams
) -> tuple[FloatArray, float]:
    svm = LinearSVC(
        C=params.C,
        class_weight=params.class_weight,
        max_iter=max(params.max_iter, 1000),
        random_state=params.seed,
    )
    folds = min(_CALIBRATION_FOLDS, int(y.sum()), int(len(y) - y.sum()))
    if folds < 2:
        # Too few examples to calibrate: the margin itself serves as the logit.
        svm.fit(X, y)
        return svm.coef_[0], float(svm.intercept_[0])
    calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=folds, ensemble=False)
    calibrated.fit(X, y)
    fitted = calibrated.calibrated_classifiers_[0]
    estimator, sigmoid = fitted.estimator, fitted.calibrators[0]
    # Platt scaling: p = 1 / (1 + exp(a * margin + b)), margin = x.w + c.
    a, b = float(sigmoid.a_), float(sigmoid.b_)
    return -a * estimator.coef_[0], -(a * float(estimator.intercept_[0]) + b)


def _fit_tag(X: sp.csr_matrix, y: npt.NDArray[Any], params: ClassifierParams) -> _TagFit:
    positives = int(y.sum())
    if positives == 0:
        return _TagFit(None, -_CONSTANT_LOGIT)
    if positives == len(y):
        return _TagFit(None, _CONSTANT_LOGIT)
    fit = _fit_calibrated_svm if params.classifier == "linear_svm" else _fit_logreg
    (coef, intercept), converged = _converging(lambda: fit(X, y, params))
    return _TagFit(coef, intercept, converged)


def _fit_columns(X: sp.csr_matrix, Y: npt.NDArray[Any], params: ClassifierParams) -> list[_TagFit]:
    return [_fit_tag(X, np.ascontiguousarray(Y[:, j]), params) for j in range(Y.shape[1])]


def fit_one_vs_rest(
    X: sp.csr_matrix, Y: npt.NDArray[Any], params: ClassifierParams, *, n_jobs: int = 1
) -> LinearWeights:
    """One binary classifier per column of Y, up to `n_jobs` of them fitted at once; the
    weights are the same whatever `n_jobs` is."""
    X = sp.csr_matrix(X, dtype=np.float64)
    X.sum_duplicates()  # canonical once here, so no fit rearranges it in place
    n_columns = Y.shape[1]
    workers = max(1, min(n_jobs, n_columns))
    if workers == 1:
        fitted = _fit_columns(X, Y, params)
    else:
        # Processes, not threads: liblinear draws the order of its coordinate steps from
        # one random generator per process, which each fit reseeds, so fits on threads of
        # one process take draws from each other and their weights depend on scheduling.
        # In a process of its own, a fit draws exactly what it draws when fitted alone.
        chunks = [list(range(n_columns))[i::workers] for i in range(workers)]
        parts = Parallel(n_jobs=workers, backend="loky")(
            delayed(_fit_columns)(X, Y[:, chunk], params) for chunk in chunks
        )
        by_column = {
            j: fit
            for chunk, part in zip(chunks, parts, strict=True)
            for j, fit in zip(chunk, part, strict=True)
        }
        fitted = [by_column[j] for j in range(n_columns)]
    coef = np.zeros((X.shape[1], n_columns), dtype=np.float32)
    intercept = np.zeros(n_columns)
    for j, fit in enumerate(fitted):
        if fit.coef is not None:
            coef[:, j] = fit.coef
        intercept[j] = fit.intercept
    unconverged = tuple(j for j, fit in enumerate(fitted) if not fit.converged)
    return LinearWeights(coef, intercept, "sigmoid", len(unconverged), unconverged)


def fit_multinomial(
    X: sp.csr_matrix, y: npt.NDArray[np.intp], n_classes: int, params: ClassifierParams
) -> LinearWeights:
    """A multinomial logistic regression (cross-entropy over all classes); classes absent
    from `y` get a constant, very low score."""
    coef = np.zeros((X.shape[1], n_classes), dtype=np.float32)
    intercept = np.full(n_classes, -4 * _CONSTANT_LOGIT)
    present = np.unique(y)
    if present.size == 1:
        intercept[present[0]] = 0.0
        return LinearWeights(coef, intercept, "softmax")
    model = LogisticRegression(
        C=params.C,
        class_weight=params.class_weight,
        # newton-cg needs far fewer passes than lbfgs over many classes of sparse text.
        solver="newton-cg",
        max_iter=params.max_iter,
        random_state=params.seed,
    )
    _, converged = _converging(lambda: model.fit(X, y))
    if present.size == 2:
        # A two-class problem is fitted as one logit for the second class.
        coef[:, present[1]] = model.coef_[0]
        intercept[present[0]] = 0.0
        intercept[present[1]] = model.intercept_[0]
    else:
        coef[:, present] = model.coef_.T
        intercept[present] = model.intercept_
    if converged:
        return LinearWeights(coef, intercept, "softmax")
    return LinearWeights(coef, intercept, "softmax", 1, tuple(int(c) for c in present))
