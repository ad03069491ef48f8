"""Cold-start suggestions before any model is trained: how well a text matches each tag.

Lexical: the cosine between TF-IDF vectors of the text's lemmas and of each tag's
document: the lemmas of its name (the leaf twice, its parents once), of the lines of the
project's guidelines that name it, and the centroid of the videos already confirmed with
it (Rocchio), which weighs more as such videos arrive. With a sentence embedding model
(when one is configured and loads), the cosine between the text's embedding and the
tag's (its name with its parents, "Футбол (Спорт)", and the centroid of its confirmed
videos) is averaged with the lexical score. Scores are in [0, 1].

`ZeroShotModel` decides and ranks like a trained `TagModel` (`suggest`, `predict`,
`evaluate`), so suggestions, predictions and the promotion gate treat both alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer

from ml.dataset import Example
from ml.embed import EmbeddingStore, embed_texts
from ml.errors import ModelUnavailable
from ml.evaluate import expand_tags
from ml.taxonomy import PATH_SEPARATOR
from ml.text import process_text, protected_words
from ml.train.labels import Hierarchy
from ml.train.model import Decisions, TagScorer, choose_tags

__all__ = [
    "ZERO_SHOT_THRESHOLD",
    "ZeroShotModel",
    "ZeroShotResult",
    "example_text",
    "tag_description",
    "zero_shot",
    "zero_shot_scores",
]

Method = Literal["embedding", "lexical", "embedding+lexical"]
# Similarities are not probabilities: only a clearly similar tag is marked as likely.
ZERO_SHOT_THRESHOLD = 0.5
_TRANSCRIPT_CHARS = 2000
_FloatArray = npt.NDArray[np.float64]
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


@functools.lru_cache(maxsize=20_000)
def _lemmas(text: str, protected: frozenset[str]) -> str:
    # Cached: the same confirmed videos are read again at every refresh before a model.
    return process_text(text, mode="lemma", protected=protected).text


def example_text(example: Example) -> str:
    """The words of a video that zero-shot matching reads: title, description, and the
    summary (or the transcript's opening)."""
    rest = example.summary or example.transcript[:_TRANSCRIPT_CHARS]
    return " ".join(filter(None, (example.title, example.description, rest)))


def _normalised(matrix: _FloatArray) -> _FloatArray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def _centroids(
    vectors: _FloatArray, examples: Sequence[Example], tag_paths: Sequence[str]
) -> tuple[_FloatArray, npt.NDArray[np.float64]]:
    """Per tag, the mean of the normalised vectors of the videos confirmed with it (or
    with one of its children), and how many there were."""
    index = {path: j for j, path in enumerate(tag_paths)}
    sums = np.zeros((len(tag_paths), vectors.shape[1]))
    counts = np.zeros(len(tag_paths))
    unit = _normalised(vectors)
    for row, example in enumerate(examples):
        for tag in expand_tags(example.tags):
            j = index.get(tag)
            if j is not None:
                sums[j] += unit[row]
                counts[j] += 1
    return _normalised(sums), counts


class ZeroShotModel(TagScorer):
    """Tags from similarity to the tags' own words, before a model can be trained."""

    def __init__(
        self,
        tag_paths: Sequence[str],
        *,
        model_name: str | None = None,
        cache: EmbeddingStore | None = None,
        guidelines: str = "",
        examples: Sequence[Example] = (),
        threshold: float = ZERO_SHOT_THRESHOLD,
        min_tags: int = 0,
    ) -> None:
        self.tags = list(tag_paths)
        self.model_name = model_name
        self.cache = cache
        self.threshold = threshold
        self.min_tags = min_tags
        self.examples = [e for e in examples if e.tags]
        self.hierarchy = Hierarchy(self.tags)
        self.method: Method = "lexical"
        self.skipped_reason: str | None = None
        self._protected = protected_words(self.tags)
        self._documents = [self._tag_document(path, guidelines) for path in self.tags]
        self._vectorizer: TfidfVectorizer | None = None
        if any(self._documents) or self.examples:
            self._vectorizer = TfidfVectorizer(
                token_pattern=_SPACE_SEPARATED_WORD, sublinear_tf=True
            ).fit(self._documents + [self._lemmas(example_text(e)) for e in self.examples])

    @property
    def multi_label(self) -> bool:
        return True

    def _lemmas(self, text: str) -> str:
        return _lemmas(text, self._protected)

    def _tag_document(self, path: str, guidelines: str) -> str:
        parts = path.split(PATH_SEPARATOR)
        leaf = self._lemmas(parts[-1])
        words = [leaf, leaf, *(self._lemmas(p) for p in parts[:-1])]
        leaf_words = set(leaf.split())
        if leaf_words:
            for line in re.split(r"[\n.;]+", guidelines):
                lemmas = self._lemmas(line)
                if leaf_words <= set(lemmas.split()):
                    words.append(lemmas)
        return " ".join(w for w in words if w)

    def _lexical(self, texts: Sequence[str]) -> _FloatArray:
        if self._vectorizer is None:
            return np.zeros((len(texts), len(self.tags)))
        names = _normalised(self._vectorizer.transform(self._documents).toarray())
        tag_vectors = names
        if self.examples:
            seen = self._vectorizer.transform(
                [self._lemmas(example_text(e)) for e in self.examples]
            ).toarray()
            centroids, counts = _centroids(seen, self.examples, self.tags)
            trust = (counts / (counts + 2.0))[:, np.newaxis]
            tag_vectors = _normalised(names * (1 - trust) + centroids * trust)
        text_vectors = _normalised(
            self._vectorizer.transform([self._lemmas(t) for t in texts]).toarray()
        )
        return np.clip(text_vectors @ tag_vectors.T, 0.0, 1.0)

    def _embedded(self, texts: Sequence[str], model_name: str) -> _FloatArray:
        tag_vectors = embed_texts(
            [tag_description(path) for path in self.tags], model_name=model_name, cache=self.cache
        ).astype(np.float64)
        if self.examples:
            seen = embed_texts(
                [example_text(e) for e in self.examples], model_name=model_name, cache=self.cache
            ).astype(np.float64)
            centroids, counts = _centroids(seen, self.examples, self.tags)
            trust = (counts / (counts + 2.0))[:, np.newaxis]
            tag_vectors = _normalised(_normalised(tag_vectors) * (1 - trust) + centroids * trust)
        text_vectors = embed_texts(texts, model_name=model_name, cache=self.cache)
        similarity = _normalised(text_vectors.astype(np.float64)) @ _normalised(tag_vectors).T
        return np.clip(similarity, 0.0, 1.0)

    def _raw(self, examples: Sequence[Example]) -> _FloatArray:
        if not examples or not self.tags:
            return np.zeros((len(examples), len(self.tags)))
        texts = [example_text(e) for e in examples]
        scores = self._lexical(texts)
        if self.model_name:
            try:
                scores = (scores + self._embedded(texts, self.model_name)) / 2
                self.method = "embedding+lexical"
            except ModelUnavailable as exc:
                self.skipped_reason = str(exc)
        return scores

    def scores(self, examples: Sequence[Example]) -> _FloatArray:
        """Videos x tags similarities in [0, 1], a parent at least as high as its children."""
        return self.hierarchy.propagate_max(self._raw(examples))

    def predict_scores(self, examples: Sequence[Example]) -> _FloatArray:
        return self.scores(examples)

    def scored(self, examples: Sequence[Example]) -> Decisions:
        # Decided on raw similarities, so "at least one tag" takes the most similar tag
        # itself (with its parents), not a parent that only inherited its child's score.
        raw = self._raw(examples)
        shown = self.hierarchy.propagate_max(raw)
        thresholds = np.full(len(self.tags), self.threshold)
        chosen = choose_tags(raw, thresholds, self.hierarchy, min_tags=self.min_tags)
        # "At least one tag" never picks a tag with no evidence at all.
        chosen &= shown > 0
        # ``min_tags`` is the caller's own rule (a prediction asks for a best guess;
        # suggestions ask for none), so what it takes is chosen, not forced.
        return Decisions(shown, chosen, chosen)
