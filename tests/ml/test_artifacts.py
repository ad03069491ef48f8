"""Saving and loading models: identical predictions, a readable manifest, refusals."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ml.artifacts import (
    FORMAT_VERSION,
    MANIFEST_NAME,
    MODEL_NAME,
    ArtifactError,
    library_versions,
    load_model,
    save_model,
)
from ml.synthetic_tags import planted_examples
from ml.train import TrainConfig, TrainResult, train
from ml.train.params import ClassifierParams


@pytest.fixture(scope="module")
def result() -> TrainResult:
    examples, taxonomy = planted_examples(80, 6, seed=11)
    config = TrainConfig(search="none", text_mode="lemma", cv_folds=2)
    return train(examples, taxonomy_paths=taxonomy, config=config)


def test_round_trip_gives_identical_predictions(result: TrainResult, tmp_path: Path) -> None:
    examples, _ = planted_examples(25, 6, seed=12)

    directory = save_model(result.model, tmp_path / "model", metadata={"metrics": result.metrics})
    loaded = load_model(directory)

    np.testing.assert_array_equal(
        loaded.predict_scores(examples), result.model.predict_scores(examples)
    )
    assert loaded.predict(examples) == result.model.predict(examples)
    assert loaded.thresholds == result.model.thresholds
    assert loaded.params == result.params


def test_the_stored_classifier_settings_read_back_as_typed_params(
    result: TrainResult, tmp_path: Path
) -> None:
    save_model(result.model, tmp_path, metadata={})
    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))

    params = ClassifierParams.from_dict(manifest["params"])

    assert params == ClassifierParams.from_dict(load_model(tmp_path).params)
    assert params == TrainConfig().classifier_params()  # no search: as configured
    assert manifest["params"]["weights"] == result.model.features.config.weights


def test_the_manifest_describes_the_model(result: TrainResult, tmp_path: Path) -> None:
    save_model(
        result.model, tmp_path, metadata={"metrics": result.metrics, "project": "Демо", "nan": 1.0}
    )

    manifest = json.loads((tmp_path / MANIFEST_NAME).read_text(encoding="utf-8"))

    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["tags"] == result.model.tags
    assert manifest["thresholds"] == pytest.approx(result.model.thresholds)
    assert manifest["config"]["search"] == "none"
    assert manifest["metrics"]["holdout"]["hierarchical_iou"] == pytest.approx(
        result.metrics["holdout"]["hierarchical_iou"]
    )
    assert manifest["metadata"]["project"] == "Демо"
    assert set(manifest["library_versions"]) >= {"python", "sklearn", "numpy"}
    assert manifest["library_versions"]["sentence-transformers"]
    assert len(manifest["files"][MODEL_NAME]["sha256"]) == 64


def test_manifest_is_strict_json_even_with_nan_metrics(result: TrainResult, tmp_path: Path) -> None:
    save_model(result.model, tmp_path, metadata={"metrics": {"roc_auc_macro": float("nan")}})
    text = (tmp_path / MANIFEST_NAME).read_text(encoding="utf-8")

    assert json.loads(text, parse_constant=lambda name: pytest.fail(name))["metrics"] == {
        "roc_auc_macro": None
    }


def test_another_format_version_is_refused(result: TrainResult, tmp_path: Path) -> None:
    save_model(result.model, tmp_path, metadata={})
    manifest_path = tmp_path / MANIFEST_NAME
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest_path.write_text(json.dumps({**manifest, "format_version": 99}), encoding="utf-8")

    with pytest.raises(ArtifactError, match=r"format version 99.*reads version 1"):
        load_model(tmp_path)


def test_an_altered_model_file_is_refused(result: TrainResult, tmp_path: Path) -> None:
    save_model(result.model, tmp_path, metadata={})
    with (tmp_path / MODEL_NAME).open("ab") as handle:
        handle.write(b"\0")

    with pytest.raises(ArtifactError, match="does not match its manifest"):
        load_model(tmp_path)


def test_a_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="not a saved model folder"):
        load_model(tmp_path)


def test_single_label_models_round_trip(tmp_path: Path) -> None:
    examples, _ = planted_examples(60, 4, seed=13)
    config = TrainConfig(search="none", text_mode="none", cv_folds=0, multi_label=False)
    model = train(examples, config=replace(config, test_size=0.0)).model

    loaded = load_model(save_model(model, tmp_path, metadata={}))

    assert not loaded.multi_label
    assert loaded.predict(examples[:10]) == model.predict(examples[:10])


def test_library_versions_name_python_and_the_libraries() -> None:
    versions = library_versions()
    assert str(versions["python"]).count(".") == 2
    assert versions["sklearn"] and versions["numpy"]
