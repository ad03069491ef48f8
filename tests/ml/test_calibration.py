"""Calibrated probabilities, the expected-IoU choice of tags, and comparing two scorers."""

from __future__ import annotations

import numpy as np
import pytest

from ml.compare import compare_scorers
from ml.dataset import Example
from ml.synthetic_tags import planted_examples
from ml.taxonomy import ancestors
from ml.train import TrainConfig, train
from ml.train.baseline import BaselineModel
from ml.train.calibration import calibration_report, expected_calibration_error, fit_calibration
from ml.train.model import choose_expected_iou
from ml.zero_shot import ZeroShotModel

FAST = TrainConfig(search="none", text_mode="none", cv_folds=3, use_char_ngrams=False)


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores that say s where the truth holds with probability s**3 (as balanced class
    weights make a classifier say for rare tags)."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0, 1, size=(n, 3))
    truth = (rng.uniform(0, 1, size=scores.shape) < scores**3).astype(np.int8)
    return scores, truth


def test_calibration_brings_overconfident_scores_to_the_observed_rates() -> None:
    scores, truth = _overconfident(3000, seed=1)
    fresh_scores, fresh_truth = _overconfident(3000, seed=2)

    calibration = fit_calibration(truth, scores)
    before = expected_calibration_error(fresh_truth, fresh_scores)
    after = expected_calibration_error(fresh_truth, calibration.apply(fresh_scores))

    assert before > 0.15
    assert after < 0.03
    assert calibration.own_maps == 3
    # A map never reverses the classifier's order.
    column = np.linspace(0.01, 0.99, 50)[:, None].repeat(3, axis=1)
    assert np.all(np.diff(calibration.apply(column), axis=0) >= 0)


def test_a_tag_with_few_videos_shares_the_map_fitted_on_all_tags() -> None:
    scores, truth = _overconfident(400, seed=3)
    truth[:, 2] = 0
    truth[:3, 2] = 1  # three positives: too few for a map of its own

    calibration = fit_calibration(truth, scores)

    assert calibration.own_maps == 2
    assert np.isnan(calibration.slopes[2])
    assert calibration.apply(np.array([[0.5, 0.5, 0.5]]))[0, 2] > 0


def test_reliability_bins_count_every_pair_and_the_error_is_their_weighted_gap() -> None:
    truth = np.array([[1, 0], [0, 0], [1, 1], [0, 0]])
    probabilities = np.array([[0.95, 0.05], [0.05, 0.05], [0.95, 0.55], [0.05, 0.45]])

    report = calibration_report(truth, probabilities)

    assert sum(b["count"] for b in report["bins"]) == 8
    # Bins: 0.0-0.1 (4 pairs, 0 true, mean 0.05), 0.4-0.5 (0.45, 0 true),
    # 0.5-0.6 (0.55, 1 true), 0.9-1.0 (2 pairs, 0.95, both true).
    expected = (4 * 0.05 + 0.45 + 0.45 + 2 * 0.05) / 8
    assert report["ece"] == pytest.approx(expected)


def test_the_expected_iou_choice_keeps_likely_tags_with_their_parents_and_at_least_one() -> None:
    depth = np.array([0, 1, 0, 0])  # "A", "A: B", "C", "D"
    probabilities = np.array(
        [
            [0.9, 0.8, 0.3, 0.05],  # A and its child are worth it; C at 0.3 is not
            # Nothing is likely: the best goes in, and with so little expected, the next
            # best (0.15 > 0.2 / 1.55) is worth a second guess; 0.1 is not.
            [0.2, 0.1, 0.15, 0.1],
            [0.95, 0.95, 0.6, 0.0],  # a tie between parent and child keeps both
        ]
    )

    chosen = choose_expected_iou(probabilities, depth)

    assert chosen.tolist() == [
        [True, True, False, False],
        [True, False, True, False],
        [True, True, True, False],
    ]


