"""Sentence embeddings: a cached model loader and an on-disk cache of computed vectors.

The model is named by a Hugging Face id ("sentence-transformers/...") or a local folder.
Weights are read only from local files (a folder, or the Hugging Face cache) unless
``ML_ALLOW_MODEL_DOWNLOAD=1`` is set: a hub that cannot be reached would otherwise make
every load wait through a minute of retries. A model that cannot be loaded raises
`ModelUnavailable` with a plain message; callers then go on without embeddings.

Vectors are cached per (model name, SHA-256 of the text) in a small SQLite file, so a
retrain embeds only the texts that changed. SQLite in WAL mode lets many processes read
while one writes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from ml.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DOWNLOAD_ENV",
    "EmbeddingCache",
    "EmbeddingStore",
    "MemoryEmbeddingCache",
    "clear_model_cache",
    "embed_texts",
    "load_sentence_model",
    "text_digest",
]

DOWNLOAD_ENV = "ML_ALLOW_MODEL_DOWNLOAD"
Embeddings = npt.NDArray[np.float32]

_models: dict[str, SentenceTransformer] = {}
# A model that failed to load is not tried again in this process: each attempt can cost
# seconds (a hub lookup, a partial load), and the answer will not change until a restart.
_failures: dict[str, ModelUnavailable] = {}
_models_lock = threading.Lock()


def _download_allowed() -> bool:
    return os.environ.get(DOWNLOAD_ENV, "").strip().lower() in {"1", "true", "yes"}


def load_sentence_model(name_or_path: str) -> SentenceTransformer:
    """The model, loaded once per process; raises ModelUnavailable if it cannot be loaded."""
    name = name_or_path.strip()
    if not name:
        raise ModelUnavailable("no sentence embedding model is configured")
    with _models_lock:
        if name in _failures:
            raise _failures[name]
        model = _models.get(name)
        if model is None:
            try:
                model = _load(name)
            except ModelUnavailable as unavailable:
                _failures[name] = unavailable
                raise
            _models[name] = model
        return model


def clear_model_cache() -> None:
    with _models_lock:
        _models.clear()
        _failures.clear()


def _load(name: str) -> SentenceTransformer:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ModelUnavailable(f"sentence-transformers is not installed ({exc})") from None
    local = Path(name).expanduser()
    looks_like_path = local.is_absolute() or name.startswith((".", "~")) or local.exists()
    if looks_like_path and not local.is_dir():
        raise ModelUnavailable(f"the sentence embedding model folder {name} does not exist")
    try:
        return SentenceTransformer(
            str(local) if looks_like_path else name,
            device="cpu",
            local_files_only=not looks_like_path and not _download_allowed(),
        )
    except Exception as exc:  # the library raises OSError, ValueError, HTTP errors...
        if looks_like_path:
            hint = "the folder does not hold a sentence-transformers model"
        elif _download_allowed():
            hint = "it could not be downloaded"
        else:
            hint = (
                "it is not in the local model cache; give the path of a folder holding it, "
                f"or set {DOWNLOAD_ENV}=1 to let it be downloaded"
            )
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelUnavailable(
            f"the sentence embedding model {name!r} cannot be loaded: {hint} ({detail})"
        ) from None


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Embeddings on disk, keyed by model name and text digest."""

    FILENAME = "embeddings.sqlite3"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / self.FILENAME
        with self._connect() as connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS embedding ("
                " model TEXT NOT NULL, digest TEXT NOT NULL, dim INTEGER NOT NULL,"
                " vector BLOB NOT NULL, PRIMARY KEY (model, digest))"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # A connection per operation: safe across threads and forked workers.
        with closing(sqlite3.connect(self.path, timeout=30.0)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            with connection:
                yield connection

    def get_many(self, model: str, digests: Sequence[str]) -> dict[str, Embeddings]:
        found: dict[str, Embeddings] = {}
        wanted = list(dict.fromkeys(digests))
        with self._connect() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(
                    f"SELECT digest, dim, vector FROM embedding "  # noqa: S608 - only marks
                    f"WHERE model = ? AND digest IN ({marks})",
                    [model, *chunk],
                )
                for digest, dim, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (dim,):
                        found[digest] = vector
        return found

    def put_many(self, model: str, vectors: dict[str, Embeddings]) -> None:
        rows = [
            (model, digest, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
            for digest, v in vectors.items()
        ]
        with self._connect() as connection:
            connection.executemany(
                "INSERT OR IGNORE INTO embedding (model, digest, dim, vector) VALUES (?, ?, ?, ?)",
                rows,
            )

    def __len__(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM embedding").fetchone()[0])


class EmbeddingStore(Protocol):
    def get_many(self, model: str, digests: Sequence[str]) -> dict[str, Embeddings]: ...

    def put_many(self, model: str, vectors: dict[str, Embeddings]) -> None: ...


class MemoryEmbeddingCache:
    """Embeddings kept in memory for one job, e.g. across the folds of a cross-validation."""

    def __init__(self) -> None:
        self._vectors: dict[tuple[str, str], Embeddings] = {}

    def get_many(self, model: str, digests: Sequence[str]) -> dict[str, Embeddings]:
        return {d: self._vectors[(model, d)] for d in digests if (model, d) in self._vectors}

    def put_many(self, model: str, vectors: dict[str, Embeddings]) -> None:
        for digest, vector in vectors.items():
            self._vectors[(model, digest)] = vector

    def __len__(self) -> int:
        return len(self._vectors)


def embed_texts(
    texts: Sequence[str],
    *,
    model_name: str,
    cache: EmbeddingStore | None = None,
    batch_size: int = 32,
    progress: Callable[[int, int], None] | None = None,
) -> Embeddings:
    """Unit-length embeddings of the texts (one row each), computing only uncached ones."""
    digests = [text_digest(text) for text in texts]
    known = cache.get_many(model_name, digests) if cache is not None else {}
    missing = list(dict.fromkeys(d for d in digests if d not in known))
    if missing or not texts:
        model = load_sentence_model(model_name)
        by_digest = {d: text for d, text in zip(digests, texts, strict=True)}
        computed: dict[str, Embeddings] = {}
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            vectors = _encode(model, [by_digest[d] for d in chunk], batch_size)
            computed.update(zip(chunk, vectors, strict=True))
            if progress is not None:
                progress(min(start + batch_size, len(missing)), len(missing))
        if cache is not None and computed:
            cache.put_many(model_name, computed)
        known.update(computed)
        if not texts:
            dim = int(_dimension(model))
            return np.zeros((0, dim), dtype=np.float32)
    return np.stack([known[d] for d in digests]).astype(np.float32, copy=False)


def _dimension(model: Any) -> int:
    getter = getattr(model, "get_embedding_dimension", None)
    if getter is None:  # sentence-transformers before 5
        getter = model.get_sentence_embedding_dimension
    return int(getter() or 0)


def _encode(model: Any, texts: list[str], batch_size: int) -> Embeddings:
    vectors = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        convert_to_numpy=True,
        show_progress_bar=False,
    )
    return np.asarray(vectors, dtype=np.float32)
