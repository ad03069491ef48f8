"""The queue, "next video for me": hands out the slots of videos to annotators.

A video has ``project.annotators_per_video`` slots. A slot is held by an
Assignment of another annotator that is standing (made by an admin, or used by
a submitted annotation: ``lease_expires_at`` is empty) or leased (a lease that
has not run out), unless that annotator skipped the video. A lease that runs
out returns the slot.

Crowd workers (label only what they are assigned) get their own assignments.
Annotators who may label any video take a free slot from the project's pool.
Once a video's tags are confirmed (imported with it, reviewed, agreed or by the
model), nobody is asked to label it any more: not from the pool, not from an
assignment, not even to finish a draft or a lease on it (the draft is kept; the
labeling page says the video is confirmed). Gold videos are the one exception:
they are confirmed by definition, assigned to crowd workers on purpose with the
work they are a share of (``gold.gold_reserve``), and handed out among it in the
queue's order, as every assigned video is.
On PostgreSQL the candidate's row is locked with ``FOR UPDATE SKIP LOCKED``, so
annotators asking at once take different videos without waiting for each
other; the slot count is read again under the lock, so a slot taken by a claim
that committed meanwhile is never handed out twice; only when every free video
is being claimed at that instant does a claim wait for one. On SQLite the write
transaction is IMMEDIATE (see settings), which serialises the claims instead.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.models import (
    Annotation,
    Assignment,
    Project,
    QueueOrder,
    Video,
    VideoStatus,
    count_per_video,
)
from annotations.roles import P_LABEL, P_LABEL_ANY
from annotations.selectors.access import may

# How many videos one claim looks at before it gives up (each found full by a
# claim that committed a moment earlier).
MAX_TRIES = 20

MARK_REFRESH = dt.timedelta(minutes=10)
REMAINING_CAP = 1000


@dataclass(frozen=True)
class QueueMark:
    video_id: int
    found_at: dt.datetime


def lease_duration() -> dt.timedelta:
    return dt.timedelta(minutes=settings.LABELING_LEASE_MINUTES)


def assignment_hold(*, video: Video, annotator: User, now: dt.datetime | None = None) -> None:
    """Hold the annotator's slot of ``video``: take a lease, or extend the one held.

    A standing assignment is left as it is: it never expires.
    """
    now = now or timezone.now()
    expires = now + lease_duration()
    mine = Assignment.objects.filter(video=video, annotator=annotator)
    if mine.filter(lease_expires_at__isnull=False).update(lease_expires_at=expires):
        return
    if not mine.exists():
        Assignment.objects.get_or_create(
            video=video, annotator=annotator, defaults={"lease_expires_at": expires}
        )


def lease_extend(*, video: Video, annotator: User, now: dt.datetime | None = None) -> None:
    """Push back the end of the annotator's lease on ``video``, if they hold one."""
    expires = (now or timezone.now()) + lease_duration()
    Assignment.objects.filter(
        video=video, annotator=annotator, lease_expires_at__isnull=False
    ).update(lease_expires_at=expires)


def _holding(now: dt.datetime) -> Q:
    return Q(lease_expires_at__isnull=True) | Q(lease_expires_at__gt=now)


def _skipped_by_holder() -> Exists:
    return Exists(
        Annotation.objects.filter(
            video=OuterRef("video"),
            annotator=OuterRef("annotator"),
            state=Annotation.State.SKIPPED,
        )
    )


def _slots_counted(assignments: QuerySet[Assignment]) -> Coalesce:
    """How many of ``assignments`` (of the outer video) hold a slot: skippers hold none."""
    return count_per_video(assignments.exclude(_skipped_by_holder()))


def slots_taken_by_others(user: User, now: dt.datetime) -> Coalesce:
    """How many slots of the outer video are held by annotators other than ``user``."""
    return _slots_counted(
        Assignment.objects.filter(_holding(now), video=OuterRef("pk")).exclude(annotator=user)
    )


def _submitted_by_others(user: User) -> Coalesce:
    return count_per_video(
        Annotation.objects.submitted().filter(video=OuterRef("pk")).exclude(annotator=user)
    )


def _ordered(videos: QuerySet[Video], project: Project) -> QuerySet[Video]:
    if project.queue_order == QueueOrder.UNCERTAIN:
        # Stored with the suggestions and indexed (project, status, uncertainty, id): the first
        # open video is found without reading any other video's suggestions, and confirmed
        # videos store a value after every open one (services/learning/uncertainty), so the
        # walk does not pass over the videos labeled so far.
        return videos.order_by("uncertainty", "id")
    # Upload order is id order: ids are handed out as videos are created.
    return videos.order_by("id")


