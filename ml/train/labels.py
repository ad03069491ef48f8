"""Which tags a model learns, their indicator matrices, and the taxonomy's parent links."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ml.evaluate import expand_tags
from ml.taxonomy import ancestors

__all__ = ["Hierarchy", "LabelSpace", "build_label_space", "first_tags"]


class Hierarchy:
    """Parent links among a model's tags (the nearest ancestor that is itself a tag)."""

    def __init__(self, tags: Sequence[str]) -> None:
        index = {tag: j for j, tag in enumerate(tags)}
        self.parent = np.full(len(tags), -1, dtype=np.intp)
        depth = np.zeros(len(tags), dtype=np.intp)
        for j, tag in enumerate(tags):
            levels = ancestors(tag)
            depth[j] = len(levels)
            for ancestor in reversed(levels[:-1]):
                if ancestor in index:
                    self.parent[j] = index[ancestor]
                    break
        # Children grouped by depth, deepest first, so one pass carries a value to the root.
        self._levels: list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]] = []
        for level in sorted(set(depth.tolist()), reverse=True):
            children = np.flatnonzero((depth == level) & (self.parent >= 0))
            if children.size:
                self._levels.append((children, self.parent[children]))

    @property
    def has_links(self) -> bool:
        return bool(self._levels)

    def propagate_max(self, scores: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Scores in which every parent scores at least as high as each of its children."""
        result = np.array(scores, copy=True)
        columns = result.T
        for children, parents in self._levels:
            np.maximum.at(columns, parents, columns[children])
        return result

    def close(self, chosen: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """The choice with the parents of every chosen tag chosen too."""
        return self.propagate_max(chosen.astype(bool))


@dataclass
class LabelSpace:
    tags: list[str]
    multi_label: bool
    hierarchy: bool
    # Tags left out for having too few videos, with their counts.
    dropped: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {tag: j for j, tag in enumerate(self.tags)}

    def tag_sets(self, tag_lists: Iterable[Sequence[str]]) -> list[set[str]]:
        return [expand_tags(tags) if self.hierarchy else set(tags) for tags in tag_lists]

    def indicator(self, tag_lists: Iterable[Sequence[str]]) -> npt.NDArray[np.int8]:
        """Videos x tags, 1 where the video has the tag (or, with hierarchy, a descendant)."""
        sets = self.tag_sets(tag_lists)
        matrix = np.zeros((len(sets), len(self.tags)), dtype=np.int8)
        for row, tags in enumerate(sets):
            for tag in tags:
                j = self.index.get(tag)
                if j is not None:
                    matrix[row, j] = 1
        return matrix

    def targets(self, tag_lists: Iterable[Sequence[str]]) -> npt.NDArray[np.intp]:
        """Single-label: the class of each video's first tag, -1 where it is not learned."""
        return np.array([self.index.get(tag, -1) for tag in first_tags(tag_lists)], dtype=np.intp)


def first_tags(tag_lists: Iterable[Sequence[str]]) -> list[str]:
    return [tags[0] if tags else "" for tags in tag_lists]


def build_label_space(
    tag_lists: Sequence[Sequence[str]],
    *,
    multi_label: bool,
    hierarchy: bool,
    min_examples: int,
) -> LabelSpace:
    """The tags with at least `min_examples` videos, in a stable order (sorted paths)."""
    counts: Counter[str] = Counter()
    if multi_label:
        for tags in tag_lists:
            counts.update(expand_tags(tags) if hierarchy else set(tags))
    else:
        counts.update(tag for tag in first_tags(tag_lists) if tag)
    kept = sorted(tag for tag, count in counts.items() if count >= min_examples)
    dropped = {tag: count for tag, count in counts.items() if count < min_examples}
    return LabelSpace(kept, multi_label=multi_label, hierarchy=hierarchy, dropped=dropped)
