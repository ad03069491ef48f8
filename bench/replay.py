"""A replay of the Rutube videos annotated in batches, with the application's auto-confirmation.

    .venv/bin/python -m bench.replay                     # reads ../shared/data/rutube if there
    .venv/bin/python -m bench.replay --targets 0.95,0.9,0.8 --batch 50 --trace

The videos arrive in a fixed random order, in batches; annotators are perfect (their tags
are the true ones), so the figures measure the model and the rule, not people. The replay
follows the application's rules:
- retraining: once ``--retrain-labels`` labels from people arrived since the last version
  (and at least 10 videos are labeled), a version is trained on people's labels only (the
  model's own are not training data), with the application's held-out split (20 %);
- the gate: the version is promoted only when it beats the promoted one (the zero-shot
  scorer before any) in hierarchical IoU on the same held-out videos, those the promoted
  one did not train on when there are enough (``ml.compare``, as the application's gate);
- trust, per promoted version: its own evidence only, what it proposed on its held-out
  videos and its suggestions on the videos people labeled (or audited) while it was
  promoted; proposed means chosen on its merits ("likely", at most 8 tags, with at least
  ``--min-score``), never a best guess taken only because a video needs a tag. A tag is
  trusted while the Wilson lower 95 % bound of its precision is at least the target;
- each batch: the promoted version's trust is measured when the batch arrives (as the
  application does when it makes the suggestions of new videos); a video whose every
  proposed tag is trusted is confirmed by the model, and ``--audit`` of those (drawn at
  random) go to an expert; people label the rest.
Unlike the application, training runs without a parameter search and without embeddings
(for time); each version is otherwise trained as the application trains it.

Figures per target: the share of videos (and of tag labels) confirmed by the model, the
precision of the model's labels against the true tags (every level of each true tag
counts), the hierarchical IoU of the videos it confirmed, the human decisions saved (videos
no person looked at, and the tag decisions, accept, reject or add, those would have taken),
the versions trained and promoted, and the last promoted version's trust.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import markdown_table
from ml.compare import compare_scorers, gate_videos
from ml.dataset import Example, canonical_tags, read_csv
from ml.evaluate import expand_tags, hierarchical_iou
from ml.taxonomy import parse_level_csv
from ml.train import TrainConfig, TrainingError, train
from ml.train.model import TagModel
from ml.trust import Evidence, likely_tags, tally
from ml.zero_shot import ZeroShotModel

RUTUBE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "rutube"
# The application's training but for the search and the embeddings; its held-out split.
CONFIG = TrainConfig(search="none", cv_folds=3, learning_curve_points=0, embedding_model=None)
# The application's defaults: MIN_TRAINING_VIDEOS, SUGGESTIONS_SHOWN, PROMOTION_METRIC and
# PROMOTION_MARGIN, and how many confirmed videos the zero-shot scorer learns from.
MIN_TRAINING_VIDEOS = 10
SHOWN = 8
METRIC = "hierarchical_iou"
MARGIN = 0.0
ZERO_SHOT_EXAMPLES = 500


@dataclass
class Version:
    number: int
    model: TagModel
    trained_on: frozenset[str]
    # (tag, right) of each proposal checked against people's tags, held-out ones first.
    checks: list[tuple[str, bool]] = field(default_factory=list)
    held_out_checks: int = 0

    def evidence(self) -> dict[str, Evidence]:
        return tally(self.checks)


@dataclass
class Replay:
    target: float
    videos: int = 0
    by_model: int = 0
    first_by_model: int | None = None
    audited: int = 0
    model_labels: int = 0
    model_labels_right: int = 0
    decisions_saved: int = 0
    decisions: int = 0
    ious: list[float] = field(default_factory=list)
    trained: int = 0
    promoted: list[Version] = field(default_factory=list)

    @property
    def current(self) -> Version | None:
        return self.promoted[-1] if self.promoted else None


def _decisions(proposed: set[str], truth: set[str]) -> int:
    """What an annotator does on a video: accept or reject each suggestion, add the rest."""
    return len(proposed | truth)


def _checks(
    proposals: dict[str, list[tuple[str, float]]], truth: dict[str, Example], min_score: float
) -> list[tuple[str, bool]]:
    """(tag, right) of each proposal with at least ``min_score``, against people's tags."""
    return [
        (tag, tag in expand_tags(truth[video_id].tags))
        for video_id, row in proposals.items()
        for tag, score in row
        if score >= min_score
    ]


