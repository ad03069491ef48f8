"""Feature vectors of videos: text, sentence embeddings and media, fused by concatenation.

Blocks, each scaled by its weight and stacked side by side (late fusion):
- ``word``: TF-IDF of word 1-2-grams of the processed text (title repeated, so it weighs
  more, then description, summary and transcript);
- ``char``: TF-IDF of character 2-5-grams within words of the same text, which copes with
  inflections, typos and rare compounds;
- ``embedding``: the sentence embedding of title, description and summary (optional: when
  the model cannot be loaded the builder records why in `embedding_skipped_reason` and the
  other blocks carry on);
- ``media``: visual and audio numbers from the media pipeline, standardised and clipped;
  a missing value is set to 0, and one indicator column per source (the key's prefix:
  "visual", "audio", "image"...) gives the share of that source's values missing.

Blocks are computed separately (`transform_blocks`) so a search over block weights needs
one pass over the texts per fold, not one per candidate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ml.dataset import Example
from ml.embed import EmbeddingStore, embed_texts
from ml.errors import ModelUnavailable
from ml.text import TextMode, process_text

__all__ = [
    "BLOCKS",
    "FeatureBuilder",
    "FeatureConfig",
    "FeatureError",
    "embedding_text",
    "processed_document",
]

BLOCKS = ("word", "char", "embedding", "media")
Matrix: TypeAlias = sp.csr_matrix
# Transcripts can be hours long; their opening is enough for the sentence embedding.
_EMBEDDING_TRANSCRIPT_CHARS = 1000
_MEDIA_CLIP = 5.0
# Processed text is already tokens joined by spaces.
_SPACE_SEPARATED_WORD = r"\S+"


class FeatureError(ValueError):
    """Videos from which no features can be built, e.g. with no words at all."""


@dataclass
class FeatureConfig:
    text_mode: TextMode = "lemma"
    title_repeat: int = 2
    word_ngram_max: int = 2
    word_max_features: int | None = 200_000
    word_min_df: int = 1
    char_ngrams: tuple[int, int] = (2, 5)
    char_max_features: int | None = 100_000
    use_char: bool = True
    use_media: bool = True
    embedding_model: str | None = None
    weights: dict[str, float] = field(
        default_factory=lambda: {"word": 1.0, "char": 1.0, "embedding": 1.0, "media": 0.5}
    )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@functools.lru_cache(maxsize=300_000)
def _processed(text: str, mode: TextMode, protected: frozenset[str]) -> str:
    return process_text(text, mode=mode, protected=protected).text if text else ""


def processed_document(
    example: Example,
    *,
    mode: TextMode = "lemma",
    protected: frozenset[str] = frozenset(),
    title_repeat: int = 2,
) -> str:
    """The processed words of a video's texts, the title repeated `title_repeat` times."""
    title = _processed(example.title, mode, protected)
    parts = [title] * max(title_repeat, 1)
    for text in (example.description, example.summary, example.transcript):
        parts.append(_processed(text, mode, protected))
    return " ".join(part for part in parts if part)


def embedding_text(example: Example) -> str:
    """What the sentence model reads: title, description, and the summary or transcript."""
    extra = example.summary or example.transcript[:_EMBEDDING_TRANSCRIPT_CHARS]
    return ". ".join(part.strip() for part in (example.title, example.description, extra) if part)


def _media_group(key: str) -> str:
    """The source of a media number: "visual_brightness" -> "visual", "image_12" -> "image"."""
    for separator in ("_", "."):
        if separator in key:
            return key.split(separator, 1)[0]
    return key


