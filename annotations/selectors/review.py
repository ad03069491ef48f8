"""Reads of the review: which videos wait for an expert, and one video's answers side by side.

The final set the review screen starts from keeps what is known: every tag already
confirmed, plus every tag in use that at least ``project.review_majority_share`` of the
video's annotators chose. Tags chosen by fewer start unchecked, with their count, so
an expert adds them on purpose; a confirmed tag leaves only by an explicit uncheck.

A deprecated tag is no longer offered: an annotator's choice of it (made before it was
deprecated) never starts checked, is marked on the sheet, and does not count towards an
agreement. A confirmed label of a deprecated tag stays until an expert unchecks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser, Permission, User
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

from annotations.models import (
    POSITIVE_DECISIONS,
    Annotation,
    ConfirmedLabel,
    Decision,
    GoldVideo,
    LabelSource,
    Membership,
    Project,
    ProjectRole,
    ReviewRequest,
    Tag,
    TagDecision,
    Video,
)
from annotations.roles import P_MANAGE_PROJECTS, P_REVIEW


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

    The annotators agree when every tag in use chosen by one was chosen by all, that
    is when (annotation, tag) pairs = annotations x distinct tags, and they chose at
    least one such tag. Choices of deprecated tags are left out, as the agreement
    rule (``video_auto_confirm``) leaves them out.
    """
    positives = (
        TagDecision.objects.submitted()
        .positive()
        .filter(annotation__video=OuterRef("pk"), tag__active=True)
    )
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
    # A confirmed tag the annotators left out: agreeing among themselves, they still
    # disagree with what is known, and an expert decides.
    confirmed_left_out = ConfirmedLabel.objects.filter(video=OuterRef("pk")).exclude(
        tag__in=TagDecision.objects.submitted()
        .positive()
        .filter(annotation__video=OuterRef("video"))
        .values("tag")
    )
    annotated = videos.annotate(
        submitted=_count(Annotation.objects.submitted().filter(video=OuterRef("pk"))),
        positive_pairs=_count(positives),
        positive_tags=_count(positives, distinct="tag"),
        resolved=Exists(resolved),
        leaves_out_confirmed=Exists(confirmed_left_out),
    )
    return annotated.annotate(
        agreed=ExpressionWrapper(
            Q(
                positive_pairs=F("submitted") * F("positive_tags"),
                positive_tags__gt=0,
                leaves_out_confirmed=False,
            ),
            output_field=BooleanField(),
        )
    )


def users_with_perm(permission: str) -> QuerySet[User]:
    """Active users whose account holds ``permission`` (by role, directly, or as superuser)."""
    app_label, codename = permission.split(".", 1)
    granted = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return User.objects.filter(
        Q(is_superuser=True) | Q(groups__permissions__in=granted) | Q(user_permissions__in=granted),
        is_active=True,
    ).distinct()


def reviewers(project: Project | None = None) -> QuerySet[User]:
    """Active users who may review: experts and admins (or anyone granted the permission).

    With ``project``, those who may review in it: admins, and its members whose role
    there is expert.
    """
    if project is None:
        return users_with_perm(P_REVIEW)
    return _reviewers_in(project)


def _reviewers_in(project: Project | OuterRef) -> QuerySet[User]:
    """``project`` is a Project, or a reference to the project as the membership query sees it."""
    expert_here = Membership.objects.filter(
        project=project, user=OuterRef("pk"), role=ProjectRole.EXPERT
    )
    admins = users_with_perm(P_MANAGE_PROJECTS).values("pk")
    return users_with_perm(P_REVIEW).filter(Q(pk__in=admins) | Q(Exists(expert_here)))


def _own_work_of(reviewer: User | AnonymousUser) -> Q:
    """Videos the reviewer annotated that another reviewer, who did not, could take.

    An expert does not confirm their own answer while someone else could look at it;
    when every reviewer annotated the video, one of them has to.
    """
    reviewer_id = reviewer.pk or 0  # anonymous: no one
    annotated_by_reviewer = Annotation.objects.submitted().filter(
        video=OuterRef("pk"), annotator=reviewer_id
    )
    # The membership query sits in the user query, which sits in the video's: two levels.
    someone_else = (
        _reviewers_in(OuterRef(OuterRef("project")))
        .exclude(pk=reviewer_id)
        .exclude(
            Exists(
                Annotation.objects.submitted().filter(
                    video=OuterRef(OuterRef("pk")), annotator=OuterRef("pk")
                )
            )
        )
    )
    return Q(Exists(annotated_by_reviewer)) & Q(Exists(someone_else))