def test_training_calibrates_and_reports_both_rules_on_out_of_fold_scores() -> None:
    examples, taxonomy = planted_examples(240, 12, seed=1, leaves_per_root=2)

    result = train(examples, taxonomy_paths=taxonomy, config=FAST)

    model, decision = result.model, result.metrics["decision"]
    assert model.calibrated and model.decision in ("thresholds", "expected_iou")
    assert set(decision["rules"]) == {"thresholds", "expected_iou"}
    assert decision["rules"][model.decision] == max(decision["rules"].values())
    calibration = decision["calibration"]
    assert calibration["after"]["ece"] < calibration["before"]["ece"]
    holdout = result.metrics["holdout"]
    assert holdout["calibration_error"] < holdout["calibration_error_before"]
    for row in model.predict(examples[:20]):
        tags = {tag for tag, _ in row}
        assert all(set(ancestors(tag)) <= tags for tag in tags)
    curve = result.metrics["learning_curve"]
    assert [point["share"] for point in curve] == [0.25, 0.5, 0.75, 1.0]
    assert curve[0]["videos"] < curve[-1]["videos"]


def test_an_uncalibrated_model_saved_before_calibration_reads_back_as_such() -> None:
    examples, taxonomy = planted_examples(60, 4, seed=2)
    model = train(examples, taxonomy_paths=taxonomy, config=FAST).model
    state = dict(model.__dict__)
    del state["calibration"], state["decision"]
    old = object.__new__(type(model))
    old.__setstate__(state)

    assert not old.calibrated and old.decision == "thresholds"
    assert len(old.predict(examples[:3])) == 3


def test_the_baseline_falls_back_to_its_best_tag_when_none_reaches_one_half() -> None:
    examples, _ = planted_examples(120, 30, seed=4)

    plain = BaselineModel().fit(examples)
    strict = BaselineModel(fallback_top1=False).fit(examples)

    assert all(len(row) >= 1 for row in plain.predict(examples[:30]))
    assert any(len(row) == 0 for row in strict.predict(examples[:30]))


def test_a_paired_bootstrap_interval_surrounds_the_difference_and_excludes_zero_when_clear() -> (
    None
):
    examples, taxonomy = planted_examples(240, 6, seed=5, leaves_per_root=2)
    model = train(examples[:180], taxonomy_paths=taxonomy, config=FAST).model
    names_only = ZeroShotModel(taxonomy, min_tags=1)

    comparison = compare_scorers(examples[180:], model, names_only)

    assert comparison.videos == 60
    assert comparison.low <= comparison.difference <= comparison.high
    # The planted words are not the tags' names: the model wins, and clearly.
    assert comparison.low > 0
    same = compare_scorers(examples[180:], model, model)
    assert same.difference == same.low == same.high == 0
    # A metric that is not a mean over videos is recomputed on each resample.
    micro = compare_scorers(examples[180:], model, names_only, metric="f1_micro")
    assert micro.resamples == 300
    assert micro.low <= micro.difference <= micro.high and micro.low > 0


def test_zero_shot_learns_the_words_of_confirmed_videos_and_the_guidelines() -> None:
    tags = ["Спорт: Футбол", "Еда и напитки: Кулинария"]
    confirmed = [
        Example("1", "Гол в добавленное время", "Нападающий забил", tags=("Спорт: Футбол",)),
        Example("2", "Борщ за час", "Свёкла, капуста и говядина", tags=(tags[1],)),
    ]
    borscht = Example("3", "Борщ как у бабушки", "Свёкла и капуста")
    guidelines = "Кулинария: рецепты, например плов или выпечка."
    pilaf = Example("4", "Плов в казане", "")

    names_only = ZeroShotModel(tags)
    learned = ZeroShotModel(tags, examples=confirmed, guidelines=guidelines)

    assert names_only.scores([borscht, pilaf]).max() == 0
    learned_scores = learned.scores([borscht, pilaf])
    cooking = tags.index("Еда и напитки: Кулинария")
    assert learned_scores.argmax(axis=1).tolist() == [cooking, cooking]
    assert learned_scores[:, cooking].min() > 0
