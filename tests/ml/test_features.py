"""Feature blocks: text n-grams, optional embeddings, scaled media with missing values."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from ml.dataset import Example
from ml.features import (
    FeatureBuilder,
    FeatureConfig,
    FeatureError,
    embedding_text,
    processed_document,
)
from ml.text import process_text

VIDEOS = [
    Example("a", "Футбольный матч", "Команды забили голы", media={"visual_brightness": 0.2}),
    Example("b", "Рецепт борща", "Варим свёклу и капусту", media={"visual_brightness": 0.6}),
    Example(
        "c",
        "Ремонт машины",
        "Меняем масло",
        media={"visual_brightness": 1.0, "audio_speech": 0.5},
    ),
]


def _config(**changes: object) -> FeatureConfig:
    config = FeatureConfig(text_mode="lemma")
    for name, value in changes.items():
        setattr(config, name, value)
    return config


def test_processed_document_repeats_the_title_then_joins_the_other_texts() -> None:
    video = Example("x", "Футбольные матчи", "Команды играли", summary="итоги", transcript="тренер")

    document = processed_document(video, mode="lemma", title_repeat=2)

    title = process_text("Футбольные матчи", mode="lemma").text
    rest = [process_text(t, mode="lemma").text for t in ("Команды играли", "итоги", "тренер")]
    assert document == " ".join([title, title, *rest])
    assert title == "футбольный матч"


def test_embedding_text_prefers_the_summary_to_the_transcript() -> None:
    assert embedding_text(Example("x", "T", "D", transcript="long", summary="S")) == "T. D. S"
    assert embedding_text(Example("x", "T", "", transcript="long")) == "T. long"


def test_blocks_and_their_sizes() -> None:
    builder = FeatureBuilder(_config())
    blocks = builder.fit_transform_blocks(VIDEOS)

    assert set(blocks) == {"word", "char", "media"}
    # media: two numbers and one missing-share column per source (audio, visual).
    assert builder.block_sizes["media"] == 4
    assert builder.transform(VIDEOS).shape == (3, builder.n_features)
    no_char = FeatureBuilder(_config(use_char=False, use_media=False))
    assert set(no_char.fit_transform_blocks(VIDEOS)) == {"word"}


def test_media_is_standardised_and_missing_values_are_flagged() -> None:
    builder = FeatureBuilder(_config(use_char=False))
    builder.fit(VIDEOS)
    media = builder.transform_blocks(
        [
            Example("n", "", "", media={"visual_brightness": 0.6, "audio_speech": float("nan")}),
            Example("m", "", "", media={}),
        ]
    )["media"].toarray()

    # Columns: audio_speech, visual_brightness, then missing shares of audio and visual.
    assert media[0].tolist() == pytest.approx([0.0, 0.0, 1.0, 0.0])  # 0.6 is the mean
    assert media[1].tolist() == [0.0, 0.0, 1.0, 1.0]
    brightness = builder.transform_blocks(VIDEOS[:1])["media"].toarray()[0, 1]
    # (0.2 - 0.6) / std(0.2, 0.6, 1.0)
    assert brightness == pytest.approx(-0.4 / np.std([0.2, 0.6, 1.0]))


def test_block_weights_scale_and_zero_drops() -> None:
    builder = FeatureBuilder(_config())
    blocks = builder.fit_transform_blocks(VIDEOS)
    base = builder.combine(blocks).toarray()
    doubled = builder.combine(blocks, {"word": 2.0}).toarray()
    words = builder.block_sizes["word"]

    np.testing.assert_allclose(doubled[:, :words], 2 * base[:, :words])
    np.testing.assert_allclose(doubled[:, words:], base[:, words:])
    assert (
        builder.combine(blocks, {"char": 0.0}).shape[1]
        == base.shape[1] - builder.block_sizes["char"]
    )


def test_an_unloadable_embedding_model_is_skipped_and_recorded() -> None:
    builder = FeatureBuilder(_config(embedding_model="/no/such/model"))
    blocks = builder.fit_transform_blocks(VIDEOS)

    assert "embedding" not in blocks
    assert builder.embedding_model is None
    assert "does not exist" in (builder.embedding_skipped_reason or "")
    assert builder.transform(VIDEOS).shape[0] == 3


def test_the_builder_pickles_and_transforms_the_same() -> None:
    builder = FeatureBuilder(_config())
    builder.fit(VIDEOS)
    copy = pickle.loads(pickle.dumps(builder))  # noqa: S301 - our own object

    assert (copy.transform(VIDEOS) != builder.transform(VIDEOS)).nnz == 0


def test_an_unfitted_builder_refuses_to_transform() -> None:
    with pytest.raises(RuntimeError, match="not fitted"):
        FeatureBuilder().transform(VIDEOS)


def test_videos_without_words_are_refused_plainly() -> None:
    with pytest.raises(FeatureError, match="none of the 2 videos has words"):
        FeatureBuilder(_config()).fit([Example("a", "", ""), Example("b", "и", "но")])