def _retrain(
    result: Replay, people: list[Example], taxonomy: list[str], *, min_score: float
) -> str:
    """Train a version on people's labels and promote it if it passes the gate; in words."""
    number = result.trained + 1
    try:
        trained = train(people, taxonomy_paths=taxonomy, config=replace(CONFIG, seed=number))
    except TrainingError as exc:
        return f"training failed: {exc}"
    result.trained = number
    by_id = {example.video_id: example for example in people}
    held_out = [by_id[video_id] for video_id in trained.split["holdout"]]
    if not held_out:
        return f"v{number}: no held-out videos, kept as a candidate"
    current = result.current
    reference: TagModel | ZeroShotModel
    if current is None:
        excluded = {example.video_id for example in held_out}
        known = [e for e in people if e.video_id not in excluded][-ZERO_SHOT_EXAMPLES:]
        reference = ZeroShotModel(taxonomy, examples=known, min_tags=1)
        evaluation, name = held_out, "zero-shot"
    else:
        evaluation, _ = gate_videos(held_out, current.trained_on)
        reference, name = current.model, f"v{current.number}"
    comparison = compare_scorers(evaluation, trained.model, reference, metric=METRIC, seed=number)
    verdict = f"v{number} {comparison.candidate:.3f} vs {name} {comparison.reference:.3f}"
    if comparison.difference <= MARGIN:
        return f"{verdict}: kept as a candidate"
    version = Version(number, trained.model, frozenset(trained.split["train"]))
    version.checks = _checks(likely_tags(trained.model, held_out, limit=SHOWN), by_id, min_score)
    version.held_out_checks = len(version.checks)
    result.promoted.append(version)
    return f"{verdict}: promoted, {version.held_out_checks} held-out checks"


def replay(
    examples: list[Example],
    taxonomy: list[str],
    *,
    target: float,
    batch: int,
    audit: float,
    min_score: float,
    retrain_labels: int,
    seed: int,
    trace: bool = False,
) -> Replay:
    result = Replay(target=target)
    people: list[Example] = []
    new_labels = 0
    rng = random.Random(seed)  # noqa: S311 - a reproducible replay
    for start in range(0, len(examples), batch):
        if len(people) >= MIN_TRAINING_VIDEOS and new_labels >= retrain_labels:
            trained = result.trained
            note = _retrain(result, people, taxonomy, min_score=min_score)
            if trace:
                print(f"  {note}", file=sys.stderr, flush=True)
            # As in the application, a failed training leaves no version to count from.
            new_labels = 0 if result.trained > trained else new_labels
        current = result.current
        trusted = {
            tag
            for tag, found in (current.evidence() if current else {}).items()
            if found.lower_bound >= target
        }
        part = examples[start : start + batch]
        scorer = (
            current.model
            if current
            else ZeroShotModel(taxonomy, examples=people[-ZERO_SHOT_EXAMPLES:])
        )
        proposals = likely_tags(scorer, part, limit=SHOWN)
        confirmed_before = result.by_model
        for example in part:
            proposed = {tag for tag, score in proposals.get(example.video_id, [])}
            truth = set(example.tags)
            result.videos += 1
            by_model = (
                current is not None
                and bool(proposed)
                and all(
                    score >= min_score and tag in trusted
                    for tag, score in proposals[example.video_id]
                )
            )
            if by_model:
                result.by_model += 1
                if result.first_by_model is None:
                    result.first_by_model = result.videos
                result.model_labels += len(proposed)
                result.model_labels_right += len(proposed & expand_tags(example.tags))
                result.ious.append(hierarchical_iou([example.tags], [sorted(proposed)]))
                if rng.random() >= audit:
                    result.decisions_saved += _decisions(proposed, truth)
                    continue
                result.audited += 1
            result.decisions += _decisions(proposed, truth)
            people.append(example)
            new_labels += len(example.tags)
            if current is not None:
                current.checks += _checks(
                    {example.video_id: proposals.get(example.video_id, [])},
                    {example.video_id: example},
                    min_score,
                )
        if trace:
            name = f"v{current.number}" if current else "zero-shot"
            print(
                f"  videos {start + 1}-{start + len(part)}: {name}, {len(trusted)} tags "
                f"trusted, {result.by_model - confirmed_before} confirmed by the model",
                file=sys.stderr,
                flush=True,
            )
    return result


