"""What counts as a model's proposal in the evidence of its precision, on a real small model."""

from __future__ import annotations

import pytest

from ml.dataset import Example
from ml.synthetic_tags import planted_examples
from ml.taxonomy import ancestors
from ml.train import TrainConfig, TrainResult, train
from ml.trust import Evidence, likely_tags, tally

FAST = TrainConfig(search="none", text_mode="none", cv_folds=3, use_char_ngrams=False)


@pytest.fixture(scope="module")
def planted() -> tuple[list[Example], TrainResult]:
    examples, taxonomy = planted_examples(240, 12, seed=1, leaves_per_root=2)
    return examples, train(examples, taxonomy_paths=taxonomy, config=FAST)


def test_a_best_guess_taken_only_because_a_video_needs_a_tag_is_not_proposed(
    planted: tuple[list[Example], TrainResult],
) -> None:
    examples, trained = planted
    model = trained.model
    held_out = [e for e in examples if e.video_id in set(trained.split["holdout"])]
    nothing = Example("x", "тестовая таблица", "цветные полосы и сигнал 1 кГц")

    proposals = likely_tags(model, [*held_out, nothing])

    assert model.predict([nothing])[0]  # a prediction names a tag for it...
    assert "x" not in proposals  # ...but the model does not propose one
    assert len(proposals) >= 0.8 * len(held_out)
    for row in proposals.values():
        tags = [tag for tag, _ in row]
        # A chosen tag's parent is said by the tag itself: it is not a second proposal.
        assert not {parent for tag in tags for parent in ancestors(tag)[:-1]} & set(tags)
        assert [score for _, score in row] == sorted((score for _, score in row), reverse=True)
        assert all(score == round(score, 4) for _, score in row)
    assert max(len(row) for row in likely_tags(model, held_out, limit=1).values()) == 1


def test_evidence_counts_each_check_and_its_lower_bound_needs_52_right_for_095() -> None:
    evidence = tally([("a", True), ("a", False), ("b", True)])

    assert evidence == {"a": Evidence(2, 1), "b": Evidence(1, 1)}
    assert Evidence(51, 51).lower_bound < 0.95 <= Evidence(52, 52).lower_bound
    assert Evidence(60, 59).lower_bound < 0.95
