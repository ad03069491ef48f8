"""`python -m ml`: train, predict and evaluate on a small CSV written by the test."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ml.cli import main
from ml.synthetic_tags import planted_examples

FAST = ["--search", "none", "--text-mode", "none", "--no-char-ngrams", "--quiet"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    examples, _ = planted_examples(90, 6, seed=21, leaves_per_root=2)
    path = tmp_path_factory.mktemp("cli") / "videos.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "title", "description", "tags"])
        for example in examples:
            # Tags as people type them: no space after the colon.
            tags = ", ".join(tag.replace(": ", ":") for tag in example.tags)
            writer.writerow([example.video_id, example.title, example.description, tags])
    return path


def test_train_then_predict(data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model_dir = tmp_path / "model"
    code = main(
        ["train", "--data", str(data), "--out", str(model_dir), "--embedding-model", "none", *FAST]
    )
    summary = json.loads(capsys.readouterr().out)

    assert code == 0
    assert (model_dir / "manifest.json").is_file()
    assert summary["holdout"]["hierarchical_iou"] > 0.7
    assert summary["tags"] == 9  # 6 leaves and their 3 roots
    assert summary["convergence_warnings"] == 0

    out = tmp_path / "pred.csv"
    code = main(["predict", "--model", str(model_dir), "--data", str(data), "--out", str(out)])

    assert code == 0
    assert json.loads(capsys.readouterr().out)["videos"] == 90
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["video_id", "predicted_tags"]
    predicted = [json.loads(row["predicted_tags"]) for row in rows]
    assert all(isinstance(tags, list) and tags for tags in predicted)
    assert all(tag.startswith("Тема ") for tags in predicted for tag in tags)


def test_an_unavailable_embedding_model_is_reported_and_training_goes_on(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "train",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "m"),
            "--embedding-model",
            "sentence-transformers/not-on-this-machine",
            "--test-size",
            "0",
            *FAST,
        ]
    )
    captured = capsys.readouterr()

    assert code == 0
    assert "note: the sentence embedding model" in captured.err
    assert "trained without sentence embeddings" in captured.err
    assert json.loads(captured.out)["embedding_skipped_reason"]


def test_evaluate_compares_with_the_baseline_on_the_same_folds(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["evaluate", "--data", str(data), "--folds", "3", "--baseline", "--embedding-model",
         "none", "--per-tag", *FAST]
    )  # fmt: skip
    report = json.loads(capsys.readouterr().out)

    assert code == 0
    assert report["folds"] == 3
    model, baseline = report["model"], report["baseline"]
    assert len(model["per_fold"]) == len(baseline["per_fold"]) == 3
    assert [f["videos"] for f in model["per_fold"]] == [f["videos"] for f in baseline["per_fold"]]
    assert sum(f["videos"] for f in model["per_fold"]) == 90
    for metric in ("hierarchical_iou", "f1_micro", "precision_at_1", "precision_at_5"):
        assert 0.0 <= model["summary"][metric]["mean"] <= 1.0
    assert model["summary"]["hierarchical_iou"]["mean"] > 0.7
    assert "Тема 1" in model["per_tag"]
    assert model["convergence_warnings"] == sum(
        f["convergence_warnings"] for f in model["per_fold"]
    )


def test_evaluate_can_print_a_markdown_table(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["evaluate", "--data", str(data), "--folds", "2", "--embedding-model", "none",
         "--markdown", "--cv-folds", "0", *FAST]
    )  # fmt: skip
    table = capsys.readouterr().out

    assert code == 0
    assert table.startswith("| metric (2-fold CV, 90 videos) | model |")
    assert "| hierarchical_iou | 0." in table


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["train", "--data", "absent.csv", "--out", "m"], "absent.csv: no such file"),
        (["predict", "--model", ".", "--data", "x.csv", "--out", "p.csv"], "not a saved model"),
        (["evaluate", "--data", "bad.csv"], "missing column(s) tags"),
        (["evaluate", "--data", "videos.csv", "--folds", "1"], "at least 2 folds"),
        (["train", "--data", "videos.csv", "--out", "m", "--budget", "0"], "search_budget"),
    ],
)
def test_bad_input_exits_with_status_2_and_a_message(
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "videos.csv").write_bytes(data.read_bytes())
    (tmp_path / "bad.csv").write_text("video_id,title,description\na,b,c\n", encoding="utf-8")

    code = main([*arguments, "--quiet"] if arguments[0] != "predict" else arguments)
    err = capsys.readouterr().err

    assert code == 2
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_module_entry_point_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "ml", "predict", "--model", str(tmp_path), "--data", "x.csv",
         "--out", "y.csv"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    assert completed.returncode == 2
    assert "not a saved model folder" in completed.stderr
    assert "Traceback" not in completed.stderr