def _final_trust(r: Replay) -> tuple[str, str]:
    """The last promoted version's trusted tags, and its best-proven tag."""
    current = r.current
    evidence = current.evidence() if current else {}
    if current is None or not evidence:
        return "0", "–"
    trusted = sum(found.lower_bound >= r.target for found in evidence.values())
    tag = max(evidence, key=lambda t: (evidence[t].lower_bound, t))
    found = evidence[tag]
    held = sum(checked_tag == tag for checked_tag, _ in current.checks[: current.held_out_checks])
    return (
        f"{trusted} (v{current.number})",
        f"{tag}: {found.lower_bound:.3f} ({found.right} / {found.checked}, {held} held out)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rutube", type=Path, default=RUTUBE)
    parser.add_argument("--targets", default="0.95,0.9,0.8")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--audit", type=float, default=0.05)
    parser.add_argument("--min-score", type=float, default=0.5)
    parser.add_argument("--retrain-labels", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--videos", type=int, default=0, help="only the first N (0: all)")
    parser.add_argument("--trace", action="store_true", help="a line per batch, on stderr")
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
    examples = examples[: options.videos or None]
    rows = []
    for target in (float(t) for t in options.targets.split(",")):
        print(f"target {target}:", file=sys.stderr, flush=True)
        started = time.perf_counter()
        r = replay(
            examples,
            taxonomy,
            target=target,
            batch=options.batch,
            audit=options.audit,
            min_score=options.min_score,
            retrain_labels=options.retrain_labels,
            seed=options.seed,
            trace=options.trace,
        )
        precision = r.model_labels_right / r.model_labels if r.model_labels else float("nan")
        iou = sum(r.ious) / len(r.ious) if r.ious else float("nan")
        trusted, best = _final_trust(r)
        rows.append(
            [
                f"{target:.2f}",
                f"{r.by_model} of {r.videos} ({r.by_model / r.videos:.1%})",
                str(r.first_by_model or "–"),
                f"{r.audited}",
                f"{r.model_labels}",
                f"{precision:.3f}",
                f"{iou:.3f}",
                f"{r.by_model - r.audited} videos, {r.decisions_saved} of "
                f"{r.decisions + r.decisions_saved} tag decisions "
                f"({r.decisions_saved / max(1, r.decisions + r.decisions_saved):.1%})",
                f"{len(r.promoted)} of {r.trained}",
                trusted,
                best,
                f"{time.perf_counter() - started:.0f}",
            ]
        )
    print(
        f"{len(examples)} videos in batches of {options.batch}, retraining after "
        f"{options.retrain_labels} new labels, audit share {options.audit}, lowest probability "
        f"confirmed {options.min_score}.\n"
    )
    markdown_table(
        [
            "target precision (lower bound)",
            "videos confirmed by the model",
            "first one (video #)",
            "audited",
            "model labels",
            "their precision vs true tags",
            "hier. IoU of those videos",
            "human decisions saved",
            "versions promoted (of trained)",
            "tags trusted at the end",
            "best-proven tag at the end: lower bound (right / checked)",
            "seconds",
        ],
        rows,
        align=["---:"] * 10 + ["---", "---:"],
    )


if __name__ == "__main__":
    main()
