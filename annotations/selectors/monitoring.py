"""How a model does in production, measured from what annotators accepted and rejected.

Reads only: the figures come from TagDecision rows that record which model version
suggested the tag and with what score.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from annotations.models import Decision, ModelVersion, TagDecision


@dataclass
class TagFigures:
    path: str
    accepted: int = 0
    rejected: int = 0

    @property
    def decided(self) -> int:
        return self.accepted + self.rejected

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.decided if self.decided else None


@dataclass
class Monitoring:
    version: ModelVersion
    decisions: int = 0
    acceptance: float | None = None
    precision_at: dict[int, float | None] = field(default_factory=dict)
    per_tag: list[TagFigures] = field(default_factory=list)
    per_day: list[tuple[date, float, int]] = field(default_factory=list)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)


def model_monitoring(version: ModelVersion, *, ks: tuple[int, ...] = (1, 3, 5)) -> Monitoring:
    rows = list(
        TagDecision.objects.submitted()
        .filter(model_version=version)
        .values_list("annotation_id", "tag__path", "decision", "suggested_score", "decided_at")
        .order_by("annotation_id")
    )
    report = Monitoring(version=version)
    per_tag: dict[str, TagFigures] = {}
    per_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    by_annotation: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    rejected_added: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for annotation_id, path, decision, score, decided_at in rows:
        if decision == Decision.ADD:
            rejected_added[annotation_id][1].append(path)
            continue
        accepted = decision == Decision.ACCEPT
        figures = per_tag.setdefault(path, TagFigures(path))
        figures.accepted += accepted
        figures.rejected += not accepted
        day = per_day[decided_at.date()]
        day[0] += accepted
        day[1] += 1
        if score is not None:
            by_annotation[annotation_id].append((score, accepted))
        if not accepted:
            rejected_added[annotation_id][0].append(path)
    report.decisions = sum(f.decided for f in per_tag.values())
    accepted_total = sum(f.accepted for f in per_tag.values())
    report.acceptance = accepted_total / report.decisions if report.decisions else None
    for k in ks:
        precisions = [
            sum(accepted for _, accepted in sorted(items, reverse=True)[:k]) / k
            for items in by_annotation.values()
            if len(items) >= k
        ]
        report.precision_at[k] = sum(precisions) / len(precisions) if precisions else None
    report.per_tag = sorted(per_tag.values(), key=lambda f: (-f.decided, f.path))
    report.per_day = [(day, acc / total, total) for day, (acc, total) in sorted(per_day.items())]
    pairs: Counter[tuple[str, str]] = Counter()
    for rejected, added in rejected_added.values():
        for wrong in rejected:
            for right in added:
                pairs[(wrong, right)] += 1
    report.confusions = [(wrong, right, n) for (wrong, right), n in pairs.most_common(10)]
    return report
