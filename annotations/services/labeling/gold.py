"""Gold videos: confirmed videos whose labels check the annotators.

Admins mark a video with labels people confirmed as gold. A share of each crowd worker's
queue (the project's ``gold_share``) is then gold videos they have not answered, handed
out like any other video: nothing on the labeling page tells them apart, not even the
count of videos left in their queue, which counts the gold still due to them
(``picks_ahead``). Answers on gold never change its labels (see
``review.video_auto_confirm``) and never send it to review.
An annotator whose accuracy on gold falls below the project's threshold is flagged on the
team page, and their unreviewed work can be sent to an expert's review in one action.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from annotations.models import (
    Annotation,
    Assignment,
    ConfirmedLabel,
    GoldVideo,
    LabelSource,
    Project,
    ReviewRequest,
    Video,
)
from annotations.services.learning.trust import quality_for


def gold_mark(*, video: Video, user: User) -> GoldVideo:
    """Make a video gold; its labels must be people's (imported, reviewed or agreed)."""
    labels = video.confirmed_labels.all()
    if not labels.human().exists() or labels.by_model().exists():
        raise ValidationError(
            _("Only a video whose tags people confirmed can be gold; confirm its tags first.")
        )
    gold, _created = GoldVideo.objects.get_or_create(video=video, defaults={"marked_by": user})
    return gold


def gold_unmark(*, video: Video) -> None:
    GoldVideo.objects.filter(video=video).delete()


def gold_due(*, given: int, finished: int, share: float) -> bool:
    """Whether a crowd worker's next pick is gold, ``given`` gold videos handed to them
    and ``finished`` videos done: once gold would stay within its share of what they
    have finished, the next one included. This spreads gold over their work."""
    return share > 0 and given + 1 <= share * (finished + 1)


def _finished_by(user: User) -> Exists:
    return Exists(Annotation.objects.finished().filter(video=OuterRef("pk"), annotator=user))


def _gold_given(user: User, project: Project) -> QuerySet[Video]:
    return Video.objects.filter(project=project, gold__isnull=False, assignments__annotator=user)


def _finished_count(user: User, project: Project) -> int:
    return Annotation.objects.finished().in_project(project).filter(annotator=user).count()


def gold_for_queue(user: User, project: Project) -> Video | None:
    """A gold video for a crowd worker's next pick, when their share of gold is due."""
    quality = quality_for(project)
    if quality.gold_share <= 0:
        return None
    pending = _gold_given(user, project).exclude(_finished_by(user)).order_by("id").first()
    if pending is not None:
        return pending
    finished = _finished_count(user, project)
    given = _gold_given(user, project).count()
    if not gold_due(given=given, finished=finished, share=quality.gold_share):
        return None
    unseen = list(
        Video.objects.filter(project=project, gold__isnull=False)
        .exclude(assignments__annotator=user)
        .values_list("pk", flat=True)
    )
    if not unseen:
        return None
    chosen = random.Random(f"{user.pk}:{finished}").choice(sorted(unseen))  # noqa: S311
    with transaction.atomic():
        Assignment.objects.get_or_create(video_id=chosen, annotator=user)
    return Video.objects.get(pk=chosen)


@dataclass(frozen=True)
class GoldStanding:
    """Where a crowd worker stands with gold: what decides whether a pick is gold."""

    share: float
    finished: int  # videos they submitted or skipped
    given: int  # gold videos handed to them
    pending: int  # of those, the ones they have not finished
    unseen: int  # gold videos not handed to them yet


def gold_standing(user: User, project: Project, *, besides: Video | None = None) -> GoldStanding:
    """``user``'s standing with gold in ``project``. ``besides``, the video on their
    screen, counts as finished if it is not yet: it will be by their next pick."""
    share = quality_for(project).gold_share
    if share <= 0:
        return GoldStanding(share=0.0, finished=0, given=0, pending=0, unseen=0)
    given = _gold_given(user, project).aggregate(
        all=Count("pk"), pending=Count("pk", filter=~Q(_finished_by(user)))
    )
    finished = _finished_count(user, project)
    pending = given["pending"]
    if besides is not None:
        on_screen = Video.objects.filter(pk=besides.pk).exclude(_finished_by(user))
        if on_screen.exists():
            finished += 1
            if on_screen.filter(pk__in=_gold_given(user, project)).exists():
                pending -= 1
    return GoldStanding(
        share=share,
        finished=finished,
        given=given["all"],
        pending=pending,
        unseen=GoldVideo.objects.filter(video__project=project).count() - given["all"],
    )


def picks_ahead(standing: GoldStanding, *, ordinary: int, cap: int) -> int:
    """How many videos the queue will hand a crowd worker, one after another, each finished
    before the next: the gold they hold first, new gold whenever it is due
    (``gold_due``), their ``ordinary`` videos in between. Counting stops at ``cap``.

    Gold counts like any other video, so the number falls by one with every video handed
    out and says nothing about which of them are gold.
    """
    finished, given, unseen = standing.finished, standing.given, standing.unseen
    ahead = min(standing.pending, cap)
    finished += ahead
    while ahead < cap:
        if unseen > 0 and gold_due(given=given, finished=finished, share=standing.share):
            given += 1
            unseen -= 1
        elif ordinary > 0:
            ordinary -= 1
        else:
            break
        finished += 1
        ahead += 1
    return ahead


def annotator_work_to_review(*, project: Project, annotator: User, by: User) -> int:
    """Send every video the annotator submitted that no expert reviewed to review; returns
    how many were sent."""
    reviewed = ConfirmedLabel.objects.filter(video=OuterRef("pk"), source=LabelSource.REVIEW)
    videos = (
        Video.objects.filter(
            project=project,
            annotations__annotator=annotator,
            annotations__state=Annotation.State.SUBMITTED,
        )
        .exclude(Exists(reviewed))
        .exclude(gold__isnull=False)
        .distinct()
    )
    sent = 0
    with transaction.atomic():
        for video in videos:
            _request, created = ReviewRequest.objects.get_or_create(
                video=video,
                reason=ReviewRequest.Reason.ANNOTATOR_FLAGGED,
                resolved_at=None,
                defaults={"requested_by": by},
            )
            sent += created
    return sent
