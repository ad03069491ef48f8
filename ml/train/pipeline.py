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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from ml.dataset import Example, canonical_tags
from ml.embed import EmbeddingStore, MemoryEmbeddingCache
from ml.evaluate import evaluate_predictions, hierarchical_iou, summarize_folds
from ml.features import FeatureBuilder, FeatureConfig
from ml.text import protected_words
from ml.train.classifiers import LinearWeights, fit_multinomial, fit_one_vs_rest
from ml.train.config import TrainConfig
from ml.train.labels import Hierarchy, LabelSpace, build_label_space
from ml.train.model import TagModel, choose_tags
from ml.train.search import Candidate, candidates, describe_candidate
from ml.train.splits import Fold, stratified_folds, stratified_holdout
from ml.train.thresholds import DEFAULT_THRESHOLD, MAX_THRESHOLD, tune_thresholds

__all__ = ["Progress", "TrainResult", "TrainingError", "train"]

Progress = Callable[[str, float], None]
FloatArray = npt.NDArray[np.float64]
# Fewer videos than this are not split for held-out figures.
_MIN_VIDEOS_FOR_HOLDOUT = 10


class TrainingError(ValueError):
    """Data that no model can be trained on; the message says what is missing."""


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
class _Data:
    examples: list[Example]
    truth: list[tuple[str, ...]]
    labels: LabelSpace
    Y: npt.NDArray[np.int8]  # videos x tags indicator (single-label: one-hot)
    y: npt.NDArray[np.intp] | None  # single-label classes

    def subset(self, rows: npt.NDArray[np.intp]) -> _Data:
        return _Data(
            [self.examples[i] for i in rows],
            [self.truth[i] for i in rows],
            self.labels,
            self.Y[rows],
            self.y[rows] if self.y is not None else None,
        )


def _prepare(
    examples: Sequence[Example], taxonomy_paths: Sequence[str] | None, config: TrainConfig
) -> tuple[_Data, dict[str, Any], list[str]]:
    info: dict[str, Any] = {"videos_given": len(examples)}
    if taxonomy_paths is not None:
        examples, unknown = canonical_tags(examples, taxonomy_paths)
        info["tags_not_in_taxonomy"] = dict(unknown.most_common())
    labelled = [example for example in examples if example.tags]
    info["videos_without_tags"] = len(examples) - len(labelled)
    tag_lists = [example.tags for example in labelled]
    labels = build_label_space(
        tag_lists,
        multi_label=config.multi_label,
        hierarchy=config.hierarchy and config.multi_label,
        min_examples=config.min_tag_examples,
    )
    info["tags_dropped_as_rare"] = dict(sorted(labels.dropped.items()))
    needed = 1 if config.multi_label else 2
    if len(labels.tags) < needed:
        raise TrainingError(
            f"no model can be trained: {len(labelled)} tagged videos give "
            f"{len(labels.tags)} tag(s) with at least {config.min_tag_examples} videos each; "
            f"at least {needed} such tag(s) are needed"
        )
    unused: list[str] = [example.video_id for example in examples if not example.tags]
    if config.multi_label:
        Y = labels.indicator(tag_lists)
        data = _Data(labelled, [tuple(t) for t in tag_lists], labels, Y, None)
    else:
        y = labels.targets(tag_lists)
        keep = np.flatnonzero(y >= 0)
        unused += [labelled[i].video_id for i in np.flatnonzero(y < 0)]
        one_hot = np.zeros((len(keep), len(labels.tags)), dtype=np.int8)
        one_hot[np.arange(len(keep)), y[keep]] = 1
        data = _Data(
            [labelled[i] for i in keep],
            [(labelled[i].tags[0],) for i in keep],
            labels,
            one_hot,
            y[keep],
        )
    info["videos_used"] = len(data.examples)
    info["tags_learned"] = len(labels.tags)
    return data, info, unused


def _fit_weights(
    X: sp.csr_matrix, data: _Data, params: dict[str, Any], n_jobs: int
) -> LinearWeights:
    if data.y is not None:
        return fit_multinomial(X, data.y, len(data.labels.tags), params)
    return fit_one_vs_rest(X, data.Y, params, n_jobs=n_jobs)


