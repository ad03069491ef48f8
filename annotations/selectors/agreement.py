"""Inter-annotator agreement and effort, per project and per annotator.

Agreement is measured on units = (video, tag) pairs: for every video with at
least two submitted annotations, every tag any of its annotators decided on
(accepted, added or rejected). An annotator who submitted the video codes a
unit 1 when they chose the tag and 0 otherwise; one who did not label the video
leaves it missing. Krippendorff's alpha (nominal) over those units handles the
missing values and any number of annotators; percent agreement per tag is the
share of its units on which all annotators of the video gave the same answer.

Time per video is the annotation's ``seconds_spent``: the page counts only the
seconds in which the annotator was active (input in the last minute or the
video playing, tab visible), from opening to submitting.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import krippendorff
import numpy as np
from django.contrib.auth.models import User
from django.db.models import Count, Q

from annotations.models import POSITIVE_DECISIONS, Annotation, Project, Tag, TagDecision


@dataclass(frozen=True)
class Unit:
    video_id: int
    tag_id: int


@dataclass
class Codings:
    """Who said what on which unit: ``values[unit][annotator] = 0 or 1``."""

    values: dict[Unit, dict[int, int]] = field(default_factory=dict)

    @property
    def annotators(self) -> list[int]:
        return sorted({coder for row in self.values.values() for coder in row})

    def matrix(self, annotators: list[int] | None = None) -> np.ndarray:
        """Annotators x units, NaN where an annotator did not code a unit."""
        coders = annotators if annotators is not None else self.annotators
        index = {coder: i for i, coder in enumerate(coders)}
        data = np.full((len(coders), len(self.values)), np.nan)
        for column, row in enumerate(self.values.values()):
            for coder, value in row.items():
                if coder in index:
                    data[index[coder], column] = value
        return data

    def restricted(self, keep: set[Unit]) -> Codings:
        return Codings({unit: row for unit, row in self.values.items() if unit in keep})


def alpha(codings: Codings) -> float | None:
    """Krippendorff's alpha (nominal), or None when it is undefined.

    Undefined when no unit has two codings or every coding is the same value
    (no variation to measure agreement against).
    """
    pairable = [row for row in codings.values.values() if len(row) >= 2]
    if not pairable:
        return None
    if len({value for row in pairable for value in row.values()}) < 2:
        return None
    result = krippendorff.alpha(reliability_data=codings.matrix(), level_of_measurement="nominal")
    return float(result)


def project_codings(project: Project) -> Codings:
    """The units of ``project``: videos with two or more submitted annotations."""
    submitted = Annotation.objects.submitted().in_project(project)
    annotations = dict(submitted.values_list("pk", "annotator_id"))
    coders_of_video: dict[int, set[int]] = defaultdict(set)
    for video_id, annotator_id in submitted.values_list("video_id", "annotator_id"):
        coders_of_video[video_id].add(annotator_id)
    shared = {video for video, coders in coders_of_video.items() if len(coders) >= 2}

    decided: dict[Unit, set[int]] = defaultdict(set)  # unit -> annotators who chose the tag
    for annotation_id, video_id, tag_id, decision in TagDecision.objects.filter(
        annotation_id__in=list(annotations), annotation__video_id__in=shared
    ).values_list("annotation_id", "annotation__video_id", "tag_id", "decision"):
        unit = Unit(video_id, tag_id)
        chosen = decided[unit]
        if decision in POSITIVE_DECISIONS:
            chosen.add(annotations[annotation_id])
    values = {
        unit: {coder: int(coder in chosen) for coder in coders_of_video[unit.video_id]}
        for unit, chosen in sorted(
            decided.items(), key=lambda item: (item[0].video_id, item[0].tag_id)
        )
    }
    return Codings(values)


@dataclass
class TagAgreement:
    tag: Tag
    units: int
    agreed: int

    @property
    def percent(self) -> float:
        return 100.0 * self.agreed / self.units if self.units else 0.0


@dataclass
class AnnotatorEffort:
    user: User
    submitted: int
    skipped: int
    drafts: int
    active_seconds: float
    median_seconds: float | None
    alpha: float | None = None
    agreement_percent: float | None = None

    @property
    def active_hours(self) -> float:
        return self.active_seconds / 3600.0

    @property
    def videos_per_hour(self) -> float | None:
        if not self.submitted or self.active_seconds <= 0:
            return None
        return self.submitted / (self.active_seconds / 3600.0)


@dataclass
class ProjectAgreement:
    alpha: float | None
    units: int
    videos: int
    per_tag: list[TagAgreement]
    annotators: list[AnnotatorEffort]
    median_seconds: float | None
    videos_per_hour: float | None


def _per_tag(codings: Codings) -> list[TagAgreement]:
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for unit, row in codings.values.items():
        counts[unit.tag_id][0] += 1
        counts[unit.tag_id][1] += int(len(set(row.values())) == 1)
    tags = Tag.objects.in_bulk(list(counts))
    rows = [TagAgreement(tag=tags[tag_id], units=n, agreed=a) for tag_id, (n, a) in counts.items()]
    return sorted(rows, key=lambda row: (row.percent, row.tag.path))


def _agreement_percent(codings: Codings, coder: int) -> float | None:
    """How often ``coder`` gave the same answer as each other annotator of the same unit."""
    same = total = 0
    for row in codings.values.values():
        if coder not in row:
            continue
        for other, value in row.items():
            if other != coder:
                total += 1
                same += int(value == row[coder])
    return 100.0 * same / total if total else None


def project_agreement(project: Project) -> ProjectAgreement:
    codings = project_codings(project)
    per_user = (
        Annotation.objects.in_project(project)
        .values("annotator")
        .annotate(
            submitted=Count("pk", filter=Q(state=Annotation.State.SUBMITTED)),
            skipped=Count("pk", filter=Q(state=Annotation.State.SKIPPED)),
            drafts=Count("pk", filter=Q(state=Annotation.State.DRAFT)),
        )
    )
    seconds: dict[int, list[float]] = defaultdict(list)
    submitted = Annotation.objects.submitted().in_project(project)
    for annotator_id, spent in submitted.values_list("annotator_id", "seconds_spent"):
        seconds[annotator_id].append(spent)
    users = User.objects.in_bulk([row["annotator"] for row in per_user])
    efforts = []
    for row in per_user:
        coder = row["annotator"]
        own_units = {unit for unit, coded in codings.values.items() if coder in coded}
        efforts.append(
            AnnotatorEffort(
                user=users[coder],
                submitted=row["submitted"],
                skipped=row["skipped"],
                drafts=row["drafts"],
                active_seconds=sum(seconds[coder]),
                median_seconds=statistics.median(seconds[coder]) if seconds[coder] else None,
                alpha=alpha(codings.restricted(own_units)),
                agreement_percent=_agreement_percent(codings, coder),
            )
        )
    efforts.sort(key=lambda effort: effort.user.get_username())
    all_seconds = [value for values in seconds.values() for value in values]
    total_seconds = sum(all_seconds)
    return ProjectAgreement(
        alpha=alpha(codings),
        units=len(codings.values),
        videos=len({unit.video_id for unit in codings.values}),
        per_tag=_per_tag(codings),
        annotators=efforts,
        median_seconds=statistics.median(all_seconds) if all_seconds else None,
        videos_per_hour=(len(all_seconds) / (total_seconds / 3600.0)) if total_seconds else None,
    )