class _MediaScaler:
    """Standardises named numbers; a missing or non-finite value becomes 0, and one column
    per source ("visual", "audio", "image"...) gives the share of its values missing."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.groups: list[str] = []
        self.key_group = np.zeros(0, dtype=np.intp)
        self.mean = np.zeros(0)
        self.scale = np.ones(0)

    def fit(self, rows: Sequence[Mapping[str, float]]) -> _MediaScaler:
        self.keys = sorted({key for row in rows for key in row})
        self.groups = sorted({_media_group(key) for key in self.keys})
        group_index = {group: g for g, group in enumerate(self.groups)}
        self.key_group = np.array([group_index[_media_group(k)] for k in self.keys], dtype=np.intp)
        values, present = self._raw(rows)
        counts = present.sum(axis=0)
        totals = np.where(present, values, 0.0).sum(axis=0)
        self.mean = np.divide(totals, counts, out=np.zeros(len(self.keys)), where=counts > 0)
        squares = np.where(present, (values - self.mean) ** 2, 0.0).sum(axis=0)
        std = np.sqrt(np.divide(squares, counts, out=np.zeros(len(self.keys)), where=counts > 0))
        self.scale = np.where(std > 1e-12, std, 1.0)
        return self

    def _raw(
        self, rows: Sequence[Mapping[str, float]]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        index = {key: j for j, key in enumerate(self.keys)}
        values = np.zeros((len(rows), len(self.keys)))
        present = np.zeros((len(rows), len(self.keys)), dtype=bool)
        for i, row in enumerate(rows):
            for key, value in row.items():
                j = index.get(key)
                if (
                    j is not None
                    and isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and math.isfinite(value)
                ):
                    values[i, j] = float(value)
                    present[i, j] = True
        return values, present

    def transform(self, rows: Sequence[Mapping[str, float]]) -> Matrix:
        values, present = self._raw(rows)
        scaled = np.clip((values - self.mean) / self.scale, -_MEDIA_CLIP, _MEDIA_CLIP)
        scaled[~present] = 0.0
        missing = np.zeros((len(rows), len(self.groups)))
        np.add.at(missing.T, self.key_group, (~present).T.astype(np.float64))
        missing /= np.maximum(np.bincount(self.key_group, minlength=len(self.groups)), 1)
        return sp.csr_matrix(np.hstack([scaled, missing]))


class FeatureBuilder:
    """Fits the text vectorisers and media scaler on training videos; picklable."""

    def __init__(
        self,
        config: FeatureConfig | None = None,
        *,
        protected: frozenset[str] = frozenset(),
        embedding_cache: EmbeddingStore | None = None,
    ) -> None:
        self.config = config or FeatureConfig()
        self.protected = protected
        self.embedding_cache = embedding_cache
        self.word: TfidfVectorizer | None = None
        self.char: TfidfVectorizer | None = None
        self.media: _MediaScaler | None = None
        self.embedding_model: str | None = None
        self.embedding_skipped_reason: str | None = None
        self.block_sizes: dict[str, int] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The cache is a place on this machine, not part of the model.
        state = self.__dict__.copy()
        state["embedding_cache"] = None
        return state

    # -- fitting -------------------------------------------------------------------------

    def fit(self, examples: Sequence[Example], progress: _Progress | None = None) -> FeatureBuilder:
        self._fit_blocks(examples, progress)
        return self

    def fit_transform_blocks(
        self, examples: Sequence[Example], progress: _Progress | None = None
    ) -> dict[str, Matrix]:
        return self._fit_blocks(examples, progress)

    def _fit_blocks(
        self, examples: Sequence[Example], progress: _Progress | None
    ) -> dict[str, Matrix]:
        if not examples:
            raise ValueError("cannot fit features on no videos")
        config = self.config
        blocks: dict[str, Matrix] = {}
        documents = self.documents(examples)
        if not any(documents):
            raise FeatureError(
                f"none of the {len(examples)} videos has words in its title, description, "
                "summary or transcript (after stop words are removed)"
            )
        _report(progress, "text features", 0.3)
        self.word = TfidfVectorizer(
            token_pattern=_SPACE_SEPARATED_WORD,
            ngram_range=(1, config.word_ngram_max),
            max_features=config.word_max_features,
            min_df=config.word_min_df,
            sublinear_tf=True,
        )
        blocks["word"] = _csr(self.word.fit_transform(documents))
        if config.use_char:
            self.char = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=config.char_ngrams,
                max_features=config.char_max_features,
                sublinear_tf=True,
            )
            blocks["char"] = _csr(self.char.fit_transform(documents))
        self.embedding_model = None
        self.embedding_skipped_reason = None
        if config.embedding_model:
            _report(progress, "sentence embeddings", 0.6)
            try:
                blocks["embedding"] = self._embeddings(examples, config.embedding_model)
                self.embedding_model = config.embedding_model
            except ModelUnavailable as exc:
                self.embedding_skipped_reason = str(exc)
        self.media = None
        if config.use_media and any(example.media for example in examples):
            self.media = _MediaScaler().fit([example.media for example in examples])
            blocks["media"] = self.media.transform([example.media for example in examples])
        self.block_sizes = {name: block.shape[1] for name, block in blocks.items()}
        _report(progress, "features ready", 1.0)
        return blocks

    # -- transforming --------------------------------------------------------------------

    def documents(self, examples: Sequence[Example]) -> list[str]:
        return [
            processed_document(
                example,
                mode=self.config.text_mode,
                protected=self.protected,
                title_repeat=self.config.title_repeat,
            )
            for example in examples
        ]

    def _embeddings(self, examples: Sequence[Example], model_name: str) -> Matrix:
        vectors = embed_texts(
            [embedding_text(example) for example in examples],
            model_name=model_name,
            cache=self.embedding_cache,
        )
        return sp.csr_matrix(vectors.astype(np.float64))

    def transform_blocks(self, examples: Sequence[Example]) -> dict[str, Matrix]:
        if self.word is None:
            raise RuntimeError("the feature builder is not fitted")
        documents = self.documents(examples)
        blocks = {"word": _csr(self.word.transform(documents))}
        if self.char is not None:
            blocks["char"] = _csr(self.char.transform(documents))
        if self.embedding_model is not None:
            # Raises ModelUnavailable: vectors without their embedding would be wrong silently.
            blocks["embedding"] = self._embeddings(examples, self.embedding_model)
        if self.media is not None:
            blocks["media"] = self.media.transform([example.media for example in examples])
        return blocks

    def combine(
        self, blocks: Mapping[str, Matrix], weights: Mapping[str, float] | None = None
    ) -> Matrix:
        """The blocks side by side, each multiplied by its weight; a zero weight drops it."""
        weights = {**self.config.weights, **(weights or {})}
        parts: list[Matrix] = []
        for name in BLOCKS:
            if name not in blocks:
                continue
            weight = weights.get(name, 1.0)
            if weight == 0.0:
                continue
            parts.append(blocks[name] * weight if weight != 1.0 else blocks[name])
        if not parts:
            raise ValueError("every feature block has weight 0")
        return _csr(sp.hstack(parts, format="csr"))

    def transform(self, examples: Sequence[Example]) -> Matrix:
        return self.combine(self.transform_blocks(examples))

    @property
    def n_features(self) -> int:
        return sum(self.block_sizes.values())

    def describe(self) -> dict[str, Any]:
        return {
            "config": self.config.as_dict(),
            "block_sizes": dict(self.block_sizes),
            "embedding_model": self.embedding_model,
            "embedding_skipped_reason": self.embedding_skipped_reason,
            "protected_words": len(self.protected),
        }


_Progress = Callable[[str, float], None]


def _report(progress: _Progress | None, message: str, fraction: float) -> None:
    if progress is not None:
        progress(message, fraction)


def _csr(matrix: Any) -> Matrix:
    return sp.csr_matrix(matrix)
