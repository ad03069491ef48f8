"""Time training and prediction of the tag model on generated videos; print Markdown tables.

    .venv/bin/python -m bench.model                          # 100,000 videos, 500 tags
    .venv/bin/python -m bench.model --videos 10000 --tags 100 --scaling ""

Videos come from `ml.synthetic_tags` (planted tag words in noise, 1-3 tags each, popular
tags more frequent). "Features cached" as in production: every video's processed text is
computed once (in the pipeline, at ingest) and reused, so the first pass over the texts
is timed on its own, and training then reads the cache. In the same run, the scaling
table trains the same configuration on fewer videos and tags, to show how time grows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table, peak_rss_mb, percentile, timed
from ml.artifacts import load_model, save_model
from ml.dataset import Example
from ml.features import processed_document
from ml.synthetic_tags import planted_examples
from ml.text import protected_words
from ml.train import TagModel, TrainConfig, train

# Settings for large catalogues: no search (its budget multiplies the fits), thresholds
# tuned on 2-fold out-of-fold scores, word 1-2-grams capped; character n-grams are left
# out at this size, their vocabulary counting alone taking minutes in scikit-learn.
BENCH_CONFIG = TrainConfig(
    search="none",
    cv_folds=2,
    test_size=0.2,
    text_mode="lemma",
    use_char_ngrams=False,
    word_max_features=50_000,
    class_weight="balanced",
    C=4.0,
)


class _StageClock:
    """Collects the time spent between progress messages, grouped by stage."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.stage = "labels and split"
        self.totals: dict[str, float] = {}

    def __call__(self, message: str, fraction: float) -> None:
        now = time.perf_counter()
        self.totals[self.stage] = self.totals.get(self.stage, 0.0) + now - self.last
        self.last = now
        if message.startswith("fold") and "features" in message:
            self.stage = "out-of-fold: features"
        elif message.startswith("fold"):
            self.stage = "out-of-fold: classifiers"
        elif message.startswith("best of"):
            self.stage = "thresholds and CV figures"
        elif message.startswith("final model"):
            self.stage = "final model"
        elif message.startswith("held-out"):
            self.stage = "held-out evaluation"


def _warm_texts(examples: Sequence[Example], config: TrainConfig, taxonomy: list[str]) -> float:
    protected = protected_words(taxonomy)  # as training does, so the cache entries match
    _, seconds = timed(
        lambda: [
            processed_document(
                e, mode=config.text_mode, protected=protected, title_repeat=config.title_repeat
            )
            for e in examples
        ]
    )
    return seconds


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _spread(values: Sequence[float]) -> str:
    return (
        f"median {_ms(statistics.median(values))}, "
        f"p10–p90 {_ms(percentile(values, 0.1))}–{_ms(percentile(values, 0.9))}, "
        f"max {_ms(max(values))}"
    )


def _train_run(
    n_videos: int, n_tags: int, config: TrainConfig, seed: int
) -> tuple[TagModel, dict[str, Any]]:
    examples, taxonomy = planted_examples(n_videos, n_tags, seed=seed, leaves_per_root=5)
    text_seconds = _warm_texts(examples, config, taxonomy)
    clock = _StageClock()
    result, seconds = timed(
        lambda: train(examples, taxonomy_paths=taxonomy, config=config, progress=clock)
    )
    clock("done", 1.0)
    return result.model, {
        "videos": n_videos,
        "tags": len(result.model.tags),
        "features": result.model.features.n_features,
        "text_seconds": text_seconds,
        "train_seconds": seconds,
        "stages": clock.totals,
        "hierarchical_iou": result.metrics["holdout"]["hierarchical_iou"],
        "precision_at_1": result.metrics["holdout"]["precision_at_1"],
    }


def _predictor(model: TagModel, example: Example) -> Callable[[], object]:
    return lambda: model.predict([example])


