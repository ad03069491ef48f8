"""Reads of quality control: each annotator's accuracy against gold and against the final
labels, who is flagged, and the model's trust per tag."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import User

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    GoldVideo,
    LabelSource,
    ModelVersion,
    Project,
    TagDecision,
    TagTrust,
)
from ml.evaluate import hierarchical_iou


@dataclass
class AnnotatorAccuracy:
    user: User
    gold_checks: int = 0
    gold_accuracy: float | None = None
    final_checks: int = 0
    final_accuracy: float | None = None
    flagged: bool = False


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def annotator_accuracy(
    project: Project, *, min_accuracy: float, min_checks: int
) -> list[AnnotatorAccuracy]:
    """Per annotator, the mean hierarchical IoU of their submitted tags with the gold
    labels (gold videos) and with the labels an expert confirmed or that came with the
    import (other videos); flagged when their gold accuracy, over at least ``min_checks``
    gold videos, is below ``min_accuracy``."""
    truth: dict[int, list[str]] = defaultdict(list)
    sources: dict[int, set[str]] = defaultdict(set)
    for video_id, path, source in ConfirmedLabel.objects.filter(video__project=project).values_list(
        "video_id", "tag__path", "source"
    ):
        truth[video_id].append(path)
        sources[video_id].add(source)
    gold = set(GoldVideo.objects.filter(video__project=project).values_list("video_id", flat=True))
    answers: dict[tuple[int, int], list[str]] = defaultdict(list)
    for annotator_id, video_id, path in (
        TagDecision.objects.submitted()
        .positive()
        .filter(annotation__video__project=project)
        .values_list("annotation__annotator_id", "annotation__video_id", "tag__path")
    ):
        answers[(annotator_id, video_id)].append(path)
    submitted = Annotation.objects.submitted().in_project(project)
    gold_scores: dict[int, list[float]] = defaultdict(list)
    final_scores: dict[int, list[float]] = defaultdict(list)
    for annotator_id, video_id in submitted.values_list("annotator_id", "video_id"):
        if video_id not in truth:
            continue
        score = hierarchical_iou([truth[video_id]], [answers.get((annotator_id, video_id), [])])
        if video_id in gold:
            gold_scores[annotator_id].append(score)
        elif sources[video_id] <= {LabelSource.REVIEW, LabelSource.IMPORT}:
            final_scores[annotator_id].append(score)
    users = User.objects.filter(pk__in=set(gold_scores) | set(final_scores)).order_by("username")
    rows = []
    for user in users:
        row = AnnotatorAccuracy(
            user=user,
            gold_checks=len(gold_scores[user.pk]),
            gold_accuracy=_mean(gold_scores[user.pk]),
            final_checks=len(final_scores[user.pk]),
            final_accuracy=_mean(final_scores[user.pk]),
        )
        row.flagged = (
            row.gold_accuracy is not None
            and row.gold_checks >= min_checks
            and row.gold_accuracy < min_accuracy
        )
        rows.append(row)
    return rows


@dataclass(frozen=True)
class TrustOverview:
    # The promoted version, whose own predictions are the evidence; None before one.
    version: ModelVersion | None
    rows: list[TagTrust]

    @property
    def waiting(self) -> bool:
        """A promoted version that has not earned trust on any tag yet."""
        return self.version is not None and not any(row.trusted for row in self.rows)


def tag_trust_overview(project: Project) -> TrustOverview:
    """The promoted model's measured precision per tag, trusted first, then by evidence
    (rows measured on another version are not its evidence, and are left out)."""
    version = ModelVersion.objects.filter(project=project).promoted().first()
    rows = (
        TagTrust.objects.filter(project=project, model_version=version)
        .select_related("tag")
        .order_by("-trusted", "-checked", "tag__path")
        if version is not None
        else TagTrust.objects.none()
    )
    return TrustOverview(version, list(rows))
