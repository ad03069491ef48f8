"""A replay of the Rutube videos as if annotated in batches, with auto-confirmation.

    .venv/bin/python -m bench.replay                     # reads ../shared/data/rutube if there
    .venv/bin/python -m bench.replay --targets 0.95,0.9 --batch 50

The videos come in a fixed random order, in batches. Before each batch the model is
retrained on the videos people have labeled so far (zero-shot before there are enough).
For each video of the batch the model proposes its tags with calibrated probabilities:
- when every proposed tag is trusted, the model confirms them (source "model"); a random
  share (``--audit``) of those videos goes to an expert, whose answer (the true tags) is
  evidence about each proposed tag;
- otherwise an annotator labels the video (the true tags), and each tag the model had
  proposed with at least ``--min-score`` is evidence: right if the annotator kept it.
A tag is trusted while the Wilson lower 95 % bound of its precision is at least the
target, the application's bound. Unlike the application, which counts only the promoted
version's own suggestions, the replay pools the evidence of the models of all its batches
(it retrains before each one, with no gate), so it trusts sooner: an upper bound.
Annotators are perfect here, so the figures measure the model and the rule, not people.

Figures per target: the share of videos (and of tag labels) confirmed by the model, the
precision of the model's labels against the true tags (every level of each true tag
counts), the hierarchical IoU of the videos it confirmed, and the human decisions saved:
videos no person looked at, and the tag decisions (accept, reject, add) those would have
taken.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table
from ml.compare import wilson_lower_bound
from ml.dataset import Example, canonical_tags, read_csv
from ml.evaluate import expand_tags, hierarchical_iou
from ml.taxonomy import parse_level_csv
from ml.train import TrainConfig, TrainingError, train
from ml.zero_shot import ZeroShotModel

RUTUBE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "rutube"
CONFIG = TrainConfig(
    search="none", cv_folds=3, test_size=0.0, learning_curve_points=0, embedding_model=None
)
MIN_TRAINING_VIDEOS = 10


@dataclass
class Replay:
    target: float
    videos: int = 0
    by_model: int = 0
    audited: int = 0
    model_labels: int = 0
    model_labels_right: int = 0
    labels: int = 0
    decisions_saved: int = 0
    decisions: int = 0
    ious: list[float] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    trusted_after: int = 0

    def trusted(self, tag: str) -> bool:
        return wilson_lower_bound(self.right[tag], self.checked[tag]) >= self.target


def _decisions(proposed: set[str], truth: set[str]) -> int:
    """What an annotator does on a video: accept or reject each suggestion, add the rest."""
    return len(proposed | truth)


def replay(
    examples: list[Example],
    taxonomy: list[str],
    *,
    target: float,
    batch: int,
    audit: float,
    min_score: float,
    seed: int,
) -> Replay:
    result = Replay(target=target)
    people: list[Example] = []
    rng = random.Random(seed)  # noqa: S311 - a reproducible replay
    for start in range(0, len(examples), batch):
        part = examples[start : start + batch]
        model = None
        if len(people) >= MIN_TRAINING_VIDEOS:
            try:
                model = train(people, taxonomy_paths=taxonomy, config=CONFIG).model
            except TrainingError:
                model = None
        scorer = model if model is not None else ZeroShotModel(taxonomy, examples=people)
        suggestions = scorer.suggest(part, parents=False)
        for example, ranking in zip(part, suggestions, strict=True):
            truth = expand_tags(example.tags)
            proposed = [s for s in ranking if s.above_threshold]
            names = {s.tag for s in proposed}
            result.videos += 1
            result.labels += len(example.tags)
            trusted = (
                model is not None
                and bool(proposed)
                and all(s.score >= min_score and result.trusted(s.tag) for s in proposed)
            )
            if trusted:
                result.by_model += 1
                result.model_labels += len(names)
                result.model_labels_right += len(names & truth)
                result.ious.append(hierarchical_iou([example.tags], [sorted(names)]))
                if rng.random() < audit:
                    result.audited += 1
                    result.decisions += _decisions(names, set(example.tags))
                    for tag in names:
                        result.checked[tag] += 1
                        result.right[tag] += tag in truth
                    people.append(example)
                else:
                    result.decisions_saved += _decisions(names, set(example.tags))
                continue
            result.decisions += _decisions(names, set(example.tags))
            if model is not None:
                for s in proposed:
                    if s.score >= min_score:
                        result.checked[s.tag] += 1
                        result.right[s.tag] += s.tag in truth
            people.append(example)
    result.trusted_after = sum(result.trusted(tag) for tag in result.checked)
    return result


def _best_tag(r: Replay) -> str:
    if not r.checked:
        return "–"
    tag = max(r.checked, key=lambda t: (wilson_lower_bound(r.right[t], r.checked[t]), t))
    bound = wilson_lower_bound(r.right[tag], r.checked[tag])
    return f"{tag}: {bound:.3f} ({r.right[tag]} / {r.checked[tag]})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rutube", type=Path, default=RUTUBE)
    parser.add_argument("--targets", default="0.95,0.9")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--audit", type=float, default=0.05)
    parser.add_argument("--min-score", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    data = options.rutube / "train_dev.csv"
    if not data.is_file():
        raise SystemExit(
            f"{data} is not there: this replay needs the Rutube data (../shared/data/rutube)."
        )
    taxonomy = [e.path for e in parse_level_csv((options.rutube / "iab_taxonomy.csv").read_text())]
    examples, _ = canonical_tags(read_csv(data, require_tags=True), taxonomy)
    examples = [e for e in examples if e.tags]
    random.Random(options.seed).shuffle(examples)  # noqa: S311 - a fixed order
    rows = []
    for target in (float(t) for t in options.targets.split(",")):
        started = time.perf_counter()
        r = replay(
            examples,
            taxonomy,
            target=target,
            batch=options.batch,
            audit=options.audit,
            min_score=options.min_score,
            seed=options.seed,
        )
        precision = r.model_labels_right / r.model_labels if r.model_labels else float("nan")
        iou = sum(r.ious) / len(r.ious) if r.ious else float("nan")
        rows.append(
            [
                f"{target:.2f}",
                f"{r.by_model} of {r.videos} ({r.by_model / r.videos:.1%})",
                f"{r.audited}",
                f"{r.model_labels}",
                f"{precision:.3f}",
                f"{iou:.3f}",
                f"{r.by_model - r.audited} videos, {r.decisions_saved} of "
                f"{r.decisions + r.decisions_saved} tag decisions "
                f"({r.decisions_saved / max(1, r.decisions + r.decisions_saved):.1%})",
                f"{r.trusted_after}",
                _best_tag(r),
                f"{time.perf_counter() - started:.0f}",
            ]
        )
        print(f"target {target}: done", file=sys.stderr, flush=True)
    print(
        f"{len(examples)} videos in batches of {options.batch}, audit share {options.audit}, "
        f"lowest probability confirmed {options.min_score}.\n"
    )
    markdown_table(
        [
            "target precision (lower bound)",
            "videos confirmed by the model",
            "audited",
            "model labels",
            "their precision vs true tags",
            "hier. IoU of those videos",
            "human decisions saved",
            "tags trusted at the end",
            "best-proven tag at the end: lower bound (right / checked)",
            "seconds",
        ],
        rows,
        align=["---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---", "---:"],
    )


if __name__ == "__main__":
    main()
