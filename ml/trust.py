"""Evidence of a model's precision per tag: the tags it proposed, checked against people's.

What counts as proposed is what the model chose on its merits ("likely"), never a tag it
took only because a prediction needs one, and never the parent of a chosen tag (the
suggestions leave those out: choosing the child says it). A proposal is right when the
video's true tags include it or one of its children. The trust rule reads the Wilson lower
95 % bound of the share right, so a few lucky checks do not make a tag trusted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ml.compare import wilson_lower_bound
from ml.dataset import Example
from ml.train.model import TagScorer

__all__ = ["Evidence", "likely_tags", "tally"]

Key = TypeVar("Key", bound=Hashable)
# Scores are kept to the precision the application stores suggestions with, so a stored
# proposal and a live suggestion compare with the lowest probability the same way.
SCORE_DIGITS = 4


@dataclass(frozen=True)
class Evidence:
    checked: int
    right: int

    @property
    def lower_bound(self) -> float:
        return wilson_lower_bound(self.right, self.checked)


def likely_tags(
    model: TagScorer, examples: Sequence[Example], *, limit: int | None = None
) -> dict[str, list[tuple[str, float]]]:
    """Per video id, the tags ``model`` proposes for it (at most ``limit``), best first,
    each with its probability; videos with none are left out."""
    rows = model.suggest(list(examples), limit=limit, extra=0, parents=False)
    return {
        example.video_id: [(s.tag, round(s.score, SCORE_DIGITS)) for s in row]
        for example, row in zip(examples, rows, strict=True)
        if row
    }


def tally(checks: Iterable[tuple[Key, bool]]) -> dict[Key, Evidence]:
    """Per tag, how many of its proposals were checked and how many were right."""
    checked: Counter[Key] = Counter()
    right: Counter[Key] = Counter()
    for tag, correct in checks:
        checked[tag] += 1
        right[tag] += correct
    return {tag: Evidence(checked[tag], right[tag]) for tag in checked}
