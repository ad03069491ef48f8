"""``python -m ml``: train, predict and evaluate tag models on CSV files, without Django.

Progress goes to stderr and results to stdout (JSON, or a Markdown table on request).
A problem with the input (a missing file, a bad CSV, a model folder that cannot be
used) ends with a one-line message and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ml.artifacts import ArtifactError, json_ready, load_model, save_model
from ml.dataset import DatasetError, read_csv, write_predictions_csv
from ml.embed import EmbeddingCache
from ml.errors import ModelUnavailable
from ml.features import FeatureError
from ml.taxonomy import TaxonomyFormatError, paths_of, read_taxonomy_file
from ml.train import DEFAULT_EMBEDDING_MODEL, TrainConfig, TrainingError, train
from ml.train.crossval import HEADLINE_METRICS, comparison_table, cross_validate

__all__ = ["main"]

EMBEDDING_ENV = "ML_EMBEDDING_MODEL"
_USAGE_ERROR = 2


class _Progress:
    """Prints "[ 42%] message" lines to stderr, skipping repeats."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.last = ""
        self.started = time.perf_counter()

    def __call__(self, message: str, fraction: float) -> None:
        line = f"[{fraction * 100:3.0f}%] {message}"
        if self.quiet or line == self.last:
            return
        self.last = line
        elapsed = time.perf_counter() - self.started
        print(f"{line} ({elapsed:.0f} s)", file=sys.stderr, flush=True)


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--taxonomy", type=Path, help="taxonomy file (CSV levels, text or JSON)")
    parser.add_argument(
        "--single-label", action="store_true", help="exactly one tag per video (multinomial)"
    )
    parser.add_argument(
        "--embedding-model",
        default=os.environ.get(EMBEDDING_ENV, DEFAULT_EMBEDDING_MODEL),
        help=f"sentence-transformers model name or folder (default: ${EMBEDDING_ENV} or "
        f"{DEFAULT_EMBEDDING_MODEL}); 'none' for no embeddings",
    )
    parser.add_argument("--embedding-cache", type=Path, help="folder to cache embeddings in")
    parser.add_argument("--classifier", choices=["logreg", "linear_svm"], default="logreg")
    parser.add_argument("--search", choices=["none", "grid", "random"], default="random")
    parser.add_argument("--budget", type=int, default=8, help="parameter sets the search tries")
    parser.add_argument(
        "--cv-folds", type=int, default=3, help="folds for the search and threshold tuning"
    )
    parser.add_argument("--text-mode", choices=["lemma", "stem", "none"], default="lemma")
    parser.add_argument("--C", type=float, default=TrainConfig.C, dest="C")
    parser.add_argument("--no-char-ngrams", action="store_true")
    parser.add_argument("--no-hierarchy", action="store_true", help="learn tags without parents")
    parser.add_argument(
        "--decision",
        choices=["auto", "thresholds", "expected_iou"],
        default="auto",
        help="how tags are chosen: per-tag thresholds, the best expected IoU from calibrated "
        "probabilities, or whichever did better out of fold (default)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="classifiers fitted in parallel")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")


def _config(args: argparse.Namespace, **extra: Any) -> TrainConfig:
    embedding = args.embedding_model
    try:
        return _build_config(args, embedding, extra)
    except ValueError as exc:  # settings that do not fit together
        raise TrainingError(str(exc)) from None


def _build_config(args: argparse.Namespace, embedding: str, extra: dict[str, Any]) -> TrainConfig:
    return TrainConfig(
        multi_label=not args.single_label,
        classifier=args.classifier,
        embedding_model=None if embedding.strip().lower() in {"", "none"} else embedding,
        search=args.search,
        search_budget=args.budget,
        cv_folds=args.cv_folds,
        text_mode=args.text_mode,
        C=args.C,
        use_char_ngrams=not args.no_char_ngrams,
        hierarchy=not args.no_hierarchy,
        decision=args.decision,
        seed=args.seed,
        n_jobs=args.jobs,
        **extra,
    )


def _taxonomy(args: argparse.Namespace) -> list[str] | None:
    if args.taxonomy is None:
        return None
    if not args.taxonomy.is_file():
        raise DatasetError(f"{args.taxonomy}: no such file")
    return paths_of(read_taxonomy_file(args.taxonomy))


def _cache(args: argparse.Namespace) -> EmbeddingCache | None:
    return EmbeddingCache(args.embedding_cache) if args.embedding_cache else None


def _headline(figures: dict[str, Any]) -> dict[str, Any]:
    return {name: figures[name] for name in HEADLINE_METRICS if name in figures}