def _scores(X: sp.csr_matrix, weights: LinearWeights) -> FloatArray:
    logits = np.asarray(X.astype(np.float32) @ weights.coef, dtype=np.float64) + weights.intercept
    if weights.link == "softmax":
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)
    return 1.0 / (1.0 + np.exp(-logits))


def _classifier_params(config: TrainConfig, candidate: Candidate) -> dict[str, Any]:
    return {
        "classifier": config.classifier,
        "C": candidate["C"],
        "class_weight": candidate["class_weight"],
        "solver": config.solver,
        "max_iter": config.max_iter,
        "seed": config.seed,
    }


class _Decider:
    """Turns scores into tag sets exactly as the finished model will."""

    def __init__(self, data: _Data, config: TrainConfig) -> None:
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
        self, data: _Data, scores: FloatArray, thresholds: FloatArray, config: TrainConfig
    ) -> float:
        return self.score_sets(
            data, self.tag_sets(scores, thresholds), scores, config.search_metric
        )

    def score_sets(
        self, data: _Data, predicted: list[list[str]], scores: FloatArray, metric: str
    ) -> float:
        """One figure; hierarchical IoU is computed directly, as it is needed most often."""
        if metric == "hierarchical_iou":
            return hierarchical_iou(data.truth, predicted)
        figures = evaluate_predictions(
            data.truth, predicted, scores=self.shown(scores), score_tags=self.tags, per_tag=False
        )
        return float(figures[metric])

    def evaluate(
        self, data: _Data, scores: FloatArray, thresholds: FloatArray, *, per_tag: bool = False
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
class _Thresholding:
    thresholds: FloatArray  # per tag, tuned on all out-of-fold scores, then scaled
    scale: float
    # The search metric over all videos, each fold decided with thresholds tuned on the
    # other folds: how the thresholds can be expected to do on new videos.
    score: float
    crossed: list[tuple[npt.NDArray[np.intp], FloatArray]]  # (fold rows, their thresholds)


def _tune(
    data: _Data, scores: FloatArray, folds: list[Fold], config: TrainConfig, decider: _Decider
) -> _Thresholding:
    """Per-tag thresholds for F1, and one multiplier for all of them chosen for the search
    metric (per-tag F1 ignores how the chosen tags add up per video). The multiplier is
    judged on thresholds tuned on other folds: in-sample, the per-tag optimum always wins."""
    if data.y is not None:
        zeros = np.zeros(len(data.labels.tags))
        crossed = [(valid, zeros) for _, valid in folds]
        return _Thresholding(zeros, 1.0, decider.score(data, scores, zeros, config), crossed)
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
    return _Thresholding(_scaled(per_tag, best_scale), best_scale, best_score, crossed)


def _scaled(thresholds: FloatArray, scale: float) -> FloatArray:
    return np.clip(thresholds * scale, 0.01, MAX_THRESHOLD)


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


def _search(
    data: _Data,
    config: TrainConfig,
    protected: frozenset[str],
    cache: EmbeddingStore,
    stages: _Stages,
) -> _SearchOutcome:
    first = _default_candidate(config)
    if config.cv_folds < 2 or len(data.examples) < 2 * config.cv_folds:
        stages.report("too few videos for cross-validation; thresholds left at 0.5", 0.7)
        default = np.full(len(data.labels.tags), DEFAULT_THRESHOLD)
        return _SearchOutcome(first, default, 1.0, [], None)
    folds = stratified_folds(data.Y, config.cv_folds, config.seed)
    tried: list[Candidate] = []
    oof: list[FloatArray] = []
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
        if not tried:
            tried = candidates(config, set(blocks))
            oof = [np.zeros(data.Y.shape) for _ in tried]
        for c, candidate in enumerate(tried):
            stages.report(
                f"fold {f + 1}/{len(folds)}, candidate {c + 1}/{len(tried)}",
                start + step / 3 + step * 2 / 3 * c / len(tried),
            )
            params = _classifier_params(config, candidate)
            weights = _fit_weights(
                builder.combine(blocks, candidate["weights"]), part, params, config.n_jobs
            )
            oof[c][valid_rows] = _scores(
                builder.combine(valid_blocks, candidate["weights"]), weights
            )
    decider = _Decider(data, config)
    table = []
    tuned = []
    for candidate, scores in zip(tried, oof, strict=True):
        tuning = _tune(data, scores, folds, config, decider)
        tuned.append(tuning)
        table.append({"params": candidate, "score": tuning.score, "threshold_scale": tuning.scale})
    best = max(range(len(tried)), key=lambda i: (table[i]["score"], -i))
    stages.report(f"best of {len(tried)}: {describe_candidate(tried[best])}", 0.7)
    return _SearchOutcome(
        tried[best],
        tuned[best].thresholds,
        tuned[best].scale,
        table,
        _cross_validation_figures(data, oof[best], tuned[best], decider),
    )


def _default_candidate(config: TrainConfig) -> Candidate:
    return {
        "C": config.C,
        "class_weight": config.class_weight,
        "weights": dict(config.feature_weights),
    }


def _cross_validation_figures(
    data: _Data, oof: FloatArray, tuning: _Thresholding, decider: _Decider
) -> dict[str, Any]:
    """Per-fold figures, each fold decided with thresholds tuned on the other folds."""
    per_fold = [
        decider.evaluate(data.subset(valid), oof[valid], thresholds)
        for valid, thresholds in tuning.crossed
    ]
    return {
        "folds": len(per_fold),
        "summary": summarize_folds(per_fold),
        "per_fold": per_fold,
        "threshold_scale": tuning.scale,
    }


def _fit_model(
    data: _Data,
    config: TrainConfig,
    candidate: Candidate,
    thresholds: FloatArray,
    protected: frozenset[str],
    cache: EmbeddingStore,
    progress: Progress,
) -> TagModel:
    feature_config = _feature_config(config)
    feature_config.weights = {**feature_config.weights, **candidate["weights"]}
    builder = FeatureBuilder(feature_config, protected=protected, embedding_cache=cache)
    blocks = builder.fit_transform_blocks(data.examples, progress)
    params = _classifier_params(config, candidate)
    weights = _fit_weights(builder.combine(blocks), data, params, config.n_jobs)
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
        params={**params, "weights": dict(feature_config.weights)},
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
    data, info, unused = _prepare(examples, taxonomy_paths, config)
    cache = embedding_cache if embedding_cache is not None else MemoryEmbeddingCache()
    protected = protected_words(taxonomy_paths if taxonomy_paths is not None else data.labels.tags)
    holdout: _Data | None = None
    training = data
    if config.test_size > 0 and len(data.examples) >= _MIN_VIDEOS_FOR_HOLDOUT:
        train_rows, test_rows = stratified_holdout(data.Y, config.test_size, config.seed)
        training, holdout = data.subset(train_rows), data.subset(test_rows)
    outcome = _search(training, config, protected, cache, stages)
    model = _fit_model(
        training,
        config,
        outcome.best,
        outcome.thresholds,
        protected,
        cache,
        stages.within(0.7, 0.85, "final model"),
    )
    metrics: dict[str, Any] = {
        "data": info,
        "search": {"kind": config.search, "tried": outcome.table},
        "threshold_scale": outcome.threshold_scale,
    }
    if outcome.cv is not None:
        metrics["cv"] = outcome.cv
    if holdout is not None:
        stages.report("held-out evaluation", 0.87)
        raw = model.raw_scores(holdout.examples)
        metrics["holdout"] = _Decider(holdout, config).evaluate(
            holdout, raw, model.threshold_array, per_tag=True
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
            )
    metrics["features"] = model.features.describe()
    metrics["embedding_skipped_reason"] = model.features.embedding_skipped_reason
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    stages.report("done", 1.0)
    trained_on = data if config.refit_full or holdout is None else training
    split = {
        "train": [e.video_id for e in trained_on.examples],
        "holdout": [e.video_id for e in holdout.examples] if holdout is not None else [],
        "unused": unused,
    }
    return TrainResult(model=model, metrics=metrics, params=model.params, split=split)