def needs_review(project: Project) -> Q:
    """The one rule of a video waiting for an expert, on videos annotated by
    ``with_agreement``: the review queue, the progress counts and the video list's
    labeling state all read it.

    A video needs review when as many annotators as the project asks have submitted
    since its labels were last confirmed by a person (or the agreement rule), and they
    disagree (or the project confirms nothing by agreement); a gold video never does,
    its answers being checks of the annotators. Whatever its answers, a video also
    needs review while a request for one is open: an audit of the model's
    confirmation, or the work of an annotator flagged on gold.
    """
    waiting = Q(submitted__gte=project.annotators_per_video, resolved=False)
    if project.auto_confirm_agreement:
        waiting &= Q(agreed=False)
    waiting &= ~Q(Exists(GoldVideo.objects.filter(video=OuterRef("pk"))))
    requested = Q(
        Exists(ReviewRequest.objects.filter(video=OuterRef("pk"), resolved_at__isnull=True))
    )
    return waiting | requested


def videos_needing_review(
    project: Project, reviewer: User | AnonymousUser | None = None
) -> QuerySet[Video]:
    """Videos waiting for an expert (``needs_review``), the oldest first; for ``reviewer``,
    those they may review."""
    videos = with_agreement(project.videos.all()).filter(needs_review(project))
    if reviewer is not None and not project.self_review:
        videos = videos.exclude(_own_work_of(reviewer))
    return videos.order_by("created_at", "id")


def may_review(reviewer: User | AnonymousUser, video: Video) -> bool:
    """Whether the project's self-review rule lets ``reviewer`` confirm this video's tags."""
    if video.project.self_review:
        return True
    return not Video.objects.filter(pk=video.pk).filter(_own_work_of(reviewer)).exists()


def labels_revision(video: Video) -> int:
    """The revision of the video's confirmed tags: the id of their latest history entry, 0
    before any.

    Every change to them writes the history under the video's row lock, so the number
    grows with each change: a sheet built on a smaller one is stale.
    """
    latest: int | None = video.label_changes.aggregate(latest=Max("id"))["latest"]
    return latest or 0


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

    @property
    def deprecated(self) -> bool:
        """The tag is no longer offered: it stays where confirmed but is not added anew."""
        return not self.tag.active


@dataclass
class ReviewSheet:
    video: Video
    columns: list[AnnotatorColumn]
    rows: list[ReviewRow]
    # The revision of the confirmed tags the sheet was built on (``labels_revision``).
    revision: int

    @property
    def agreed(self) -> bool:
        return all(row.votes in (0, len(self.columns)) for row in self.rows)

    @property
    def removes(self) -> list[str]:
        """Confirmed tags the checked set leaves out: what confirming it would remove."""
        return [row.tag.path for row in self.rows if row.confirmed and not row.proposed]

    @property
    def adds(self) -> list[str]:
        return [row.tag.path for row in self.rows if row.proposed and not row.confirmed]

    def select(self, tag_ids: set[int]) -> None:
        """Check exactly these rows, as a refused confirmation sent them, so none is lost."""
        for row in self.rows:
            row.proposed = row.tag.pk in tag_ids


def _majority(votes: int, against: int, annotators: int, share: float) -> bool:
    """Chosen by at least ``share`` of the annotators, and not rejected by as many."""
    return annotators > 0 and votes > against and votes >= share * annotators


def review_sheet(video: Video) -> ReviewSheet:
    """Each submitted annotation's choices side by side, one row per tag anyone touched.

    A row is proposed (starts checked) when its tag is confirmed already, or when it is
    in use and at least the project's share of annotators chose it and fewer rejected it
    (two annotators who contradict each other propose nothing). In a single-label project
    at most one row is proposed: the confirmed tag, else the tag in use that reached the
    share with more votes than any other (a tie proposes none).
    """
    project = video.project
    # Read first: confirmed tags changed meanwhile make the sheet stale, never wrong.
    revision = labels_revision(video)
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
    rows = []
    for tag in Tag.objects.filter(pk__in=tag_ids).order_by("path"):
        cells = [column.choices.get(tag.pk, "") for column in columns]
        votes = sum(cell in POSITIVE_DECISIONS for cell in cells)
        against = sum(cell == Decision.REJECT for cell in cells)
        is_confirmed = tag.pk in confirmed
        rows.append(
            ReviewRow(
                tag=tag,
                votes=votes,
                cells=cells,
                confirmed=is_confirmed,
                proposed=is_confirmed
                or (
                    tag.active
                    and _majority(votes, against, len(columns), project.review_majority_share)
                ),
            )
        )
    if project.is_single_label:
        _propose_one(rows)
    return ReviewSheet(video=video, columns=columns, rows=rows, revision=revision)


def _propose_one(rows: list[ReviewRow]) -> None:
    """Single-label: the confirmed tag (the most chosen, were there several), else the
    one tag the majority rule proposed, or the one with most votes of those it proposed;
    none on a tie, so that Enter never confirms a coin toss."""
    confirmed = [row for row in rows if row.confirmed]
    candidates = confirmed or [row for row in rows if row.proposed]
    top = max((row.votes for row in candidates), default=0)
    leaders = [row for row in candidates if row.votes == top]
    chosen = leaders[0] if leaders and (confirmed or len(leaders) == 1) else None
    for row in rows:
        row.proposed = row is chosen
