"""Metrics of tag predictions: F1, precision, recall, ROC-AUC, precision@k, hierarchical IoU.

Tag sets are compared with every tag expanded to all its levels ("Спорт: Футбол" counts
as "Спорт" and "Спорт: Футбол"), as in the Rutube 2024 video-tagging challenge, so a
prediction that finds the right branch but the wrong leaf earns partial credit. The label
space is every tag that occurs in the true or predicted sets or has a score column.

Conventions for degenerate cases, so that results are defined everywhere:
- hierarchical IoU of a video with no true and no predicted tags is 1 (nothing to find,
  nothing wrongly found); with one side empty it is 0;
- F1, precision and recall use 0 where a ratio has a zero denominator;
- ROC-AUC skips tags whose true column holds one class only, and reports how many;
- precision@k divides by k even when fewer than k tags have scores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from ml.taxonomy import ancestors

__all__ = [
    "DEFAULT_KS",
    "evaluate_predictions",
    "expand_tags",
    "hierarchical_iou",
    "precision_at_k",
    "summarize_folds",
]

DEFAULT_KS = (1, 3, 5)
Scores = npt.NDArray[np.floating[Any]]


def expand_tags(tags: Iterable[str]) -> set[str]:
    """The tags with all their ancestors."""
    return {level for tag in tags for level in ancestors(tag)}


def _video_iou(true: set[str], predicted: set[str]) -> float:
    union = true | predicted
    if not union:
        return 1.0
    return len(true & predicted) / len(union)


def hierarchical_iou(true: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]]) -> float:
    """Mean over videos of |T ∩ P| / |T ∪ P| with T and P expanded to all levels."""
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} true tag sets but {len(predicted)} predicted ones")
    if not true:
        return float("nan")
    values = [
        _video_iou(expand_tags(t), expand_tags(p)) for t, p in zip(true, predicted, strict=True)
    ]
    return float(np.mean(values))


def _top_k(scores: Scores, k: int) -> npt.NDArray[np.intp]:
    # A stable sort keeps ties in column order, so results do not depend on the platform.
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def precision_at_k(
    true: Sequence[Iterable[str]],
    scores: Scores,
    score_tags: Sequence[str],
    k: int,
    *,
    expand: bool = True,
) -> float:
    """Mean over videos of (true tags among the k best-scored) / k."""
    if k < 1:
        raise ValueError("k must be at least 1")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (len(true), len(score_tags)):
        raise ValueError(
            f"scores have shape {scores.shape}, expected {(len(true), len(score_tags))}"
        )
    if not true:
        return float("nan")
    top = _top_k(scores, k)
    hits = [
        sum(score_tags[j] in truth for j in row)
        for row, truth in zip(top, _sets(true, expand), strict=True)
    ]
    return float(np.mean(hits) / k)


def _sets(tag_lists: Sequence[Iterable[str]], expand: bool) -> list[set[str]]:
    return [expand_tags(tags) if expand else set(tags) for tags in tag_lists]


def _indicator(sets: Sequence[set[str]], index: dict[str, int]) -> npt.NDArray[np.int8]:
    matrix = np.zeros((len(sets), len(index)), dtype=np.int8)
    for row, tags in enumerate(sets):
        for tag in tags:
            matrix[row, index[tag]] = 1
    return matrix


def _auc_figures(
    y_true: npt.NDArray[np.int8], scores: Scores, score_tags: Sequence[str]
) -> tuple[dict[str, Any], dict[str, float]]:
    per_tag: dict[str, float] = {}
    skipped = 0
    for j, tag in enumerate(score_tags):
        column = y_true[:, j]
        if column.min() == column.max():
            skipped += 1
            continue
        per_tag[tag] = float(roc_auc_score(column, scores[:, j]))
    flat = y_true.ravel()
    micro = float(roc_auc_score(flat, scores.ravel())) if flat.min() != flat.max() else float("nan")
    summary = {
        "roc_auc_micro": micro,
        "roc_auc_macro": float(np.mean(list(per_tag.values()))) if per_tag else float("nan"),
        "roc_auc_tags_scored": len(per_tag),
        "roc_auc_tags_skipped": skipped,
    }
    return summary, per_tag


def evaluate_predictions(
    true: Sequence[Iterable[str]],
    predicted: Sequence[Iterable[str]],
    *,
    scores: Scores | None = None,
    score_tags: Sequence[str] | None = None,
    ks: Sequence[int] = DEFAULT_KS,
    expand: bool = True,
    per_tag: bool = True,
) -> dict[str, Any]:
    """All figures of one set of predictions, as a JSON-ready dict.

    `scores` (videos x `score_tags`) feed ROC-AUC and precision@k; without them those
    figures are left out. With `expand`, true and predicted sets are expanded to all
    levels before F1, precision and recall are counted (hierarchical IoU always is).
    """
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} true tag sets but {len(predicted)} predicted ones")
    true_sets = _sets(true, expand)
    predicted_sets = _sets(predicted, expand)
    labels = sorted(set().union(*true_sets, *predicted_sets, score_tags or []))
    index = {tag: j for j, tag in enumerate(labels)}
    y_true = _indicator(true_sets, index)
    y_pred = _indicator(predicted_sets, index)
    result: dict[str, Any] = {
        "videos": len(true),
        "tags": len(labels),
        "hierarchical_iou": hierarchical_iou(true, predicted),
        "mean_predicted_tags": float(np.mean([len(s) for s in predicted_sets])) if true else 0.0,
    }
    for average in ("micro", "macro", "samples"):
        for name, function in (("f1", f1_score), ("precision", precision_score)):
            result[f"{name}_{average}"] = float(
                function(y_true, y_pred, average=average, zero_division=0)
            )
        result[f"recall_{average}"] = float(
            recall_score(y_true, y_pred, average=average, zero_division=0)
        )
    auc_per_tag: dict[str, float] = {}
    if scores is not None:
        if score_tags is None:
            raise ValueError("scores need score_tags naming their columns")
        score_matrix = np.asarray(scores, dtype=np.float64)
        for k in ks:
            result[f"precision_at_{k}"] = precision_at_k(
                true_sets, score_matrix, score_tags, k, expand=False
            )
        scored_truth = y_true[:, [index[tag] for tag in score_tags]]
        auc_summary, auc_per_tag = _auc_figures(scored_truth, score_matrix, score_tags)
        result.update(auc_summary)
    if per_tag:
        result["per_tag"] = _per_tag(labels, y_true, y_pred, auc_per_tag)
    return result


def _per_tag(
    labels: Sequence[str],
    y_true: npt.NDArray[np.int8],
    y_pred: npt.NDArray[np.int8],
    auc: dict[str, float],
) -> dict[str, dict[str, float | int | None]]:
    support = y_true.sum(axis=0)
    precision = precision_score(y_true, y_pred, average=None, zero_division=0)
    recall = recall_score(y_true, y_pred, average=None, zero_division=0)
    f1 = f1_score(y_true, y_pred, average=None, zero_division=0)
    return {
        tag: {
            "support": int(support[j]),
            "predicted": int(y_pred[:, j].sum()),
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
            "roc_auc": auc.get(tag),
        }
        for j, tag in enumerate(labels)
    }


def summarize_folds(folds: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Mean and standard deviation over folds of every number the folds share."""
    if not folds:
        return {}
    names = [
        name
        for name, value in folds[0].items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    summary = {}
    for name in names:
        values = np.array([fold[name] for fold in folds if name in fold], dtype=np.float64)
        summary[name] = {
            "mean": float(np.nanmean(values)) if not np.isnan(values).all() else float("nan"),
            "std": float(np.nanstd(values)) if not np.isnan(values).all() else float("nan"),
        }
    return summary
