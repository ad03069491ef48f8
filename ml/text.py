"""Text processing for Russian and English: cleaning, tokens, lemmas or stems, stop words.

Titles, descriptions and transcripts all pass through `process_text`. Lemmas come from
pymorphy3 (Russian dictionary), stems from Snowball; stop words are the Russian and
English lists of the `stop-words` package, except the taxonomy's own words, which a
caller passes as `protected` (see `protected_words`) so that a tag such as "Семья и
отношения: Жизнь" keeps "жизнь" although the list counts it as a stop word.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import pymorphy3
import razdel
import snowballstemmer
import stop_words

__all__ = [
    "STOP_WORDS",
    "ProcessedText",
    "TextMode",
    "clean_text",
    "lemmatize",
    "morph_analyzer",
    "process_text",
    "protected_words",
    "remove_stop_words",
    "split_sentences",
    "stem",
    "tokenize",
]

TextMode = Literal["lemma", "stem", "none"]

_HTML_TAG = re.compile(r"<[^<>]{0,2000}>")
_URL = re.compile(r"(?:\b(?:https?|ftp)://|\bwww\.)\S+", re.IGNORECASE)
# Bare links as people paste them in descriptions: "vk.com/club1", "t.me/channel".
_BARE_DOMAIN = re.compile(
    r"\b[\w-]+(?:\.[\w-]+)*\.(?:ru|рф|su|com|org|net|io|me|tv|be|info|biz|ly|gg|app|dev)"
    r"\b(?:/\S*)?",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Stress marks written over Russian vowels would otherwise split a word in two.
_STRESS = re.compile("[\u0300\u0301]")
# Everything but letters, digits and hyphens: punctuation, symbols, emoji, underscores.
_NOT_WORD = re.compile(r"[^\w-]|_")
# A hyphen survives only inside a word ("кто-то", "e-mail").
_LOOSE_HYPHEN = re.compile(r"(?<!\w)-+|-+(?!\w)")
_SPACES = re.compile(r"\s+")
_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)

# Parts of speech that carry no topic; a taxonomy path's prepositions and conjunctions
# ("Дом и сад") are not worth protecting from the stop-word list.
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO"})


def _normalise_yo(text: str) -> str:
    return text.replace("ё", "е").replace("Ё", "Е")


STOP_WORDS: frozenset[str] = frozenset(
    _normalise_yo(word.lower())
    for language in ("russian", "english")
    for word in stop_words.get_stop_words(language)
)


def clean_text(text: str) -> str:
    """Lower-case words separated by single spaces; links, e-mails, markup, emoji and
    punctuation removed (hyphens inside words kept), the letter yo written as ye."""
    text = html.unescape(text)
    text = _HTML_TAG.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _URL.sub(" ", text)
    text = _BARE_DOMAIN.sub(" ", text)
    text = _normalise_yo(_STRESS.sub("", text).lower())
    text = _NOT_WORD.sub(" ", text)
    text = _LOOSE_HYPHEN.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def tokenize(text: str) -> list[str]:
    """Word tokens (razdel); punctuation tokens are left out."""
    return [token.text for token in razdel.tokenize(text) if any(c.isalnum() for c in token.text)]


def split_sentences(text: str) -> list[str]:
    """Sentences of a text (razdel), stripped, empty ones dropped."""
    return [s.text.strip() for s in razdel.sentenize(text) if s.text.strip()]


@functools.lru_cache(maxsize=1)
def morph_analyzer() -> pymorphy3.MorphAnalyzer:
    """The process's morphological analyser; loading its dictionary takes a while."""
    return pymorphy3.MorphAnalyzer(lang="ru")


@functools.lru_cache(maxsize=500_000)
def _parse(token: str) -> tuple[str, str | None]:
    """(lemma, part of speech) of one token; non-Cyrillic tokens are their own lemma."""
    lowered = _normalise_yo(token.lower())
    if not _CYRILLIC.search(lowered):
        return lowered, None
    best = morph_analyzer().parse(lowered)[0]
    return _normalise_yo(best.normal_form), best.tag.POS


def lemmatize(tokens: Iterable[str]) -> list[str]:
    """The dictionary form of each token ("машины" -> "машина"); English words lower-cased."""
    return [_parse(token)[0] for token in tokens]


@functools.cache
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


@functools.lru_cache(maxsize=500_000)
def _stem(token: str, language: str) -> str:
    lowered = _normalise_yo(token.lower())
    # The Russian stemmer leaves Latin words alone; English ones get the English stemmer.
    if language == "russian" and _LATIN.search(lowered) and not _CYRILLIC.search(lowered):
        return str(_stemmer("english").stemWord(lowered))
    return str(_stemmer(language).stemWord(lowered))


def stem(tokens: Iterable[str], language: str = "russian") -> list[str]:
    """Snowball stems of the tokens ("машины" -> "машин")."""
    if language not in snowballstemmer.algorithms():
        raise ValueError(f"no Snowball stemmer for {language!r}")
    return [_stem(token, language) for token in tokens]


def remove_stop_words(
    tokens: Iterable[str], *, protected: frozenset[str] = frozenset()
) -> list[str]:
    """The tokens without stop words; a protected word stays even if the list names it."""
    return [t for t in tokens if t not in STOP_WORDS or t in protected]


def protected_words(tag_paths: Iterable[str]) -> frozenset[str]:
    """Lemmas of the content words in tag names ("Спорт: Футбол" -> {"спорт", "футбол"})."""
    words: set[str] = set()
    for path in tag_paths:
        for token in tokenize(clean_text(path.replace(":", " "))):
            lemma, pos = _parse(token)
            if len(lemma) > 1 and pos not in _FUNCTION_POS:
                words.add(lemma)
    return frozenset(words)


@dataclass(frozen=True)
class ProcessedText:
    tokens: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)


def _is_stop(token: str, protected: frozenset[str]) -> bool:
    if token not in STOP_WORDS:
        return False
    return not protected or (token not in protected and _parse(token)[0] not in protected)


def process_text(
    text: str, *, mode: TextMode = "lemma", protected: frozenset[str] = frozenset()
) -> ProcessedText:
    """Cleaned, tokenized text without stop words, as lemmas, stems or the words themselves.

    Stop words are matched on the word as written and, in lemma mode, on its lemma too
    (so "всеми" goes with "весь"); `protected` holds lemmas that are never removed.
    """
    words = tokenize(clean_text(text))
    if mode == "lemma":
        lemmas = lemmatize(words)
        kept: Sequence[str] = [
            lemma
            for word, lemma in zip(words, lemmas, strict=True)
            if lemma in protected or not (word in STOP_WORDS or lemma in STOP_WORDS)
        ]
    elif mode == "stem":
        kept = stem(word for word in words if not _is_stop(word, protected))
    elif mode == "none":
        kept = [word for word in words if not _is_stop(word, protected)]
    else:
        raise ValueError(f"unknown text mode {mode!r}; use 'lemma', 'stem' or 'none'")
    return ProcessedText(tuple(kept))
