"""Cold-start suggestions before any model is trained: how well a text matches tag names.

With a sentence embedding model: the cosine similarity between the text's embedding and
the embedding of each tag's name with its parents ("Футбол (Спорт)"), negative values set
to 0. Without one (not configured, or not loadable): a lexical match, the cosine between
TF-IDF vectors of the text's lemmas and of the tag names' lemmas (the leaf counts twice,
its parents once), with weights learned from the tag names so a word shared by many tags
counts less. Both give scores in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer

from ml.embed import EmbeddingStore, embed_texts
from ml.errors import ModelUnavailable
from ml.taxonomy import PATH_SEPARATOR
from ml.text import process_text, protected_words

__all__ = ["ZeroShotResult", "tag_description", "zero_shot", "zero_shot_scores"]

Method = Literal["embedding", "lexical"]
_SPACE_SEPARATED_WORD = r"\S+"


@dataclass(frozen=True)
class ZeroShotResult:
    scores: npt.NDArray[np.float64]  # texts x tags, in [0, 1]
    method: Method
    # Why the embedding model was not used, when one was asked for.
    skipped_reason: str | None = None


def tag_description(path: str) -> str:
    """A tag as words: its name, then its parents from the nearest up ("Седан (Типы кузова
    автомобиля, Транспорт)")."""
    parts = path.split(PATH_SEPARATOR)
    if len(parts) == 1:
        return parts[0]
    return f"{parts[-1]} ({', '.join(reversed(parts[:-1]))})"


def _embedding_scores(
    texts: Sequence[str], tag_paths: Sequence[str], model_name: str, cache: EmbeddingStore | None
) -> npt.NDArray[np.float64]:
    text_vectors = embed_texts(texts, model_name=model_name, cache=cache)
    tag_vectors = embed_texts(
        [tag_description(path) for path in tag_paths], model_name=model_name, cache=cache
    )
    similarity = text_vectors.astype(np.float64) @ tag_vectors.astype(np.float64).T
    return np.clip(similarity, 0.0, 1.0)


def _lexical_scores(texts: Sequence[str], tag_paths: Sequence[str]) -> npt.NDArray[np.float64]:
    protected = protected_words(tag_paths)

    def lemmas(text: str) -> str:
        return process_text(text, mode="lemma", protected=protected).text

    tag_documents = []
    for path in tag_paths:
        parts = path.split(PATH_SEPARATOR)
        leaf = lemmas(parts[-1])
        tag_documents.append(" ".join([leaf, leaf, *(lemmas(p) for p in parts[:-1])]))
    if not any(tag_documents):
        return np.zeros((len(texts), len(tag_paths)))
    vectorizer = TfidfVectorizer(token_pattern=_SPACE_SEPARATED_WORD, sublinear_tf=True)
    tag_matrix = vectorizer.fit_transform(tag_documents)
    text_matrix = vectorizer.transform([lemmas(text) for text in texts])
    similarity = (text_matrix @ tag_matrix.T).toarray()
    return np.clip(similarity, 0.0, 1.0)


def zero_shot(
    texts: Sequence[str],
    tag_paths: Sequence[str],
    *,
    model_name: str | None,
    cache: EmbeddingStore | None = None,
) -> ZeroShotResult:
    """Scores of every tag for every text, and which method gave them."""
    if not texts or not tag_paths:
        return ZeroShotResult(np.zeros((len(texts), len(tag_paths))), "lexical")
    reason = None
    if model_name:
        try:
            return ZeroShotResult(
                _embedding_scores(texts, tag_paths, model_name, cache), "embedding"
            )
        except ModelUnavailable as exc:
            reason = str(exc)
    return ZeroShotResult(_lexical_scores(texts, tag_paths), "lexical", reason)


def zero_shot_scores(
    texts: Sequence[str],
    tag_paths: Sequence[str],
    *,
    model_name: str | None,
    cache: EmbeddingStore | None = None,
) -> npt.NDArray[np.float64]:
    """Texts x tags scores in [0, 1]; see `zero_shot` for the method used."""
    return zero_shot(texts, tag_paths, model_name=model_name, cache=cache).scores
