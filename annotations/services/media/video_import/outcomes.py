"""What became of each imported row, and the counts that end an import."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class RowOutcome:
    line: int
    status: str  # "imported", "skipped" or "failed"
    message: str = ""
    external_id: str = ""
    video_id: int | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """The outcome of every row (unless ``keep_outcomes`` is off) and the counts of each.

    A manifest of a million rows is imported with ``keep_outcomes`` off: its progress
    callback has seen every outcome, and the counts are all the report keeps, so memory
    does not grow with the manifest.
    """

    outcomes: list[RowOutcome] = field(default_factory=list)
    keep_outcomes: bool = True
    _counts: Counter[str] = field(default_factory=Counter, repr=False)
    _warned: int = field(default=0, repr=False)

    def add(self, outcome: RowOutcome) -> None:
        self._counts[outcome.status] += 1
        self._warned += bool(outcome.warnings)
        if self.keep_outcomes:
            self.outcomes.append(outcome)

    @property
    def counts(self) -> Counter[str]:
        return Counter(self._counts)

    def summary(self) -> str:
        counts = self._counts
        text = (
            f"{counts['imported']} imported, {counts['skipped']} skipped, {counts['failed']} failed"
        )
        return f"{text} ({self._warned} with warnings)" if self._warned else text
