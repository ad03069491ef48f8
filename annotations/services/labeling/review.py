"""From annotations to confirmed labels: automatic when annotators agree, by an expert otherwise.

A video needs review when as many annotators as the project asks for have
submitted and either their tags differ, or they agree but the project wants
agreement confirmed by a person. Confirmed labels are what training and exports
use; every change to them is written to the LabelChange history (who, when, what).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import (
    POSITIVE_DECISIONS,
    Annotation,
    ConfirmedLabel,
    LabelChange,
    LabelSource,
    Project,
    Tag,
    TagDecision,
    Video,
)


def _count(
    queryset: QuerySet[TagDecision] | QuerySet[Annotation], *, distinct: str = ""
) -> Coalesce:
    counted = (
        queryset.order_by()
        .values("annotation__video" if queryset.model is TagDecision else "video")
        .annotate(n=Count(distinct, distinct=True) if distinct else Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_agreement(videos: QuerySet[Video]) -> QuerySet[Video]:
    """Annotate ``submitted``, ``positive_pairs``, ``positive_tags``, ``agreed`` and ``resolved``.

    The annotators agree when every tag chosen by one was chosen by all, that
    is when (annotation, tag) pairs = annotations x distinct tags.
    """
    positives = TagDecision.objects.submitted().positive().filter(annotation__video=OuterRef("pk"))
    last_submit = (
        Annotation.objects.submitted()
        .filter(video=OuterRef("video"))
        .order_by()
        .values("video")
        .annotate(at=Max("submitted_at"))
        .values("at")
    )
    # Resolved: a person (or the agreement rule) confirmed the labels after the last submit.
    resolved = ConfirmedLabel.objects.filter(
        video=OuterRef("pk"),
        source__in=(LabelSource.REVIEW, LabelSource.AGREEMENT),
        confirmed_at__gte=Subquery(last_submit),
    )
    annotated = videos.annotate(
        submitted=_count(Annotation.objects.submitted().filter(video=OuterRef("pk"))),
        positive_pairs=_count(positives),
        positive_tags=_count(positives, distinct="tag"),
        resolved=Exists(resolved),
    )
    return annotated.annotate(
        agreed=ExpressionWrapper(
            Q(positive_pairs=F("submitted") * F("positive_tags")), output_field=BooleanField()
        )
    )


def videos_needing_review(project: Project) -> QuerySet[Video]:
    """Videos waiting for an expert, the oldest first."""
    # The stubs cannot see through with_agreement's annotations, hence the ignores.
    videos = with_agreement(project.videos.all()).filter(
        submitted__gte=project.annotators_per_video,  # type: ignore[misc]
        resolved=False,
    )
    if project.auto_confirm_agreement:
        videos = videos.filter(agreed=False)  # type: ignore[misc]
    return videos.order_by("created_at", "id")


@dataclass
class AnnotatorColumn:
    annotation: Annotation
    choices: dict[int, str] = field(default_factory=dict)  # tag id -> decision


@dataclass
class ReviewRow:
    tag: Tag
    votes: int
    cells: list[str]
    confirmed: bool
    proposed: bool


@dataclass
class ReviewSheet:
    video: Video
    columns: list[AnnotatorColumn]
    rows: list[ReviewRow]

    @property
    def agreed(self) -> bool:
        return all(row.votes in (0, len(self.columns)) for row in self.rows)


def review_sheet(video: Video) -> ReviewSheet:
    """Each submitted annotation's choices side by side, one row per tag anyone touched.

    A row is proposed for confirmation when at least half of the annotators chose
    it, or (with no annotations) when it is already confirmed.
    """
    annotations = list(
        video.annotations.submitted()
        .select_related("annotator")
        .prefetch_related("decisions")
        .order_by("submitted_at", "id")
    )
    columns = [
        AnnotatorColumn(annotation=a, choices={d.tag_id: d.decision for d in a.decisions.all()})
        for a in annotations
    ]
    confirmed = set(video.confirmed_labels.values_list("tag_id", flat=True))
    tag_ids = confirmed.union(*(column.choices for column in columns))
    tags = Tag.objects.filter(pk__in=tag_ids).order_by("path")
    rows = []
    for tag in tags:
        cells = [column.choices.get(tag.pk, "") for column in columns]
        votes = sum(cell in POSITIVE_DECISIONS for cell in cells)
        proposed = votes * 2 >= len(columns) if columns else tag.pk in confirmed
        rows.append(
            ReviewRow(
                tag=tag,
                votes=votes,
                cells=cells,
                confirmed=tag.pk in confirmed,
                proposed=proposed and (votes > 0 or not columns),
            )
        )
    if video.project.is_single_label and columns:
        # One tag only: propose the most chosen.
        best = max(rows, key=lambda row: row.votes, default=None)
        for row in rows:
            row.proposed = row is best
    return ReviewSheet(video=video, columns=columns, rows=rows)


def _labels_replace(
    *, video: Video, tag_ids: set[int], source: LabelSource, user: User | None
) -> list[LabelChange]:
    now = timezone.now()
    current = dict(video.confirmed_labels.values_list("tag_id", "pk"))
    removed = set(current) - tag_ids
    added = tag_ids - set(current)
    changes = [
        LabelChange(video=video, tag_id=tag_id, action=action, source=source, changed_by=user)
        for action, ids in (
            (LabelChange.Action.REMOVED, removed),
            (LabelChange.Action.ADDED, added),
        )
        for tag_id in sorted(ids)
    ]
    ConfirmedLabel.objects.filter(video=video, tag_id__in=removed).delete()
    ConfirmedLabel.objects.bulk_create(
        [
            ConfirmedLabel(video=video, tag_id=tag_id, source=source, confirmed_by=user)
            for tag_id in sorted(added)
        ]
    )
    # Kept labels are now vouched for by this confirmation too.
    ConfirmedLabel.objects.filter(video=video, tag_id__in=tag_ids).update(
        source=source, confirmed_by=user, confirmed_at=now
    )
    return LabelChange.objects.bulk_create(changes)


def review_confirm(*, video: Video, tag_ids: Iterable[int], reviewer: User) -> list[LabelChange]:
    """Make ``tag_ids`` the video's confirmed tags; returns the history entries written."""
    wanted = set(tag_ids)
    project = video.project
    valid = set(project.tags.filter(pk__in=wanted).values_list("pk", flat=True))
    if valid != wanted:
        raise ValidationError(_("Some of these tags are not in this project's taxonomy."))
    if project.is_single_label and len(wanted) != 1:
        raise ValidationError(_("This project takes exactly one tag per video."))
    if not wanted:
        raise ValidationError(_("Confirm at least one tag."))
    with transaction.atomic():
        # One confirmation of a video at a time: the second sees the first's result.
        Video.objects.select_for_update().filter(pk=video.pk).first()
        return _labels_replace(
            video=video, tag_ids=wanted, source=LabelSource.REVIEW, user=reviewer
        )


def video_auto_confirm(*, video: Video) -> bool:
    """Confirm the tags all annotators agree on, when the project says so.

    Only when as many annotators as asked have submitted, they all chose the same
    tags, and no expert has confirmed this video's labels (a person's review is
    never overwritten by the rule). Returns whether labels were confirmed.
    """
    project = video.project
    if not project.auto_confirm_agreement:
        return False
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        chosen: dict[int, set[int]] = {}
        for annotation_id, tag_id in (
            TagDecision.objects.submitted()
            .positive()
            .filter(annotation__video=video)
            .values_list("annotation_id", "tag_id")
        ):
            chosen.setdefault(annotation_id, set()).add(tag_id)
        submitted = video.annotations.submitted().count()
        if submitted < project.annotators_per_video or len(chosen) != submitted:
            return False
        sets = list(chosen.values())
        if any(tags != sets[0] for tags in sets[1:]):
            return False
        if video.confirmed_labels.filter(source=LabelSource.REVIEW).exists():
            return False
        _labels_replace(video=video, tag_ids=sets[0], source=LabelSource.AGREEMENT, user=None)
    return True
