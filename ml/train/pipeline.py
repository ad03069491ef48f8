"""Training: labels, held-out split, search scored by cross-validation, thresholds, the model.

1. Tags are spelled as in the taxonomy (when one is given) and, with the hierarchy on,
   every tag set gets its parents; tags with too few videos are left out.
2. An iterative-stratified split keeps `test_size` of the videos for held-out figures.
3. On the rest, `cv_folds` stratified folds score every candidate of the search on
   out-of-fold predictions; the per-tag thresholds are tuned on the winner's out-of-fold
   scores, and its per-fold figures (thresholds tuned on the other folds) are reported.
4. The winner is fitted on all training videos and evaluated on the held-out ones.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ml.dataset import Example
from ml.embed import EmbeddingStore, MemoryEmbeddingCache
from ml.evaluate import evaluate_predictions, hierarchical_iou, precision_at_k, summarize_folds
from ml.features import FeatureBuilder, FeatureConfig
from ml.text import protected_words
from ml.train.calibration import expected_calibration_error
from ml.train.classifiers import LinearWeights, fit_multinomial, fit_one_vs_rest
from ml.train.config import TrainConfig
from ml.train.data import TrainingData, TrainingError, prepare
from ml.train.deciding import CalibratedDecision, Decider, Thresholding, calibrate_and_choose, tune
from ml.train.model import TagModel
from ml.train.params import ClassifierParams
from ml.train.search import Candidate, candidates
from ml.train.splits import stratified_folds, stratified_holdout
from ml.train.thresholds import DEFAULT_THRESHOLD

__all__ = ["Progress", "TrainResult", "TrainingError", "train"]

Progress = Callable[[str, float], None]
FloatArray = npt.NDArray[np.float64]
# Fewer videos than this are not split for held-out figures.
_MIN_VIDEOS_FOR_HOLDOUT = 10


@dataclass
class TrainResult:
    model: TagModel
    metrics: dict[str, Any]
    params: dict[str, Any]
    # Video ids of each part: "train", "holdout" (empty without a held-out split) and
    # "unused" (videos without a learnable tag).
    split: dict[str, list[str]] = field(default_factory=dict)


class _Stages:
    """Maps each stage's own 0..1 progress onto its share of the whole run."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress

    def report(self, message: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(message, min(max(fraction, 0.0), 1.0))

    def within(self, start: float, end: float, label: str) -> Progress:
        return lambda message, f: self.report(f"{label}: {message}", start + (end - start) * f)


@dataclass
class _Convergence:
    """The fits of one training run that stopped at their iteration limit before
    converging, and how often each tag's fit did."""

    fits: int = 0
    tags: Counter[str] = field(default_factory=Counter)

    def metrics(self) -> dict[str, Any]:
        return {
            "convergence_warnings": self.fits,
            "convergence_warning_tags": dict(self.tags.most_common()),
        }


def _fit_weights(
    X: sp.csr_matrix,
    data: TrainingData,
    params: ClassifierParams,
    n_jobs: int,
    convergence: _Convergence,
) -> LinearWeights:
    if data.y is not None:
        weights = fit_multinomial(X, data.y, len(data.labels.tags), params)
    else:
        weights = fit_one_vs_rest(X, data.Y, params, n_jobs=n_jobs)
    convergence.fits += weights.unconverged_fits
    convergence.tags.update(data.labels.tags[j] for j in weights.unconverged)
    return weights


def _scores(X: sp.csr_matrix, weights: LinearWeights) -> FloatArray:
    logits = np.asarray(X.astype(np.float32) @ weights.coef, dtype=np.float64) + weights.intercept
    if weights.link == "softmax":
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-logits))


def _feature_config(config: TrainConfig) -> FeatureConfig:
    return FeatureConfig(
        text_mode=config.text_mode,
        title_repeat=config.title_repeat,
        word_max_features=config.word_max_features,
        char_max_features=config.char_max_features,
        use_char=config.use_char_ngrams,
        embedding_model=config.embedding_model,
        weights=dict(config.feature_weights),
    )


