"""The plain baseline the model must beat: TF-IDF of the raw text and logistic regression.

Scikit-learn's defaults throughout: word unigrams of title and description, one-vs-rest
logistic regression (C=1, no class weights), the tags exactly as given (no parents added),
a tag predicted when its probability reaches 0.5, and the most probable tag when none
does (so that the baseline is a fair one, not one that predicts nothing for rare tags).
Single-label: a multinomial logistic regression and the most probable tag. Fits that stop
at the default iteration limit are counted in `convergence_warnings`, as they bear on the
baseline's figures.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from ml.dataset import Example

__all__ = ["BaselineModel"]


def _text(example: Example) -> str:
    return " ".join(
        part for part in (example.title, example.description, example.transcript) if part
    )


class BaselineModel:
    def __init__(
        self, *, multi_label: bool = True, threshold: float = 0.5, fallback_top1: bool = True
    ) -> None:
        self.multi_label = multi_label
        self.threshold = threshold
        self.fallback_top1 = fallback_top1
        self.vectorizer = TfidfVectorizer()
        self.tags: list[str] = []
        self.classifier: Any = None
        self.convergence_warnings = 0

    def fit(self, examples: Sequence[Example]) -> BaselineModel:
        labelled = [example for example in examples if example.tags]
        X = self.vectorizer.fit_transform([_text(example) for example in labelled])
        with warnings.catch_warnings(record=True) as caught:
            # The defaults are the point of a baseline, so the warnings they bring (a tag
            # in every video, say) are expected; only convergence is counted.
            warnings.simplefilter("ignore")
            warnings.simplefilter("always", ConvergenceWarning)
            if self.multi_label:
                binarizer = MultiLabelBinarizer()
                Y = binarizer.fit_transform([example.tags for example in labelled])
                self.tags = [str(tag) for tag in binarizer.classes_]
                self.classifier = OneVsRestClassifier(LogisticRegression()).fit(X, Y)
            else:
                y = [example.tags[0] for example in labelled]
                self.classifier = LogisticRegression().fit(X, y)
                self.tags = [str(tag) for tag in self.classifier.classes_]
        self.convergence_warnings = sum(
            issubclass(warning.category, ConvergenceWarning) for warning in caught
        )
        return self

    def predict_scores(self, examples: Sequence[Example]) -> npt.NDArray[np.float64]:
        X = self.vectorizer.transform([_text(example) for example in examples])
        return np.asarray(self.classifier.predict_proba(X), dtype=np.float64)

    def predict(self, examples: Sequence[Example]) -> list[list[tuple[str, float]]]:
        scores = self.predict_scores(examples)
        result = []
        for row in scores:
            if self.multi_label:
                ranked = np.argsort(-row, kind="stable")
                picked = [j for j in ranked if row[j] >= self.threshold]
                if not picked and self.fallback_top1 and len(ranked):
                    picked = [int(ranked[0])]
            else:
                picked = [int(row.argmax())]
            result.append([(self.tags[j], float(row[j])) for j in picked])
        return result
