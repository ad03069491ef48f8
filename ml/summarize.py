"""Extractive summaries: the few most central sentences of a text, TextRank-style.

Sentences are nodes of a graph whose edges are the cosine similarity of their TF-IDF
vectors (over lemmas without stop words); PageRank over that graph ranks them, and the
best ones are returned in the order they were said.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import numpy.typing as npt

from ml.text import process_text, split_sentences

__all__ = ["summarize"]

_DAMPING = 0.85
_MAX_ITERATIONS = 100
_TOLERANCE = 1e-6
# Transcripts without punctuation come out as one endless "sentence"; such runs are cut
# into pieces of this many words so they can be ranked like sentences.
_LONG_SENTENCE_CHARS = 400
_PIECE_WORDS = 30
# Beyond this many sentences the similarity matrix grows too large to be worth it; the
# rest of the text is still summarised by the sentences kept.
_MAX_SENTENCES = 3000
# Interjections ("Давай, Андрюх.") share words with everything around them and would
# win on centrality alone; a sentence needs this many content words to be picked,
# unless too few sentences have them.
_MIN_CONTENT_WORDS = 4


def _pieces(sentence: str) -> list[str]:
    if len(sentence) <= _LONG_SENTENCE_CHARS:
        return [sentence]
    words = sentence.split()
    return [" ".join(words[i : i + _PIECE_WORDS]) for i in range(0, len(words), _PIECE_WORDS)]


def _tfidf(documents: list[tuple[str, ...]]) -> npt.NDArray[np.float64]:
    """Rows of L2-normalised TF-IDF weights, one per document (zero rows for empty ones)."""
    vocabulary: dict[str, int] = {}
    for tokens in documents:
        for token in tokens:
            vocabulary.setdefault(token, len(vocabulary))
    matrix = np.zeros((len(documents), max(1, len(vocabulary))))
    document_frequency = Counter(token for tokens in documents for token in set(tokens))
    count = len(documents)
    for row, tokens in enumerate(documents):
        for token, frequency in Counter(tokens).items():
            idf = math.log((1 + count) / (1 + document_frequency[token])) + 1.0
            matrix[row, vocabulary[token]] = frequency * idf
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _pagerank(similarity: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    size = similarity.shape[0]
    out_weight = similarity.sum(axis=1, keepdims=True)
    # A sentence similar to none spreads its rank evenly, as a dangling page does.
    transition = np.where(out_weight > 0, similarity / np.where(out_weight > 0, out_weight, 1), 0)
    dangling = out_weight[:, 0] == 0
    rank = np.full(size, 1.0 / size)
    for _ in range(_MAX_ITERATIONS):
        spread = rank @ transition + rank[dangling].sum() / size
        updated = (1 - _DAMPING) / size + _DAMPING * spread
        if np.abs(updated - rank).sum() < _TOLERANCE:
            return updated
        rank = updated
    return rank


def _shorten(sentence: str, max_chars: int) -> str:
    if len(sentence) <= max_chars:
        return sentence
    cut = sentence[: max(0, max_chars - 1)].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return f"{cut}…"


def summarize(text: str, *, max_sentences: int = 3, max_chars: int = 600) -> str:
    """The most central sentences of `text`, in their original order.

    At most `max_sentences` sentences and `max_chars` characters; a text that already
    fits is returned as it is, an empty one gives "".
    """
    if max_sentences < 1 or max_chars < 1:
        raise ValueError("max_sentences and max_chars must be positive")
    text = " ".join(text.split())
    if not text:
        return ""
    sentences = [piece for sentence in split_sentences(text) for piece in _pieces(sentence)]
    if len(sentences) <= max_sentences and len(text) <= max_chars:
        return text
    sentences = sentences[:_MAX_SENTENCES]
    documents = [process_text(sentence).tokens for sentence in sentences]
    vectors = _tfidf(documents)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, 0.0)
    scores = _pagerank(np.clip(similarity, 0.0, None))
    # Highest score first; among equals, the earlier sentence.
    ranking = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))
    substantial = [i for i in ranking if len(documents[i]) >= _MIN_CONTENT_WORDS]
    if len(substantial) >= max_sentences:
        ranking = substantial
    chosen: list[int] = []
    length = 0
    for index in ranking:
        if len(chosen) == max_sentences:
            break
        added = len(sentences[index]) + (1 if chosen else 0)
        if length + added <= max_chars:
            chosen.append(index)
            length += added
    if not chosen:
        return _shorten(sentences[ranking[0]], max_chars)
    return " ".join(sentences[i] for i in sorted(chosen))