@dataclass
class _SearchOutcome:
    best: Candidate
    thresholds: FloatArray
    threshold_scale: float
    table: list[dict[str, Any]]
    cv: dict[str, Any] | None
    calibrated: CalibratedDecision | None = None
    learning_curve: list[dict[str, Any]] | None = None


@dataclass
class _FoldBlocks:
    """One fold's feature blocks, kept for the learning curve."""

    train_rows: npt.NDArray[np.intp]
    valid_rows: npt.NDArray[np.intp]
    builder: FeatureBuilder
    blocks: dict[str, sp.csr_matrix]
    valid_blocks: dict[str, sp.csr_matrix]


def _search(
    data: TrainingData,
    config: TrainConfig,
    protected: frozenset[str],
    cache: EmbeddingStore,
    stages: _Stages,
    convergence: _Convergence,
) -> _SearchOutcome:
    first = _default_candidate(config)
    if config.cv_folds < 2 or len(data.examples) < 2 * config.cv_folds:
        stages.report("too few videos for cross-validation; thresholds left at 0.5", 0.7)
        default = np.full(len(data.labels.tags), DEFAULT_THRESHOLD)
        return _SearchOutcome(first, default, 1.0, [], None)
    folds = stratified_folds(data.Y, config.cv_folds, config.seed)
    tried: list[Candidate] = []
    oof: list[FloatArray] = []
    kept: list[_FoldBlocks] = []
    for f, (train_rows, valid_rows) in enumerate(folds):
        start = 0.05 + 0.65 * f / len(folds)
        step = 0.65 / len(folds)
        builder = FeatureBuilder(
            _feature_config(config), protected=protected, embedding_cache=cache
        )
        part, held = data.subset(train_rows), data.subset(valid_rows)
        blocks = builder.fit_transform_blocks(
            part.examples, stages.within(start, start + step / 3, f"fold {f + 1} features")
        )
        valid_blocks = builder.transform_blocks(held.examples)
        if config.learning_curve_points and len(data.examples) <= config.learning_curve_max_videos:
            kept.append(_FoldBlocks(train_rows, valid_rows, builder, blocks, valid_blocks))
        if not tried:
            tried = candidates(config, set(blocks))
            oof = [np.zeros(data.Y.shape) for _ in tried]
        for c, candidate in enumerate(tried):
            stages.report(
                f"fold {f + 1}/{len(folds)}, candidate {c + 1}/{len(tried)}",
                start + step / 3 + step * 2 / 3 * c / len(tried),
            )
            weights = _fit_weights(
                builder.combine(blocks, candidate.weights),
                part,
                candidate.params,
                config.n_jobs,
                convergence,
            )
            oof[c][valid_rows] = _scores(builder.combine(valid_blocks, candidate.weights), weights)
    decider = Decider(data, config)
    table = []
    tuned = []
    for candidate, scores in zip(tried, oof, strict=True):
        tuning = tune(data, scores, folds, config, decider)
        tuned.append(tuning)
        table.append(
            {"params": candidate.as_dict(), "score": tuning.score, "threshold_scale": tuning.scale}
        )
    best = max(range(len(tried)), key=lambda i: (table[i]["score"], -i))
    stages.report(f"best of {len(tried)}: {tried[best].describe()}", 0.7)
    calibrated = None
    if config.calibrate:
        calibrated = calibrate_and_choose(data, oof[best], folds, tuned[best], config, decider)
    curve = None
    if kept:
        stages.report("learning curve", 0.7)
        curve = _learning_curve(data, config, tried[best], kept, decider, convergence)
    return _SearchOutcome(
        tried[best],
        tuned[best].thresholds,
        tuned[best].scale,
        table,
        _cross_validation_figures(data, oof[best], tuned[best], decider, calibrated),
        calibrated,
        curve,
    )


