"""Fitting the linear classifiers and reducing each to weights of one linear layer."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

__all__ = ["LinearWeights", "fit_multinomial", "fit_one_vs_rest"]

# A tag that is always absent (or always present) in the training data gets a constant
# score this far from the middle on the logit scale (probability about 0.0003 or 0.9997).
_CONSTANT_LOGIT = 8.0
_CALIBRATION_FOLDS = 3


@dataclass
class LinearWeights:
    coef: npt.NDArray[np.float32]  # features x tags
    intercept: npt.NDArray[np.float64]
    link: Literal["sigmoid", "softmax"]


def _fit_logreg(
    X: sp.csr_matrix, y: npt.NDArray[Any], params: dict[str, Any]
) -> tuple[npt.NDArray[np.float64], float]:
    # On sparse text, liblinear's dual coordinate descent was 4-30 times faster than its
    # primal Newton method, whether videos or features were the more numerous.
    dual = params["solver"] == "liblinear"
    model = LogisticRegression(
        C=params["C"],
        class_weight=params["class_weight"],
        solver=params["solver"],
        dual=dual,
        max_iter=params["max_iter"],
        random_state=params["seed"],
    )
    model.fit(X, y)
    return model.coef_[0], float(model.intercept_[0])


def _fit_calibrated_svm(
    X: sp.csr_matrix, y: npt.NDArray[Any], params: dict[str, Any]
) -> tuple[npt.NDArray[np.float64], float]:
    svm = LinearSVC(
        C=params["C"],
        class_weight=params["class_weight"],
        max_iter=max(params["max_iter"], 1000),
        random_state=params["seed"],
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


def _fit_tag(
    X: sp.csr_matrix, y: npt.NDArray[Any], params: dict[str, Any]
) -> tuple[npt.NDArray[np.float64] | None, float]:
    positives = int(y.sum())
    if positives == 0:
        return None, -_CONSTANT_LOGIT
    if positives == len(y):
        return None, _CONSTANT_LOGIT
    if params["classifier"] == "linear_svm":
        return _fit_calibrated_svm(X, y, params)
    return _fit_logreg(X, y, params)


def _fit_chunk(
    X: sp.csr_matrix, Y: npt.NDArray[Any], columns: list[int], params: dict[str, Any]
) -> list[tuple[npt.NDArray[np.float64] | None, float]]:
    return [_fit_tag(X, np.ascontiguousarray(Y[:, j]), params) for j in columns]


def fit_one_vs_rest(
    X: sp.csr_matrix, Y: npt.NDArray[Any], params: dict[str, Any], *, n_jobs: int = 1
) -> LinearWeights:
    """One binary classifier per column of Y; `params` holds classifier, C, class_weight,
    solver, max_iter and seed."""
    X = sp.csr_matrix(X, dtype=np.float64)
    X.sum_duplicates()  # canonical once here, so no fit rearranges it in place
    columns = range(Y.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if n_jobs <= 1:
            fitted = [_fit_tag(X, np.ascontiguousarray(Y[:, j]), params) for j in columns]
        else:
            # One copy of X per thread: fits sharing one matrix across threads corrupted it.
            chunks = [list(columns)[i::n_jobs] for i in range(n_jobs)]
            parts = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(_fit_chunk)(X.copy(), Y, chunk, params) for chunk in chunks
            )
            by_column = {
                j: fit
                for chunk, part in zip(chunks, parts, strict=True)
                for j, fit in zip(chunk, part, strict=True)
            }
            fitted = [by_column[j] for j in columns]
    coef = np.zeros((X.shape[1], Y.shape[1]), dtype=np.float32)
    intercept = np.zeros(Y.shape[1])
    for j, (weights, bias) in enumerate(fitted):
        if weights is not None:
            coef[:, j] = weights
        intercept[j] = bias
    return LinearWeights(coef, intercept, "sigmoid")


def fit_multinomial(
    X: sp.csr_matrix, y: npt.NDArray[np.intp], n_classes: int, params: dict[str, Any]
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
        C=params["C"],
        class_weight=params["class_weight"],
        # newton-cg needs far fewer passes than lbfgs over many classes of sparse text.
        solver="newton-cg",
        max_iter=params["max_iter"],
        random_state=params["seed"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    if present.size == 2:
        # A two-class problem is fitted as one logit for the second class.
        coef[:, present[1]] = model.coef_[0]
        intercept[present[0]] = 0.0
        intercept[present[1]] = model.intercept_[0]
    else:
        coef[:, present] = model.coef_.T
        intercept[present] = model.intercept_
    return LinearWeights(coef, intercept, "softmax")
