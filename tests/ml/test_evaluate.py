"""Every metric against values computed by hand on tiny inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.evaluate import (
    evaluate_predictions,
    expand_tags,
    hierarchical_iou,
    precision_at_k,
    summarize_folds,
)


def test_expand_tags_adds_every_level() -> None:
    assert expand_tags(["A: B: C", "D"]) == {"A", "A: B", "A: B: C", "D"}


def test_hierarchical_iou_by_hand() -> None:
    # {A, A: B} vs {A, A: C}: 1 of 3; a missed video: 0; nothing vs nothing: 1.
    true = [["A: B"], ["X"], []]
    predicted = [["A: C"], [], []]
    assert hierarchical_iou(true, predicted) == pytest.approx((1 / 3 + 0 + 1) / 3)
    # The right branch one level short: {A, A: B} of {A, A: B, A: B: C}.
    assert hierarchical_iou([["A: B: C"]], [["A: B"]]) == pytest.approx(2 / 3)
    # Listing a parent beside its child changes nothing.
    assert hierarchical_iou([["A: B"]], [["A", "A: B"]]) == 1.0


def test_hierarchical_iou_needs_matching_lengths() -> None:
    with pytest.raises(ValueError, match="2 true tag sets but 1"):
        hierarchical_iou([["A"], ["B"]], [["A"]])


def test_f1_precision_recall_by_hand() -> None:
    true = [["A"], ["A", "B"], ["B"]]
    predicted = [["A"], ["A"], ["A"]]

    figures = evaluate_predictions(true, predicted, expand=False)

    # A: 2 hits, 1 false alarm, 0 misses. B: 0 hits, 2 misses.
    assert figures["precision_micro"] == pytest.approx(2 / 3)
    assert figures["recall_micro"] == pytest.approx(1 / 2)
    assert figures["f1_micro"] == pytest.approx(4 / 7)
    assert figures["f1_macro"] == pytest.approx((0.8 + 0.0) / 2)
    assert figures["precision_macro"] == pytest.approx((2 / 3 + 0) / 2)
    assert figures["recall_macro"] == pytest.approx((1 + 0) / 2)
    # Per video F1: 1, 2/3, 0.
    assert figures["f1_samples"] == pytest.approx(5 / 9)
    assert figures["per_tag"]["A"] == {
        "support": 2,
        "predicted": 3,
        "precision": pytest.approx(2 / 3),
        "recall": 1.0,
        "f1": pytest.approx(0.8),
        "roc_auc": None,
    }
    assert figures["per_tag"]["B"]["support"] == 2
    assert figures["per_tag"]["B"]["f1"] == 0.0
    assert "precision_at_1" not in figures


def test_hierarchy_expansion_gives_partial_credit() -> None:
    flat = evaluate_predictions([["A: B"]], [["A: C"]], expand=False)
    expanded = evaluate_predictions([["A: B"]], [["A: C"]])
    assert flat["f1_micro"] == 0.0
    # {A, A: B} vs {A, A: C}: one hit, one miss, one false alarm.
    assert expanded["f1_micro"] == pytest.approx(0.5)


SCORE_TAGS = ["a", "b", "c", "d"]
SCORES = np.array([[0.9, 0.5, 0.1, 0.3], [0.2, 0.2, 0.8, 0.3]])
TRUE = [["a", "c"], ["b"]]


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, (1 + 0) / 2),
        (2, (1 / 2 + 0) / 2),
        # Row 2's third place is a tie of a and b at 0.2: the stable order takes a, a miss.
        (3, (1 / 3 + 0) / 2),
        # Fewer tags than k: still divided by k.
        (5, (2 / 5 + 1 / 5) / 2),
    ],
)
def test_precision_at_k_by_hand(k: int, expected: float) -> None:
    assert precision_at_k(TRUE, SCORES, SCORE_TAGS, k) == pytest.approx(expected)


def test_precision_at_k_checks_its_input() -> None:
    with pytest.raises(ValueError, match="shape"):
        precision_at_k(TRUE, SCORES[:, :2], SCORE_TAGS, 1)
    with pytest.raises(ValueError, match="at least 1"):
        precision_at_k(TRUE, SCORES, SCORE_TAGS, 0)


def test_roc_auc_by_hand_skips_one_class_tags() -> None:
    figures = evaluate_predictions(
        TRUE, [["a"], ["c"]], scores=SCORES, score_tags=SCORE_TAGS, expand=False
    )

    # a: positive 0.9 above negative 0.2 -> 1. b: positive 0.2 below 0.5 -> 0.
    # c: positive 0.1 below 0.8 -> 0. d: never true -> skipped.
    assert figures["per_tag"]["a"]["roc_auc"] == 1.0
    assert figures["per_tag"]["b"]["roc_auc"] == 0.0
    assert figures["per_tag"]["d"]["roc_auc"] is None
    assert figures["roc_auc_macro"] == pytest.approx(1 / 3)
    assert figures["roc_auc_tags_skipped"] == 1
    assert figures["roc_auc_tags_scored"] == 3
    # Pooled: positives 0.9, 0.1, 0.2 against negatives 0.5, 0.3, 0.2, 0.8, 0.3:
    # 0.9 beats all 5, 0.1 none, 0.2 ties one (half a pair) -> 5.5 of 15 pairs.
    assert figures["roc_auc_micro"] == pytest.approx(5.5 / 15)
    assert figures["precision_at_1"] == pytest.approx(0.5)


def test_scores_need_their_tag_names() -> None:
    with pytest.raises(ValueError, match="score_tags"):
        evaluate_predictions(TRUE, [[], []], scores=SCORES)


def test_summarize_folds_gives_mean_and_spread_of_numbers() -> None:
    summary = summarize_folds([{"x": 1.0, "name": "a", "n": 2}, {"x": 3.0, "name": "b", "n": 4}])

    assert summary["x"] == {"mean": 2.0, "std": 1.0}
    assert summary["n"] == {"mean": 3.0, "std": 1.0}
    assert "name" not in summary


def test_nan_folds_are_ignored_in_the_summary() -> None:
    summary = summarize_folds([{"auc": float("nan")}, {"auc": 0.5}])
    assert summary["auc"]["mean"] == 0.5
    assert math.isnan(summarize_folds([{"auc": float("nan")}])["auc"]["mean"])
