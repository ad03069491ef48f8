"""The training data: tag sets spelled as in the taxonomy, parents added, rare tags left
out, and the indicator matrix (or classes) that the classifiers learn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from ml.dataset import Example, canonical_tags
from ml.train.config import TrainConfig
from ml.train.labels import LabelSpace, build_label_space

__all__ = ["TrainingData", "TrainingError", "prepare"]


class TrainingError(ValueError):
    """Data that no model can be trained on; the message says what is missing."""


@dataclass
class TrainingData:
    examples: list[Example]
    truth: list[tuple[str, ...]]
    labels: LabelSpace
    Y: npt.NDArray[np.int8]  # videos x tags indicator (single-label: one-hot)
    y: npt.NDArray[np.intp] | None  # single-label classes

    def subset(self, rows: npt.NDArray[np.intp]) -> TrainingData:
        return TrainingData(
            [self.examples[i] for i in rows],
            [self.truth[i] for i in rows],
            self.labels,
            self.Y[rows],
            self.y[rows] if self.y is not None else None,
        )


def prepare(
    examples: Sequence[Example], taxonomy_paths: Sequence[str] | None, config: TrainConfig
) -> tuple[TrainingData, dict[str, Any], list[str]]:
    info: dict[str, Any] = {"videos_given": len(examples)}
    if taxonomy_paths is not None:
        examples, unknown = canonical_tags(examples, taxonomy_paths)
        info["tags_not_in_taxonomy"] = dict(unknown.most_common())
    labelled = [example for example in examples if example.tags]
    info["videos_without_tags"] = len(examples) - len(labelled)
    tag_lists = [example.tags for example in labelled]
    labels = build_label_space(
        tag_lists,
        multi_label=config.multi_label,
        hierarchy=config.hierarchy and config.multi_label,
        min_examples=config.min_tag_examples,
    )
    info["tags_dropped_as_rare"] = dict(sorted(labels.dropped.items()))
    needed = 1 if config.multi_label else 2
    if len(labels.tags) < needed:
        raise TrainingError(
            f"no model can be trained: {len(labelled)} tagged videos give "
            f"{len(labels.tags)} tag(s) with at least {config.min_tag_examples} videos each; "
            f"at least {needed} such tag(s) are needed"
        )
    unused: list[str] = [example.video_id for example in examples if not example.tags]
    if config.multi_label:
        Y = labels.indicator(tag_lists)
        data = TrainingData(labelled, [tuple(t) for t in tag_lists], labels, Y, None)
    else:
        y = labels.targets(tag_lists)
        keep = np.flatnonzero(y >= 0)
        unused += [labelled[i].video_id for i in np.flatnonzero(y < 0)]
        one_hot = np.zeros((len(keep), len(labels.tags)), dtype=np.int8)
        one_hot[np.arange(len(keep)), y[keep]] = 1
        data = TrainingData(
            [labelled[i] for i in keep],
            [(labelled[i].tags[0],) for i in keep],
            labels,
            one_hot,
            y[keep],
        )
    info["videos_used"] = len(data.examples)
    info["tags_learned"] = len(labels.tags)
    return data, info, unused