def _print_json(data: Any) -> None:
    print(json.dumps(json_ready(data), ensure_ascii=False, indent=2))


def _run_train(args: argparse.Namespace) -> int:
    config = _config(args, test_size=args.test_size, refit_full=args.refit_full)
    examples = read_csv(args.data, require_tags=True)
    taxonomy = _taxonomy(args)
    result = train(
        examples,
        taxonomy_paths=taxonomy,
        config=config,
        progress=_Progress(args.quiet),
        embedding_cache=_cache(args),
    )
    reason = result.model.features.embedding_skipped_reason
    if reason:
        _note(f"{reason}; trained without sentence embeddings")
    save_model(
        result.model,
        args.out,
        metadata={"metrics": result.metrics, "split": result.split, "data": str(args.data)},
    )
    summary: dict[str, Any] = {
        "model": str(args.out),
        "tags": len(result.model.tags),
        "videos": result.metrics["data"]["videos_used"],
        "params": result.params,
        "convergence_warnings": result.metrics["convergence_warnings"],
        "embedding_skipped_reason": reason,
    }
    if "holdout" in result.metrics:
        summary["holdout"] = _headline(result.metrics["holdout"])
    if "cv" in result.metrics:
        summary["cv"] = {
            name: figure["mean"]
            for name, figure in result.metrics["cv"]["summary"].items()
            if name in HEADLINE_METRICS
        }
    _print_json(summary)
    return 0


def _run_predict(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    examples = read_csv(args.data)
    if model.features.embedding_model and args.embedding_cache:
        model.features.embedding_cache = EmbeddingCache(args.embedding_cache)
    predictions = model.predict(examples, top_k=args.top_k)
    rows = [
        (example.video_id, [tag for tag, _ in tags])
        for example, tags in zip(examples, predictions, strict=True)
    ]
    count = write_predictions_csv(args.out, rows)
    _print_json({"videos": count, "out": str(args.out), "tags": len(model.tags)})
    return 0


def _run_evaluate(args: argparse.Namespace) -> int:
    config = _config(args)
    examples = read_csv(args.data, require_tags=True)
    report = cross_validate(
        examples,
        config=config,
        folds=args.folds,
        baseline=args.baseline,
        taxonomy_paths=_taxonomy(args),
        progress=_Progress(args.quiet),
        embedding_cache=_cache(args),
    )
    if report["embedding_skipped_reason"]:
        _note(f"{report['embedding_skipped_reason']}; evaluated without sentence embeddings")
    if not args.per_tag:
        for system in ("model", "baseline"):
            report.get(system, {}).pop("per_tag", None)
    if args.markdown:
        print(comparison_table(report))
    else:
        _print_json(report)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)

    train_parser = commands.add_parser("train", help="train a model and save it in a folder")
    train_parser.add_argument("--data", type=Path, required=True, help="CSV with tags")
    train_parser.add_argument("--out", type=Path, required=True, help="folder for the model")
    train_parser.add_argument("--test-size", type=float, default=0.2)
    train_parser.add_argument(
        "--refit-full", action="store_true", help="after evaluation, refit on all videos"
    )
    _add_model_options(train_parser)
    train_parser.set_defaults(run=_run_train)

    predict_parser = commands.add_parser("predict", help="write predicted tags to a CSV")
    predict_parser.add_argument("--model", type=Path, required=True, help="a saved model folder")
    predict_parser.add_argument("--data", type=Path, required=True, help="CSV of videos")
    predict_parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    predict_parser.add_argument("--top-k", type=int, default=None, help="at most this many tags")
    predict_parser.add_argument("--embedding-cache", type=Path)
    predict_parser.set_defaults(run=_run_predict)

    evaluate_parser = commands.add_parser(
        "evaluate", help="k-fold cross-validation of the pipeline (and the baseline)"
    )
    evaluate_parser.add_argument("--data", type=Path, required=True, help="CSV with tags")
    evaluate_parser.add_argument("--folds", type=int, default=5)
    evaluate_parser.add_argument(
        "--baseline", action="store_true", help="also TF-IDF + logistic regression, same folds"
    )
    evaluate_parser.add_argument("--per-tag", action="store_true", help="include per-tag figures")
    evaluate_parser.add_argument(
        "--markdown", action="store_true", help="print a Markdown table instead of JSON"
    )
    _add_model_options(evaluate_parser)
    evaluate_parser.set_defaults(run=_run_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (
        DatasetError,
        TaxonomyFormatError,
        ArtifactError,
        TrainingError,
        FeatureError,
        ModelUnavailable,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return _USAGE_ERROR
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return _USAGE_ERROR