def _lock(videos: QuerySet[Video], *, wait: bool) -> QuerySet[Video]:
    if not connection.features.has_select_for_update_skip_locked:
        return videos
    return videos.select_for_update(skip_locked=not wait, of=("self",))


def _finished_by(user: User) -> Exists:
    return Exists(Annotation.objects.finished().filter(video=OuterRef("pk"), annotator=user))


def _resume(user: User, project: Project, now: dt.datetime) -> Video | None:
    """A video the user holds a live lease on and has not finished: open it again first,
    unless its tags were confirmed meanwhile."""
    held = Assignment.objects.filter(
        annotator=user, video__project=project, lease_expires_at__gt=now
    ).values("video")
    return (
        project.videos.ready()
        .unlabeled()
        .filter(pk__in=held)
        .exclude(_finished_by(user))
        .order_by("id")
        .first()
    )


def _assigned_due(user: User, project: Project) -> QuerySet[Video]:
    """What the queue hands to those who label only what they are given: the ready videos
    assigned to them that they have not finished, whose tags nobody confirmed (a draft on
    a video confirmed since is not served either) and that others have not answered as
    many times as asked; and their gold, which is confirmed and answered by everyone who
    gets it, on purpose."""
    mine = Assignment.objects.filter(annotator=user).values("video")
    open_work = project.videos.ready().filter(pk__in=mine).exclude(_finished_by(user))
    needed = (
        open_work.unlabeled()
        .annotate(done_by_others=_submitted_by_others(user))
        .filter(done_by_others__lt=project.annotators_per_video)
    )
    return open_work.filter(Q(pk__in=needed.values("pk")) | Q(gold__isnull=False))


def _next_assigned(user: User, project: Project) -> Video | None:
    """For those who label only what they are given: their own assignments, drafts first."""
    videos = _assigned_due(user, project).annotate(
        started=Exists(
            Annotation.objects.filter(
                video=OuterRef("pk"), annotator=user, state=Annotation.State.DRAFT
            )
        )
    )
    ordered = _ordered(videos, project)
    return ordered.order_by("-started", *ordered.query.order_by).first()  # type: ignore[misc]


def _standing_taken() -> Coalesce:
    """Slots of the outer video used for good: standing assignments of those who did not skip."""
    return _slots_counted(
        Assignment.objects.filter(video=OuterRef("pk"), lease_expires_at__isnull=True)
    )


