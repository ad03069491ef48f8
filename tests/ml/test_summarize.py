"""Extractive summaries: central sentences, original order, length limits."""

from __future__ import annotations

import pytest

from ml.summarize import summarize
from ml.text import split_sentences

ON_TOPIC = [
    "Футбольный матч начался ровно в семь вечера на новом стадионе.",
    "Команда хозяев выиграла футбольный матч на стадионе, забив два гола.",
    "Болельщики на стадионе радовались победе своей команды в матче.",
    "Тренер команды похвалил игроков после матча на стадионе.",
]
OFF_TOPIC = [
    "Погода сегодня солнечная и теплая на побережье моря.",
    "Рецепт борща требует свеклы, капусты и картофеля.",
    "Кошка спала на подоконнике весь день до обеда.",
]
TEXT = " ".join(
    [OFF_TOPIC[0], ON_TOPIC[0], ON_TOPIC[1], OFF_TOPIC[1], ON_TOPIC[2], OFF_TOPIC[2], ON_TOPIC[3]]
)


def test_summary_keeps_central_sentences_in_their_order() -> None:
    summary = split_sentences(summarize(TEXT, max_sentences=3, max_chars=1000))
    assert len(summary) == 3
    assert set(summary) <= set(ON_TOPIC)
    assert summary == sorted(summary, key=TEXT.index)


def test_summary_respects_the_character_limit() -> None:
    summary = summarize(TEXT, max_sentences=3, max_chars=140)
    assert 0 < len(summary) <= 140
    assert set(split_sentences(summary)) <= set(ON_TOPIC)


def test_one_overlong_sentence_is_shortened_at_a_word() -> None:
    text = " ".join(["слово"] * 100) + ". Еще одно предложение."
    summary = summarize(text, max_sentences=1, max_chars=50)
    assert len(summary) <= 50
    assert summary.endswith("…")
    assert summary.removesuffix("…").split() == ["слово"] * len(summary.split())


def test_unpunctuated_transcript_is_cut_into_rankable_pieces() -> None:
    text = " ".join(sentence.rstrip(".") for sentence in OFF_TOPIC + ON_TOPIC * 3)
    summary = summarize(text, max_sentences=2, max_chars=600)
    assert 0 < len(summary) < len(text)
    assert "стадион" in summary


def test_short_text_comes_back_as_it_is() -> None:
    assert summarize("  Короткий  текст. Лишь два предложения.  ") == (
        "Короткий текст. Лишь два предложения."
    )


def test_empty_text_gives_empty_summary() -> None:
    assert summarize("") == ""
    assert summarize(" \n\t ") == ""


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        summarize(TEXT, max_sentences=0)
