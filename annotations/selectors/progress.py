"""How far a project has come: each video's labeling state, the pace, and when it will end.

A video's labeling state, first match wins:

- ``review``: the video waits for an expert, as the review queue has it
  (``selectors.review.needs_review``: its annotators disagree, or an audit or a
  flagged annotator's work sent it there; never a gold video for its answers);
- ``confirmed``: it has confirmed tags;
- ``submitted``: some annotators submitted, the project waits for more;
- ``in_progress``: someone has a draft;
- ``skipped``: everyone who opened it skipped it;
- ``new``: nobody has worked on it.

The remaining work is counted in answers: every video not failed needs
``annotators_per_video`` submitted answers, less those it has (at most that many). A
video whose tags are confirmed is done: it needs no answer beyond those it has, since
the queue no longer hands it out.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Project,
    Video,
    VideoStatus,
    count_per_video,
)
from annotations.selectors.review import needs_review, with_agreement
from annotations.selectors.visibility import sees_labels

PACE_DAYS = 7
BURNDOWN_DAYS = 30


class LabelingState:
    NEW = "new"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    REVIEW = "review"
    CONFIRMED = "confirmed"
    SKIPPED = "skipped"

    choices = [
        (NEW, _("New")),
        (IN_PROGRESS, _("In progress")),
        (SUBMITTED, _("Submitted")),
        (REVIEW, _("In review")),
        (CONFIRMED, _("Confirmed")),
        (SKIPPED, _("Skipped")),
    ]
    values = [value for value, _label in choices]


def _count_of(state: str) -> Coalesce:
    return count_per_video(Annotation.objects.filter(video=OuterRef("pk"), state=state))


def with_labeling_state(videos: QuerySet[Video], project: Project) -> QuerySet[Video]:
    """``videos`` annotated with ``labeling_state`` (see the module's rules)."""
    annotated = with_agreement(videos).annotate(
        drafts=_count_of(Annotation.State.DRAFT),
        skips=_count_of(Annotation.State.SKIPPED),
        has_confirmed=Exists(ConfirmedLabel.objects.filter(video=OuterRef("pk"))),
    )
    return annotated.annotate(
        labeling_state=Case(
            When(needs_review(project), then=Value(LabelingState.REVIEW)),
            When(has_confirmed=True, then=Value(LabelingState.CONFIRMED)),
            When(submitted__gte=1, then=Value(LabelingState.SUBMITTED)),
            When(drafts__gte=1, then=Value(LabelingState.IN_PROGRESS)),
            When(skips__gte=1, then=Value(LabelingState.SKIPPED)),
            default=Value(LabelingState.NEW),
            output_field=CharField(),
        )
    )


def with_own_state(videos: QuerySet[Video], user: User | AnonymousUser) -> QuerySet[Video]:
    """``videos`` annotated with ``labeling_state`` as far as ``user``'s own work goes.

    For those who may not see others' work: only their own answer says anything.
    """
    own = Annotation.objects.filter(video=OuterRef("pk"), annotator=user.pk).values("state")[:1]
    return videos.annotate(
        own_state=Subquery(own, output_field=CharField()),
        labeling_state=Case(
            When(own_state=Annotation.State.SUBMITTED, then=Value(LabelingState.SUBMITTED)),
            When(own_state=Annotation.State.DRAFT, then=Value(LabelingState.IN_PROGRESS)),
            When(own_state=Annotation.State.SKIPPED, then=Value(LabelingState.SKIPPED)),
            default=Value(LabelingState.NEW),
            output_field=CharField(),
        ),
    )


def videos_with_state(
    user: User | AnonymousUser, project: Project, videos: QuerySet[Video], state: str = ""
) -> QuerySet[Video]:
    """``videos`` with ``labeling_state`` as ``user`` may know it, in ``state`` when given.

    Those who see everyone's labels get the project's state of each video; others the
    state of their own work on it (see ``selectors.visibility``).
    """
    if sees_labels(user, project):
        annotated = with_labeling_state(videos, project)
    else:
        annotated = with_own_state(videos, user)
    # Q, not a keyword: the type stubs do not know the annotation's name.
    return annotated.filter(Q(labeling_state=state)) if state in LabelingState.values else annotated


def state_counts(project: Project) -> dict[str, int]:
    """How many of the project's videos (failed ones left out) are in each labeling state."""
    videos = with_labeling_state(
        project.videos.exclude(status=VideoStatus.FAILED).order_by(), project
    )
    counted = videos.aggregate(
        **{state: Count("pk", filter=Q(labeling_state=state)) for state in LabelingState.values}
    )
    return {state: int(counted[state] or 0) for state in LabelingState.values}


@dataclass(frozen=True)
class Throughput:
    user: User
    submitted: int
    last_days: int
    per_day: list[int]


@dataclass(frozen=True)
class Progress:
    states: dict[str, int]
    videos: int
    needed: int
    done: int
    last_days: int
    per_day: float
    finish: dt.date | None
    days: list[dt.date]
    remaining_by_day: list[int]
    annotators: list[Throughput]

    @property
    def remaining(self) -> int:
        return self.needed - self.done

    @property
    def percent(self) -> int:
        return math.floor(100 * self.done / self.needed) if self.needed else 100


def project_progress(project: Project, *, today: dt.date | None = None) -> Progress:
    """Counts, pace, the estimated finish and the burn-down of ``project``.

    The pace is the submitted answers per day over the last ``PACE_DAYS`` days; the
    finish is today plus the remaining answers at that pace (None while there is none).
    Only the first ``annotators_per_video`` answers of a video count toward it.
    """
    today = today or timezone.localdate()
    overlap = project.annotators_per_video
    not_failed = project.videos.exclude(status=VideoStatus.FAILED)
    videos = not_failed.count()
    confirmed_videos = not_failed.labeled().count()
    answers = (
        Annotation.objects.submitted()
        .in_project(project)
        .filter(submitted_at__isnull=False)
        .exclude(video__status=VideoStatus.FAILED)
        .annotate(confirmed=Exists(ConfirmedLabel.objects.filter(video=OuterRef("video"))))
        .order_by("video_id", "submitted_at")
        .values_list("video_id", "annotator_id", "submitted_at", "confirmed")
    )
    counted_days: list[dt.date] = []
    counted_on_confirmed = 0
    per_video: Counter[int] = Counter()
    per_user_days: dict[int, list[dt.date]] = defaultdict(list)
    for video_id, annotator_id, submitted_at, confirmed in answers:
        day = timezone.localtime(submitted_at).date()
        per_user_days[annotator_id].append(day)
        if per_video[video_id] < overlap:
            per_video[video_id] += 1
            counted_days.append(day)
            counted_on_confirmed += confirmed
    done = len(counted_days)
    # A confirmed video needs the answers it has and no more: with most of a project
    # imported with its tags, the rest would never be "done" otherwise.
    needed = (videos - confirmed_videos) * overlap + counted_on_confirmed
    since = today - dt.timedelta(days=PACE_DAYS - 1)
    last_days = sum(1 for day in counted_days if day >= since)
    per_day = last_days / PACE_DAYS
    remaining = needed - done
    finish = None
    if remaining <= 0:
        finish = today
    elif per_day > 0:
        finish = today + dt.timedelta(days=math.ceil(remaining / per_day))
    start = max(
        today - dt.timedelta(days=BURNDOWN_DAYS - 1),
        min([timezone.localtime(project.created_at).date(), *counted_days]),
    )
    days = [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]
    by_day = Counter(counted_days)
    before = sum(n for day, n in by_day.items() if day < start)
    remaining_by_day = []
    running = before
    for day in days:
        running += by_day.get(day, 0)
        remaining_by_day.append(needed - running)
    users = User.objects.in_bulk(list(per_user_days))
    annotators = [
        Throughput(
            user=users[user_id],
            submitted=len(user_days),
            last_days=sum(1 for day in user_days if day >= since),
            per_day=[sum(1 for d in user_days if d == day) for day in days],
        )
        for user_id, user_days in per_user_days.items()
    ]
    annotators.sort(key=lambda row: (-row.last_days, row.user.get_username()))
    return Progress(
        states=state_counts(project),
        videos=videos,
        needed=needed,
        done=done,
        last_days=last_days,
        per_day=per_day,
        finish=finish,
        days=days,
        remaining_by_day=remaining_by_day,
        annotators=annotators,
    )