def _learning_curve(
    data: TrainingData,
    config: TrainConfig,
    candidate: Candidate,
    kept: list[_FoldBlocks],
    decider: Decider,
    convergence: _Convergence,
) -> list[dict[str, Any]]:
    """Quality against the number of labeled videos: each fold's classifier fitted again on
    a share of its training videos and scored on the fold's held-out ones (the fold's
    features reused), so an admin can see whether more labels still help."""
    points = config.learning_curve_points
    shares = [k / (points + 1) for k in range(1, points + 1)] + [1.0]
    rng = np.random.default_rng(config.seed)
    rows = []
    for share in shares:
        ious, precisions, sizes = [], [], []
        for fold in kept:
            n = max(2, round(share * len(fold.train_rows)))
            picked = np.sort(rng.permutation(len(fold.train_rows))[:n])
            part = data.subset(fold.train_rows[picked])
            held = data.subset(fold.valid_rows)
            X = fold.builder.combine(fold.blocks, candidate.weights)[picked]
            if part.y is not None and len(set(part.y.tolist())) < 2:
                continue
            weights = _fit_weights(X, part, candidate.params, config.n_jobs, convergence)
            scores = _scores(fold.builder.combine(fold.valid_blocks, candidate.weights), weights)
            # The best-scored tag (with its parents): thresholds tuned for the full-size
            # models would not suit the smaller ones and would bend the curve.
            top = [[decider.tags[int(j)]] for j in scores.argmax(axis=1)]
            ious.append(hierarchical_iou(held.truth, top))
            precisions.append(precision_at_k(held.truth, decider.shown(scores), decider.tags, 1))
            sizes.append(n)
        if ious:
            rows.append(
                {
                    "share": share,
                    "videos": round(float(np.mean(sizes))),
                    "hierarchical_iou": {"mean": float(np.mean(ious)), "std": float(np.std(ious))},
                    "precision_at_1": {
                        "mean": float(np.mean(precisions)),
                        "std": float(np.std(precisions)),
                    },
                }
            )
    return rows


def _default_candidate(config: TrainConfig) -> Candidate:
    return Candidate(config.classifier_params(), dict(config.feature_weights))


def _cross_validation_figures(
    data: TrainingData,
    oof: FloatArray,
    tuning: Thresholding,
    decider: Decider,
    calibrated: CalibratedDecision | None,
) -> dict[str, Any]:
    """Per-fold figures, each fold decided as the model will (thresholds tuned, or
    calibration maps fitted, on the other folds)."""
    if (
        calibrated is not None
        and calibrated.expected_sets is not None
        and (calibrated.rule == "expected_iou")
    ):
        sets = calibrated.expected_sets
        per_fold = [
            evaluate_predictions(
                [data.truth[i] for i in valid],
                [sets[i] for i in valid],
                scores=calibrated.crossed[valid],
                score_tags=decider.tags,
                per_tag=False,
            )
            for valid, _ in tuning.crossed
        ]
    else:
        per_fold = [
            decider.evaluate(data.subset(valid), oof[valid], thresholds)
            for valid, thresholds in tuning.crossed
        ]
    if calibrated is not None:
        for (valid, _), figures in zip(tuning.crossed, per_fold, strict=True):
            figures["calibration_error"] = expected_calibration_error(
                data.Y[valid], calibrated.crossed[valid]
            )
    return {
        "folds": len(per_fold),
        "summary": summarize_folds(per_fold),
        "per_fold": per_fold,
        "threshold_scale": tuning.scale,
    }


def _fit_model(
    data: TrainingData,
    config: TrainConfig,
    candidate: Candidate,
    thresholds: FloatArray,
    protected: frozenset[str],
    cache: EmbeddingStore,
    progress: Progress,
    convergence: _Convergence,
    calibrated: CalibratedDecision | None = None,
) -> TagModel:
    feature_config = _feature_config(config)
    feature_config.weights = {**feature_config.weights, **candidate.weights}
    builder = FeatureBuilder(feature_config, protected=protected, embedding_cache=cache)
    blocks = builder.fit_transform_blocks(data.examples, progress)
    weights = _fit_weights(
        builder.combine(blocks), data, candidate.params, config.n_jobs, convergence
    )
    return TagModel(
        features=builder,
        tags=data.labels.tags,
        coef=weights.coef,
        intercept=weights.intercept,
        link=weights.link,
        thresholds=thresholds,
        hierarchy=data.labels.hierarchy,
        min_predicted_tags=config.min_predicted_tags,
        config=config.as_dict(),
        params=Candidate(candidate.params, dict(feature_config.weights)).as_dict(),
        calibration=calibrated.calibration if calibrated is not None else None,
        decision=calibrated.rule if calibrated is not None else "thresholds",
    )


