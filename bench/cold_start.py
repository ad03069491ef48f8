"""Cold-start suggestions (zero-shot) measured on the demo videos and the Rutube data.

    .venv/bin/python -m bench.cold_start                 # reads ../shared/data/rutube if there

Zero-shot scores every tag of the taxonomy for a video's text; the rows differ in what it
may use: the tag names alone (their lemmas, the leaf twice, the parents once), and then
also the words of videos already confirmed (the demo's 24 imported ones; the first 50 or
200 Rutube videos), the rest being the videos scored. Figures: the share of videos that
get any suggestion, the first suggestion right (precision@1), and the hierarchical IoU
of the best tag with its parents. No embedding model is used (none is available offline
here); with one configured, its similarity is averaged in.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from annotations.demo.catalog import DEMO_VIDEOS
from bench.common import markdown_table
from ml.dataset import Example, canonical_tags, read_csv
from ml.evaluate import hierarchical_iou, precision_at_k
from ml.taxonomy import parse_json, parse_level_csv
from ml.zero_shot import ZeroShotModel

ROOT = Path(__file__).resolve().parent.parent
RUTUBE = ROOT.parent / "shared" / "data" / "rutube"
# Every third demo video is left for the annotators by `setup_demo`.
DEMO_UNLABELED_EVERY = 3


def _demo() -> tuple[list[Example], list[Example], list[str]]:
    paths = [e.path for e in parse_json((ROOT / "annotations/demo/taxonomy.json").read_text())]
    examples = [
        Example(
            video_id=v.video_id,
            title=v.title,
            description=v.description,
            transcript=" ".join(text for _, _, text in v.narration),
            tags=v.tags,
        )
        for v in DEMO_VIDEOS
    ]
    unlabeled = examples[DEMO_UNLABELED_EVERY - 1 :: DEMO_UNLABELED_EVERY]
    labeled = [e for e in examples if e not in unlabeled]
    return labeled, unlabeled, paths


def _figures(model: ZeroShotModel, examples: Sequence[Example]) -> list[str]:
    scores = model.scores(examples)
    predicted = model.tag_sets(examples)
    truth = [e.tags for e in examples]
    any_share = float(np.mean(scores.max(axis=1) > 0)) if len(examples) else 0.0
    return [
        f"{len(examples)}",
        f"{any_share:.2f}",
        f"{precision_at_k(truth, scores, model.tags, 1):.3f}",
        f"{hierarchical_iou(truth, predicted):.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rutube", type=Path, default=RUTUBE)
    options = parser.parse_args()
    rows = []
    labeled, unlabeled, demo_paths = _demo()
    rows.append(["demo", "tag names", *_figures(ZeroShotModel(demo_paths, min_tags=1), unlabeled)])
    rows.append(
        [
            "demo",
            f"tag names + {len(labeled)} confirmed videos",
            *_figures(ZeroShotModel(demo_paths, examples=labeled, min_tags=1), unlabeled),
        ]
    )
    data = options.rutube / "train_dev.csv"
    if data.is_file():
        paths = [e.path for e in parse_level_csv((options.rutube / "iab_taxonomy.csv").read_text())]
        examples, _ = canonical_tags(read_csv(data, require_tags=True), paths)
        random.Random(0).shuffle(examples)  # noqa: S311 - a fixed order
        rest = examples[200:]
        rows.append(["Rutube", "tag names", *_figures(ZeroShotModel(paths, min_tags=1), rest)])
        for seen in (50, 200):
            model = ZeroShotModel(paths, examples=examples[:seen], min_tags=1)
            rows.append(["Rutube", f"tag names + {seen} confirmed videos", *_figures(model, rest)])
    else:
        print(f"note: {data} is not there; only the demo is measured.\n")
    markdown_table(
        ["data", "zero-shot uses", "videos scored", "get a suggestion", "precision@1", "hier. IoU"],
        rows,
        align=["---", "---", "---:", "---:", "---:", "---:"],
    )


if __name__ == "__main__":
    main()
