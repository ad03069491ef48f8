"""Russian and English text processing: cleaning, lemmas, stems, stop words, protection."""

from __future__ import annotations

import pytest

from ml.text import (
    STOP_WORDS,
    ProcessedText,
    clean_text,
    lemmatize,
    morph_analyzer,
    process_text,
    protected_words,
    remove_stop_words,
    split_sentences,
    stem,
    tokenize,
)


def test_clean_text_strips_links_emails_markup_emoji_and_punctuation() -> None:
    raw = (
        "Смотрите <b>Новые</b> машины: https://rutube.ru/video/1?x=2 и vk.com/club1 😀🔥!!! "
        "Пишите на info@example.ru — «Ёлки-палки»...  Кто-то   пришёл &amp; ушёл -"
    )
    assert clean_text(raw) == ("смотрите новые машины и пишите на елки-палки кто-то пришел ушел")


def test_clean_text_keeps_digits_and_english_words_but_no_underscores() -> None:
    assert clean_text("Top_10 CARS of 2024, e-mail me!") == "top 10 cars of 2024 e-mail me"


def test_clean_text_of_nothing_is_empty() -> None:
    assert clean_text("  🙂 … -- ") == ""


def test_tokenize_leaves_out_punctuation() -> None:
    assert tokenize("Привет, мир! Кто-то пришёл.") == ["Привет", "мир", "Кто-то", "пришёл"]


def test_lemmatize_gives_dictionary_forms_and_lowercases_english() -> None:
    assert lemmatize(["машины", "Ехали", "дорогам", "Cars", "ёлки"]) == [
        "машина",
        "ехать",
        "дорога",
        "cars",
        "елка",
    ]


def test_the_morph_analyzer_is_created_once() -> None:
    assert morph_analyzer() is morph_analyzer()


def test_stemming_russian_and_english_words() -> None:
    assert stem(["машины", "машиной", "running"]) == ["машин", "машин", "run"]
    with pytest.raises(ValueError, match="no Snowball stemmer"):
        stem(["x"], language="klingon")


def test_stop_words_cover_both_languages() -> None:
    assert {"и", "в", "который", "the", "and"} <= STOP_WORDS
    assert remove_stop_words(["и", "машина", "the", "car"]) == ["машина", "car"]


def test_protected_words_are_never_removed() -> None:
    assert "жизнь" in STOP_WORDS  # the list counts it as a stop word
    protected = protected_words(["Семья и отношения: Жизнь"])
    assert remove_stop_words(["жизнь", "и"], protected=protected) == ["жизнь"]


def test_protected_words_are_lemmas_of_content_words_only() -> None:
    assert protected_words(["Транспорт: Типы кузова автомобиля", "Дом и сад"]) == {
        "транспорт",
        "тип",
        "кузов",
        "автомобиль",
        "дом",
        "сад",
    }


def test_process_text_in_lemma_mode() -> None:
    result = process_text("Мы смотрели, как новые машины ехали по дорогам! https://t.me/x 🚗")
    assert result == ProcessedText(("смотреть", "новый", "машина", "ехать", "дорога"))
    assert result.text == "смотреть новый машина ехать дорога"


def test_process_text_removes_stop_words_matched_by_lemma_unless_protected() -> None:
    sentence = "Вся жизнь прошла за годы"
    assert process_text(sentence).tokens == ("пройти",)
    protected = protected_words(["Семья: Жизнь", "Новости: Год"])
    assert process_text(sentence, protected=protected).tokens == ("жизнь", "пройти", "год")


def test_process_text_in_stem_mode_keeps_protected_words() -> None:
    protected = protected_words(["Семья: Жизнь"])
    result = process_text("Новые машины и жизнь", mode="stem", protected=protected)
    assert result.tokens == ("нов", "машин", "жизн")
    assert process_text("Новые машины и жизнь", mode="stem").tokens == ("нов", "машин")


def test_process_text_without_normalisation_keeps_word_forms() -> None:
    assert process_text("Новые машины и the cars", mode="none").tokens == (
        "новые",
        "машины",
        "cars",
    )


def test_process_text_refuses_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown text mode"):
        process_text("машины", mode="root")  # type: ignore[arg-type]


def test_split_sentences_handles_abbreviations() -> None:
    text = "Привет. Т.е. всё хорошо! А у вас?  "
    assert split_sentences(text) == [
        "Привет.",
        "Т.е. всё хорошо!",
        "А у вас?",
    ]
    assert split_sentences("   ") == []