def queue_mark(project: Project, *, now: dt.datetime | None = None) -> QueueMark | None:
    """The first video, in upload order, that still has a slot and no confirmed tags;
    None when none has.

    Every video before the mark has all its slots used for good or its tags confirmed,
    so the queue need not look at it: at 90 % done, or with most videos imported with
    their tags, a claim reads the open part, not the whole project. The mark only moves
    forward, past videos completed or confirmed since it was last read; it is kept per
    process and found from the start again every ``MARK_REFRESH`` (so a video before it
    that regains a slot, by a skip after a submit or a failed video processed again, is
    handed out within that time).
    """
    now = now or timezone.now()
    key = (
        f"labeling-queue-mark:{project.pk}:{project.created_at.timestamp()}"
        f":{project.annotators_per_video}"
    )
    mark: QueueMark | None = cache.get(key)
    if mark is not None and now - mark.found_at > MARK_REFRESH:
        mark = None
    videos = project.videos.exclude(status=VideoStatus.FAILED).unlabeled()
    if mark is not None:
        videos = videos.filter(pk__gte=mark.video_id)
    first = (
        videos.annotate(standing=_standing_taken())
        .filter(standing__lt=project.annotators_per_video)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    if first is None:
        cache.delete(key)
        return None
    found = QueueMark(first, mark.found_at if mark else now)
    cache.set(key, found, timeout=None)
    return found


def _pool(
    user: User, project: Project, now: dt.datetime, mark: QueueMark | None
) -> QuerySet[Video]:
    mine_held = Assignment.objects.filter(_holding(now), annotator=user).values("video")
    videos = project.videos.ready().unlabeled()
    if mark is not None:
        videos = videos.filter(pk__gte=mark.video_id)
    return (
        videos.exclude(pk__in=mine_held)
        .exclude(_finished_by(user))
        .annotate(taken=slots_taken_by_others(user, now))
        .filter(taken__lt=project.annotators_per_video)
    )


def _first_candidate(
    user: User,
    project: Project,
    now: dt.datetime,
    *,
    mark: QueueMark,
    passed: list[int],
    wait: bool,
) -> Video | None:
    """The first video of the pool in queue order, its row locked; None when none is free."""
    if project.queue_order == QueueOrder.UNCERTAIN:
        # The uncertainty index already leads to the first open video; a range on ids
        # (the mark) would make the database sort every video after it instead.
        pool = _pool(user, project, now, None).exclude(pk__in=passed)
        return _lock(_ordered(pool, project), wait=wait).first()
    pool = _pool(user, project, now, mark).exclude(pk__in=passed)
    if project.queue_order != QueueOrder.RANDOM:
        return _lock(_ordered(pool, project), wait=wait).first()
    # Random order without sorting the whole pool: start at a random id and go round.
    high = project.videos.aggregate(high=Max("id"))["high"]
    if high is None or high < mark.video_id:
        return None
    pivot = random.randint(mark.video_id, high)  # noqa: S311 - not security
    after = _lock(pool.filter(pk__gte=pivot).order_by("id"), wait=wait).first()
    if after is not None:
        return after
    return _lock(pool.filter(pk__lt=pivot).order_by("id"), wait=wait).first()


class _SlotsFull(Exception):
    def __init__(self, video_id: int) -> None:
        self.video_id = video_id


def _claim(user: User, project: Project, now: dt.datetime) -> Video | None:
    """Take a free slot: first among videos nobody is claiming right now, then wait for one.

    Each try runs in a savepoint, so the row lock of a video found full is let
    go at once and a claim never holds more than the one row it takes.
    """
    mark = queue_mark(project, now=now)
    if mark is None:
        return None
    passed: list[int] = []
    can_wait = connection.features.has_select_for_update_skip_locked
    for wait in (False, True) if can_wait else (False,):
        for _try in range(MAX_TRIES):
            try:
                with transaction.atomic():
                    video = _first_candidate(
                        user, project, now, mark=mark, passed=passed, wait=wait
                    )
                    if video is None:
                        break
                    # Read again under the row lock: a claim that committed after the
                    # candidate query's snapshot is visible now and must not be doubled.
                    taken = (
                        Assignment.objects.filter(_holding(now), video=video)
                        .exclude(annotator=user)
                        .exclude(_skipped_by_holder())
                        .count()
                    )
                    if taken >= project.annotators_per_video:
                        raise _SlotsFull(video.pk)
                    Assignment.objects.update_or_create(
                        video=video,
                        annotator=user,
                        defaults={"lease_expires_at": now + lease_duration()},
                    )
                    return video
            except _SlotsFull as full:
                passed.append(full.video_id)
    return None


def next_video_for(user: User, project: Project, *, now: dt.datetime | None = None) -> Video | None:
    """The video ``user`` should label next in ``project``, with its slot held; None when done."""
    now = now or timezone.now()
    if project.is_archived or not may(user, project, P_LABEL):
        return None
    with transaction.atomic():
        if not may(user, project, P_LABEL_ANY):
            return _next_assigned(user, project)
        resumed = _resume(user, project, now)
        if resumed is not None:
            assignment_hold(video=resumed, annotator=user, now=now)
            return resumed
        return _claim(user, project, now)


def queue_remaining(
    user: User,
    project: Project,
    *,
    besides: Video | None = None,
    now: dt.datetime | None = None,
    cap: int = REMAINING_CAP,
) -> int:
    """How many more videos the queue could hand to ``user``, not counting ``besides``.

    For a crowd worker that includes the gold assigned to them, so the count falls by
    one with every video handed out, gold or not, and tells nothing about which is gold.
    Counting stops at ``cap``: "1,000 or more" is all a person needs to know, and
    stopping there keeps the count cheap on a large project.
    """
    now = now or timezone.now()
    if project.is_archived:
        return 0
    if may(user, project, P_LABEL_ANY):
        mark = queue_mark(project, now=now)
        if mark is None:
            return 0
        videos = _pool(user, project, now, mark)
        if besides is not None:
            videos = videos.exclude(pk=besides.pk)
        return videos.order_by()[:cap].count()
    if not may(user, project, P_LABEL):
        return 0
    assigned = _assigned_due(user, project)
    if besides is not None:
        assigned = assigned.exclude(pk=besides.pk)
    return assigned.order_by()[:cap].count()