def train(
    examples: Sequence[Example],
    *,
    taxonomy_paths: Sequence[str] | None = None,
    config: TrainConfig | None = None,
    progress: Progress | None = None,
    embedding_cache: EmbeddingStore | None = None,
) -> TrainResult:
    """Trains, evaluates and returns a tag model; raises TrainingError for unusable data."""
    config = config or TrainConfig()
    stages = _Stages(progress)
    started = time.perf_counter()
    stages.report("reading labels", 0.0)
    data, info, unused = prepare(examples, taxonomy_paths, config)
    cache = embedding_cache if embedding_cache is not None else MemoryEmbeddingCache()
    protected = protected_words(taxonomy_paths if taxonomy_paths is not None else data.labels.tags)
    holdout: TrainingData | None = None
    training = data
    if config.test_size > 0 and len(data.examples) >= _MIN_VIDEOS_FOR_HOLDOUT:
        train_rows, test_rows = stratified_holdout(data.Y, config.test_size, config.seed)
        training, holdout = data.subset(train_rows), data.subset(test_rows)
    convergence = _Convergence()
    outcome = _search(training, config, protected, cache, stages, convergence)
    model = _fit_model(
        training,
        config,
        outcome.best,
        outcome.thresholds,
        protected,
        cache,
        stages.within(0.7, 0.85, "final model"),
        convergence,
        outcome.calibrated,
    )
    metrics: dict[str, Any] = {
        "data": info,
        "search": {"kind": config.search, "tried": outcome.table},
        "threshold_scale": outcome.threshold_scale,
    }
    if outcome.cv is not None:
        metrics["cv"] = outcome.cv
    if outcome.calibrated is not None:
        metrics["decision"] = {"rule": outcome.calibrated.rule, **outcome.calibrated.figures}
    if outcome.learning_curve is not None:
        metrics["learning_curve"] = outcome.learning_curve
    if holdout is not None:
        stages.report("held-out evaluation", 0.87)
        metrics["holdout"] = model.evaluate(holdout.examples, per_tag=True)
        if model.calibration is not None:
            raw = model.raw_scores(holdout.examples)
            uncalibrated = Decider(holdout, config).shown(raw)
            calibrated = model.probabilities(raw)
            metrics["holdout"]["calibration_error_before"] = expected_calibration_error(
                holdout.Y, uncalibrated
            )
            metrics["holdout"]["calibration_error"] = expected_calibration_error(
                holdout.Y, calibrated
            )
        # The truth includes tags the model never learned (too rare), so misses count.
        if config.refit_full:
            model = _fit_model(
                data,
                config,
                outcome.best,
                outcome.thresholds,
                protected,
                cache,
                stages.within(0.9, 1.0, "refit on all videos"),
                convergence,
                outcome.calibrated,
            )
    metrics["features"] = model.features.describe()
    metrics["embedding_skipped_reason"] = model.features.embedding_skipped_reason
    metrics.update(convergence.metrics())
    if convergence.fits:
        warnings.warn(
            f"{convergence.fits} classifier fit(s) for {len(convergence.tags)} tag(s) stopped "
            f"at their iteration limit (max_iter={config.max_iter}) before converging; "
            "their weights are less reliable. Raise max_iter, or lower C.",
            ConvergenceWarning,
            stacklevel=2,
        )
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    stages.report("done", 1.0)
    trained_on = data if config.refit_full or holdout is None else training
    split = {
        "train": [e.video_id for e in trained_on.examples],
        "holdout": [e.video_id for e in holdout.examples] if holdout is not None else [],
        "unused": unused,
    }
    return TrainResult(model=model, metrics=metrics, params=model.params, split=split)
