"""K-fold cross-validation of the whole training pipeline, next to the plain baseline.

Folds come from iterative stratification over the tag sets (parents added), and the
model and the baseline are trained and scored on exactly the same folds. Each fold
trains the full pipeline on the other folds (its search and threshold tuning included),
so no figure is computed on videos that any part of the training saw.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ml.dataset import Example, canonical_tags
from ml.embed import EmbeddingStore, MemoryEmbeddingCache
from ml.evaluate import evaluate_predictions, expand_tags, summarize_folds
from ml.train.baseline import BaselineModel
from ml.train.calibration import expected_calibration_error, top_tag_calibration_error
from ml.train.config import TrainConfig
from ml.train.pipeline import Progress, TrainingError, train
from ml.train.splits import stratified_folds

__all__ = ["HEADLINE_METRICS", "comparison_table", "cross_validate"]

HEADLINE_METRICS = (
    "hierarchical_iou",
    "f1_micro",
    "f1_macro",
    "f1_samples",
    "precision_micro",
    "recall_micro",
    "roc_auc_micro",
    "roc_auc_macro",
    "precision_at_1",
    "precision_at_3",
    "precision_at_5",
    "calibration_error",
    "top_tag_calibration_error",
    "mean_predicted_tags",
)


def _calibration_errors(
    truth: list[tuple[str, ...]], scores: npt.NDArray[np.float64], tags: Sequence[str]
) -> dict[str, float]:
    """Calibration errors of the scores against the truth (every level of each true tag)."""
    index = {tag: j for j, tag in enumerate(tags)}
    Y = np.zeros(scores.shape, dtype=np.int8)
    for row, true_tags in enumerate(truth):
        for tag in expand_tags(true_tags):
            j = index.get(tag)
            if j is not None:
                Y[row, j] = 1
    return {
        "calibration_error": expected_calibration_error(Y, scores),
        "top_tag_calibration_error": top_tag_calibration_error(Y, scores),
    }


class _Scorer(Protocol):
    """What a fold scores: the trained model or the baseline."""

    @property
    def tags(self) -> Sequence[str]: ...

    def predict_scores(self, examples: Sequence[Example]) -> npt.NDArray[np.float64]: ...

    def predict(self, examples: Sequence[Example]) -> list[list[tuple[str, float]]]: ...


class _Pool:
    """Out-of-fold predictions of all folds, for per-tag figures over every video."""

    def __init__(self) -> None:
        self.truth: list[tuple[str, ...]] = []
        self.predicted: list[list[str]] = []
        self.scores: list[dict[str, float]] = []

    def add(
        self,
        truth: list[tuple[str, ...]],
        predicted: list[list[str]],
        scores: npt.NDArray[np.float64],
        tags: Sequence[str],
    ) -> None:
        self.truth += truth
        self.predicted += predicted
        self.scores += [dict(zip(tags, row.tolist(), strict=True)) for row in scores]

    def score_fold(
        self, scorer: _Scorer, test_part: Sequence[Example], truth: list[tuple[str, ...]]
    ) -> dict[str, Any]:
        """The figures of ``scorer`` on one fold's held-out videos, whose predictions are
        also kept for the pooled per-tag figures."""
        scores = scorer.predict_scores(test_part)
        predicted = [[tag for tag, _ in row] for row in scorer.predict(test_part)]
        figures = evaluate_predictions(
            truth, predicted, scores=scores, score_tags=scorer.tags, per_tag=False
        )
        figures.update(_calibration_errors(truth, scores, scorer.tags))
        self.add(truth, predicted, scores, scorer.tags)
        return figures

    def figures(self) -> dict[str, Any]:
        tags = sorted({tag for row in self.scores for tag in row})
        matrix = np.array([[row.get(tag, 0.0) for tag in tags] for row in self.scores])
        return evaluate_predictions(self.truth, self.predicted, scores=matrix, score_tags=tags)


def _truth(examples: Sequence[Example], multi_label: bool) -> list[tuple[str, ...]]:
    return [example.tags if multi_label else example.tags[:1] for example in examples]


def cross_validate(
    examples: Sequence[Example],
    *,
    config: TrainConfig | None = None,
    folds: int = 5,
    baseline: bool = True,
    taxonomy_paths: Sequence[str] | None = None,
    progress: Progress | None = None,
    embedding_cache: EmbeddingStore | None = None,
) -> dict[str, Any]:
    """Figures of the pipeline (and of the baseline) over `folds` folds, as a JSON-ready dict."""
    config = config or TrainConfig()
    started = time.perf_counter()
    if taxonomy_paths is not None:
        examples, _ = canonical_tags(examples, taxonomy_paths)
    labelled = [example for example in examples if example.tags]
    if len(labelled) < folds:
        raise TrainingError(f"{len(labelled)} tagged videos cannot be split into {folds} folds")
    if folds < 2:
        raise TrainingError("cross-validation needs at least 2 folds")
    all_tags = sorted(set().union(*(expand_tags(e.tags) for e in labelled)))
    index = {tag: j for j, tag in enumerate(all_tags)}
    Y = np.zeros((len(labelled), len(all_tags)), dtype=np.int8)
    for row, example in enumerate(labelled):
        for tag in expand_tags(example.tags):
            Y[row, index[tag]] = 1
    parts = stratified_folds(Y, folds, config.seed)
    cache = embedding_cache if embedding_cache is not None else MemoryEmbeddingCache()
    fold_config = replace(config, test_size=0.0, refit_full=False, learning_curve_points=0)
    model_folds: list[dict[str, Any]] = []
    baseline_folds: list[dict[str, Any]] = []
    model_pool, baseline_pool = _Pool(), _Pool()
    skipped_reason: str | None = None
    for f, (train_rows, test_rows) in enumerate(parts):

        def fold_progress(message: str, fraction: float, f: int = f) -> None:
            if progress is not None:
                progress(f"fold {f + 1}/{folds}: {message}", (f + fraction) / folds)

        train_part = [labelled[i] for i in train_rows]
        test_part = [labelled[i] for i in test_rows]
        truth = _truth(test_part, config.multi_label)
        result = train(
            train_part,
            taxonomy_paths=taxonomy_paths,
            config=fold_config,
            progress=fold_progress,
            embedding_cache=cache,
        )
        model = result.model
        skipped_reason = model.features.embedding_skipped_reason
        figures = model_pool.score_fold(model, test_part, truth)
        figures["decision"] = model.decision
        figures["params"] = result.params
        figures["convergence_warnings"] = result.metrics["convergence_warnings"]
        model_folds.append(figures)
        if baseline:
            fold_progress("baseline", 0.99)
            plain = BaselineModel(multi_label=config.multi_label).fit(train_part)
            plain_figures = baseline_pool.score_fold(plain, test_part, truth)
            plain_figures["convergence_warnings"] = plain.convergence_warnings
            baseline_folds.append(plain_figures)
    report: dict[str, Any] = {
        "videos": len(labelled),
        "videos_without_tags": len(examples) - len(labelled),
        "folds": folds,
        "config": config.as_dict(),
        "embedding_skipped_reason": skipped_reason,
        "model": {
            "summary": summarize_folds(model_folds),
            "per_fold": model_folds,
            "per_tag": model_pool.figures()["per_tag"],
            "convergence_warnings": sum(f["convergence_warnings"] for f in model_folds),
        },
    }
    if baseline:
        report["baseline"] = {
            "summary": summarize_folds(baseline_folds),
            "per_fold": baseline_folds,
            "per_tag": baseline_pool.figures()["per_tag"],
            "convergence_warnings": sum(f["convergence_warnings"] for f in baseline_folds),
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report


def comparison_table(report: dict[str, Any]) -> str:
    """A Markdown table of the headline figures: mean ± std over folds, model vs baseline."""
    systems = [name for name in ("model", "baseline") if name in report]
    lines = [
        f"| metric ({report['folds']}-fold CV, {report['videos']} videos) | "
        + " | ".join(systems)
        + " |",
        "|---" * (len(systems) + 1) + "|",
    ]
    for metric in HEADLINE_METRICS:
        cells = []
        for system in systems:
            figure = report[system]["summary"].get(metric)
            cells.append(f"{figure['mean']:.3f} ± {figure['std']:.3f}" if figure else "–")
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
