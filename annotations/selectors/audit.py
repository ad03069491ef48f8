"""The label store's invariants, checked on the data: what a bug or a hand edit would break.

- every confirmed tag has a history entry that created it, and the history's last word
  on it is not "removed"; every tag the history says is confirmed is there;
- every confirmed tag has a human or audited source: a reviewer for "review", the
  annotators' submitted choices for "agreement", the import for "import";
- no decision, confirmed label, suggestion or history entry names a tag of another
  project.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from annotations.models import (
    ConfirmedLabel,
    LabelChange,
    LabelSource,
    Project,
    Suggestion,
    TagDecision,
)

# The history actions after which a tag is on the video.
_ON = (LabelChange.Action.ADDED, LabelChange.Action.CONFIRMED)


# Stable codes for scripts, and what each means for a person.
RULES = {
    "no history": gettext_lazy("No history entry created this confirmed tag"),
    "history disagrees": gettext_lazy("The history says this tag was removed"),
    "removed without a record": gettext_lazy("Removed without a history entry"),
    "unknown source": gettext_lazy("Unknown source"),
    "no reviewer": gettext_lazy("Confirmed by review, reviewer unknown"),
    "agreement without answers": gettext_lazy("Confirmed by agreement, but no answer chose it"),
    "tag of another project": gettext_lazy("Names a tag of another project"),
}


@dataclass(frozen=True)
class Violation:
    rule: str  # a key of RULES
    video_id: int
    tag_id: int
    detail: str

    @property
    def title(self) -> str:
        return str(RULES[self.rule])

    def __str__(self) -> str:
        return f"{self.rule}: video {self.video_id}, tag {self.tag_id}: {self.detail}"


def _last_action() -> Subquery:
    return Subquery(
        LabelChange.objects.filter(video=OuterRef("video"), tag=OuterRef("tag"))
        .order_by("-changed_at", "-id")
        .values("action")[:1]
    )


def _labels(project: Project | None) -> QuerySet[ConfirmedLabel]:
    labels = ConfirmedLabel.objects.all()
    return labels.filter(video__project=project) if project is not None else labels


def _history_rules(project: Project | None) -> Iterator[Violation]:
    labels = _labels(project).annotate(last=_last_action()).order_by("video_id", "tag_id")
    for video_id, tag_id, last in labels.values_list("video_id", "tag_id", "last"):
        if last is None:
            yield Violation("no history", video_id, tag_id, _("confirmed, but no entry created it"))
        elif last not in _ON:
            yield Violation(
                "history disagrees",
                video_id,
                tag_id,
                _("the history says: %(action)s") % {"action": last},
            )
    changes = LabelChange.objects.all()
    if project is not None:
        changes = changes.filter(video__project=project)
    latest = changes.order_by("video_id", "tag_id", "-changed_at", "-id").values_list(
        "video_id", "tag_id", "action"
    )
    confirmed = set(_labels(project).values_list("video_id", "tag_id"))
    seen: set[tuple[int, int]] = set()
    for video_id, tag_id, action in latest.iterator():
        if (video_id, tag_id) in seen:
            continue
        seen.add((video_id, tag_id))
        if action in _ON and (video_id, tag_id) not in confirmed:
            yield Violation(
                "removed without a record",
                video_id,
                tag_id,
                _("the history says: %(action)s") % {"action": action},
            )


def _source_rules(project: Project | None) -> Iterator[Violation]:
    labels = _labels(project).order_by("video_id", "tag_id")
    unknown = labels.exclude(source__in=LabelSource.values)
    for video_id, tag_id, source in unknown.values_list("video_id", "tag_id", "source"):
        yield Violation("unknown source", video_id, tag_id, repr(source))
    for video_id, tag_id in labels.filter(
        source=LabelSource.REVIEW, confirmed_by__isnull=True
    ).values_list("video_id", "tag_id"):
        yield Violation("no reviewer", video_id, tag_id, "")
    chosen = (
        TagDecision.objects.submitted()
        .positive()
        .filter(annotation__video=OuterRef("video"), tag=OuterRef("tag"))
    )
    for video_id, tag_id in (
        labels.filter(source=LabelSource.AGREEMENT)
        .exclude(Exists(chosen))
        .values_list("video_id", "tag_id")
    ):
        yield Violation("agreement without answers", video_id, tag_id, "")


def _project_rules(project: Project | None) -> Iterator[Violation]:
    checks: list[tuple[str, QuerySet, str, str]] = [
        (_("a decision"), TagDecision.objects.all(), "annotation__video", "annotation__video_id"),
        (_("a confirmed tag"), ConfirmedLabel.objects.all(), "video", "video_id"),
        (_("a suggestion"), Suggestion.objects.all(), "video", "video_id"),
        (_("a history entry"), LabelChange.objects.all(), "video", "video_id"),
    ]
    for name, rows, video, video_id in checks:
        if project is not None:
            rows = rows.filter(**{f"{video}__project": project})
        foreign = rows.exclude(tag__project=F(f"{video}__project")).order_by(video_id, "tag_id")
        for found_video, tag_id in foreign.values_list(video_id, "tag_id"):
            yield Violation("tag of another project", found_video, tag_id, f"a {name} names it")


def label_store_audit(project: Project | None = None) -> list[Violation]:
    """Every violation of the label store's invariants (of one project, or of all)."""
    return [
        *_history_rules(project),
        *_source_rules(project),
        *_project_rules(project),
    ]
