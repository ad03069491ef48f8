"""Gold videos: confirmed videos whose labels check the annotators.

Admins mark a video with labels people confirmed as gold. A share of each crowd worker's
queue (the project's ``gold_share``) is then gold videos they have not answered, handed
out like any other video: nothing on the labeling page tells them apart. Answers on gold
never change its labels (see ``review.video_auto_confirm``) and never send it to review.
An annotator whose accuracy on gold falls below the project's threshold is flagged on the
team page, and their unreviewed work can be sent to an expert's review in one action.
"""

from __future__ import annotations

import random

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
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


def _unfinished_gold(user: User, project: Project) -> Video | None:
    finished = Annotation.objects.filter(
        video=OuterRef("pk"),
        annotator=user,
        state__in=(Annotation.State.SUBMITTED, Annotation.State.SKIPPED),
    )
    return (
        Video.objects.filter(project=project, gold__isnull=False, assignments__annotator=user)
        .exclude(Exists(finished))
        .order_by("id")
        .first()
    )


def gold_for_queue(user: User, project: Project) -> Video | None:
    """A gold video for a crowd worker's next pick, when their share of gold is due."""
    quality = quality_for(project)
    if quality.gold_share <= 0:
        return None
    pending = _unfinished_gold(user, project)
    if pending is not None:
        return pending
    finished = Annotation.objects.filter(
        annotator=user,
        video__project=project,
        state__in=(Annotation.State.SUBMITTED, Annotation.State.SKIPPED),
    ).count()
    given = Assignment.objects.filter(
        annotator=user, video__project=project, video__gold__isnull=False
    ).count()
    # Spread over their work: the next gold video once gold would stay within its share
    # of what they have finished, this one included.
    if given + 1 > quality.gold_share * (finished + 1):
        return None
    total = finished
    unseen = list(
        Video.objects.filter(project=project, gold__isnull=False)
        .exclude(assignments__annotator=user)
        .values_list("pk", flat=True)
    )
    if not unseen:
        return None
    chosen = random.Random(f"{user.pk}:{total}").choice(sorted(unseen))  # noqa: S311
    with transaction.atomic():
        Assignment.objects.get_or_create(video_id=chosen, annotator=user)
    return Video.objects.get(pk=chosen)


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
