"""Admins hand out work: assign videos to annotators, and move the open work of someone who left.

Assignments made here are standing (no lease): they hold one of the video's
``project.annotators_per_video`` slots until the annotator skips the video. A video
whose slots are all held is never given to one more person, so the overlap an admin
asks for is the overlap the project gets. Videos with the fewest annotators are
served first, so every video gets a first annotator before any gets a second. A video
whose tags are confirmed is given to nobody: the queue would never serve that
assignment (see ``labeling.queue``), and the admin is told how many were left out.
Crowd workers get their share of gold with the videos assigned to them (see
``labeling.gold``).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import Annotation, Assignment, Membership, Project, Video, VideoStatus
from annotations.services.labeling.gold import gold_reserve
from annotations.services.projects import open_assignments_of

MODES = ("each", "share", "all")


@dataclass
class AssignResult:
    per_annotator: dict[int, int] = field(default_factory=dict)
    # Matching videos that already had the project's overlap before this assignment.
    full: int = 0
    # Matching videos left out because their tags are confirmed.
    confirmed: int = 0
    # Gold videos given to crowd workers with these, per annotator.
    gold: dict[int, int] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return sum(self.per_annotator.values())


def _slot_holders(project: Project, video_ids: Sequence[int]) -> dict[int, set[int]]:
    """Who holds a slot of each video: standing assignments and live leases, not skippers."""
    now = timezone.now()
    skipped = set(
        Annotation.objects.filter(
            video__project=project, state=Annotation.State.SKIPPED
        ).values_list("video_id", "annotator_id")
    )
    holders: dict[int, set[int]] = defaultdict(set)
    held = Assignment.objects.filter(
        Q(lease_expires_at__isnull=True) | Q(lease_expires_at__gt=now), video_id__in=video_ids
    ).values_list("video_id", "annotator_id")
    for video_id, annotator_id in held:
        if (video_id, annotator_id) not in skipped:
            holders[video_id].add(annotator_id)
    return holders


def _store(new: Sequence[Assignment]) -> None:
    """Create ``new``. The only row one of them can meet is the same person's on the same
    video that holds no slot (a lapsed lease, or theirs after a skip): it gives way. Anyone
    else's assignment of that video stays, whoever else was chosen alongside."""
    videos_of: dict[int, list[int]] = defaultdict(list)
    for assignment in new:
        videos_of[assignment.annotator_id].append(assignment.video_id)
    for annotator_id, video_ids in videos_of.items():
        Assignment.objects.filter(annotator_id=annotator_id, video_id__in=video_ids).delete()
    Assignment.objects.bulk_create(new)


def _quota(mode: str, count: int | None, share: float | None, matching: int) -> int:
    if mode == "all":
        return matching
    if mode == "each":
        if count is None or count < 1:
            raise ValidationError(_("Say how many videos each person gets (1 or more)."))
        return count
    if share is None or not 0 < share <= 100:
        raise ValidationError(_("Give a share between 1 and 100 percent."))
    return max(1, round(matching * share / 100))


@transaction.atomic
def assignments_distribute(
    *,
    project: Project,
    annotators: Sequence[User],
    videos: QuerySet[Video],
    mode: str,
    count: int | None = None,
    share: float | None = None,
    seed: int | None = None,
) -> AssignResult:
    """Give each of ``annotators`` videos from ``videos``: ``count`` each, a ``share`` (percent)
    of them picked at random, or all of them; never more people on a video than the project's
    overlap, never a video twice to one person."""
    if mode not in MODES:
        raise ValidationError(_("Choose how to share the videos out."))
    if not annotators:
        raise ValidationError(_("Choose at least one person to assign videos to."))
    members = set(
        Membership.objects.filter(project=project, user__in=annotators).values_list(
            "user_id", flat=True
        )
    )
    outsiders = [user.get_username() for user in annotators if user.pk not in members]
    if outsiders:
        raise ValidationError(
            _("Not members of this project: %(names)s. Add them on the People page first.")
            % {"names": ", ".join(outsiders)}
        )
    # The selection is any queryset of videos (a filtered list); narrowed through its ids,
    # it gets the videos' own methods, which hold the rule on confirmed tags.
    matching = Video.objects.filter(pk__in=videos.filter(project=project).values("pk")).exclude(
        status=VideoStatus.FAILED
    )
    confirmed = matching.labeled().count()
    order = list(matching.unlabeled().order_by("id").values_list("id", flat=True))
    quota = _quota(mode, count, share, len(order))
    if mode == "share":
        random.Random(seed).shuffle(order)  # noqa: S311 - a fair draw, not a secret
    holders = _slot_holders(project, order)
    overlap = project.annotators_per_video
    full = sum(1 for video_id in order if len(holders[video_id]) >= overlap)
    given: dict[int, int] = dict.fromkeys((user.pk for user in annotators), 0)
    new: list[Assignment] = []
    turn = 0
    for level in range(overlap):
        for video_id in order:
            if len(holders[video_id]) != level:
                continue
            # The next person in turn who still wants videos and does not hold this one.
            for step in range(len(annotators)):
                user = annotators[(turn + step) % len(annotators)]
                if given[user.pk] < quota and user.pk not in holders[video_id]:
                    holders[video_id].add(user.pk)
                    given[user.pk] += 1
                    new.append(Assignment(video_id=video_id, annotator=user))
                    turn = (turn + step + 1) % len(annotators)
                    break
    _store(new)
    gold = gold_reserve(project=project, annotators=annotators, seed=seed)
    return AssignResult(per_annotator=given, full=full, confirmed=confirmed, gold=gold)


@transaction.atomic
def work_reassign(
    *, project: Project, from_user: User, to_users: Sequence[User]
) -> tuple[int, int]:
    """Move ``from_user``'s unfinished videos to ``to_users`` in turn; (moved, returned).

    What they submitted stays theirs. A video none of ``to_users`` can take (they hold
    it already) goes back to the project's queue. A video whose tags were confirmed
    meanwhile is let go without moving: nobody is asked to label it any more.
    """
    if any(user.pk == from_user.pk for user in to_users):
        raise ValidationError(_("Choose other people than the one whose work moves."))
    open_work = list(open_assignments_of(from_user, project).values_list("video_id", flat=True))
    Assignment.objects.filter(annotator=from_user, video_id__in=open_work).delete()
    needed = set(project.videos.unlabeled().filter(pk__in=open_work).values_list("pk", flat=True))
    open_work = [video_id for video_id in open_work if video_id in needed]
    holders = _slot_holders(project, open_work)
    new = []
    turn = 0
    for video_id in open_work:
        if len(holders[video_id]) >= project.annotators_per_video:
            continue
        for step in range(len(to_users)):
            user = to_users[(turn + step) % len(to_users)]
            if user.pk not in holders[video_id]:
                new.append(Assignment(video_id=video_id, annotator=user))
                turn = (turn + step + 1) % len(to_users)
                break
    _store(new)
    # Gold left with the rest of ``from_user``'s open work (it is labeled); those who
    # take the work get the gold that goes with it.
    gold_reserve(project=project, annotators=to_users)
    return len(new), len(open_work) - len(new)