def _predict_rows(
    model: TagModel, n_tags: int, repeats: int, batch: int, seed: int
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    singles, _ = planted_examples(repeats, n_tags, seed=seed + 1, leaves_per_root=5)
    model.predict(singles[:5])  # first-call costs (imports, caches) are not per-video costs
    times = [timed(_predictor(model, e))[1] for e in singles[5:]]
    rows.append((f"predict 1 video, new text ({len(times)} runs)", _spread(times)))
    texts_cached = [timed(_predictor(model, e))[1] for e in singles[5:]]
    rows.append((f"predict 1 video, text cached ({len(texts_cached)} runs)", _spread(texts_cached)))
    many, _ = planted_examples(batch, n_tags, seed=seed + 2, leaves_per_root=5)
    _, cold = timed(lambda: model.predict(many))
    rows.append((f"predict {batch:,} videos, new texts", f"{cold:.2f} s"))
    warm = [timed(lambda: model.predict(many))[1] for _ in range(3)]
    rows.append(
        (
            f"predict {batch:,} videos, texts cached (3 runs)",
            f"median {statistics.median(warm):.2f} s, min {min(warm):.2f}, max {max(warm):.2f}",
        )
    )
    return rows


def _artifact_rows(model: TagModel) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as directory:
        _, save_seconds = timed(lambda: save_model(model, Path(directory), metadata={}))
        size = sum(p.stat().st_size for p in Path(directory).iterdir()) / 2**20
        _, load_seconds = timed(lambda: load_model(directory))
    return [
        ("artifact size", f"{size:.1f} MiB"),
        ("save / load", f"{save_seconds:.1f} s / {load_seconds:.1f} s"),
    ]


def _parse_scaling(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        videos, tags = item.lower().split("x")
        sizes.append((int(videos), int(tags)))
    return sizes


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--videos", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=205, help="single-video predictions")
    parser.add_argument("--batch", type=int, default=10_000, help="videos in the batch prediction")
    parser.add_argument(
        "--scaling",
        default="10000x100,10000x500,30000x500",
        help="other sizes to train, VIDEOSxTAGS, comma-separated ('' for none)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="classifier fits in parallel")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    config = replace(BENCH_CONFIG, n_jobs=args.jobs, seed=args.seed)

    runs = []
    for n_videos, n_tags in [*_parse_scaling(args.scaling), (args.videos, args.tags)]:
        model, figures = _train_run(n_videos, n_tags, config, args.seed)
        runs.append(figures)
        print(
            f"trained {n_videos:,} videos x {n_tags} tags in {figures['train_seconds']:.0f} s",
            flush=True,
        )

    main_run = runs[-1]
    print(f"\n## Tag model, {args.videos:,} videos, {args.tags} leaf tags (parents added)\n")
    print(
        f"Config: {config.classifier}, C={config.C}, class_weight={config.class_weight}, "
        f"search={config.search}, threshold folds={config.cv_folds}, text={config.text_mode}, "
        f"char n-grams={config.use_char_ngrams}, word features <= {config.word_max_features}, "
        f"jobs={config.n_jobs}\n"
    )
    rows = [
        [
            "text processing, once per video (cached afterwards)",
            f"{main_run['text_seconds']:.1f} s",
        ],
        ["**training**", f"**{main_run['train_seconds']:.1f} s**"],
        *([f"  {stage}", f"{seconds:.1f} s"] for stage, seconds in main_run["stages"].items()),
        *(
            list(row)
            for row in _predict_rows(model, args.tags, args.repeats, args.batch, args.seed)
        ),
        *(list(row) for row in _artifact_rows(model)),
        ["peak memory (RSS)", f"{peak_rss_mb() / 1024:.1f} GiB"],
        [
            "held-out hIoU / P@1",
            f"{main_run['hierarchical_iou']:.3f} / {main_run['precision_at_1']:.3f}",
        ],
    ]
    markdown_table(["step", "time"], rows)

    print("\n## Scaling (same configuration, same run)\n")
    headers = [
        "videos",
        "tags learned",
        "features",
        "text processing",
        "training",
        "out-of-fold classifiers",
        "final model",
        "training per tag per 1,000 videos",
    ]
    scaling = []
    for run in runs:
        per_unit = run["train_seconds"] / run["tags"] / (run["videos"] / 1000)
        stages = run["stages"]
        scaling.append(
            [
                f"{run['videos']:,}",
                str(run["tags"]),
                f"{run['features']:,}",
                f"{run['text_seconds']:.1f} s",
                f"{run['train_seconds']:.1f} s",
                f"{stages.get('out-of-fold: classifiers', 0.0):.1f} s",
                f"{stages.get('final model', 0.0):.1f} s",
                _ms(per_unit),
            ]
        )
    markdown_table(headers, scaling, align="---:")


if __name__ == "__main__":
    main()
