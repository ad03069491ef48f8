"""Gold videos: confirmed videos whose labels check the annotators.

Admins mark a video with labels people confirmed as gold. A share of each crowd worker's
work (the project's ``gold_share``) is then gold videos they have not answered: assigned
to them together with the work it is a share of (``gold_reserve``), so it is in their
lists, counts and queue from the moment their other videos are, and handed out among
them in the queue's order. Nothing a crowd worker sees tells it apart: not when it
appears, not the count of videos left, not its suggestions (those of the promoted model,
as on the videos left to label), not what becomes of their answer (see
``gold_answers``). Answers on gold never change its labels and never send it to review.
An annotator whose accuracy on gold falls below the project's threshold is flagged on
the team page, and their unreviewed work can be sent to an expert's review in one
action.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
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
from annotations.roles import P_LABEL, P_LABEL_ANY
from annotations.selectors.access import may
from annotations.services.learning.model_store import promoted_version
from annotations.services.learning.suggestions import suggestions_refresh
from annotations.services.learning.trust import quality_for
from annotations.services.learning.uncertainty import uncertainty_refresh


def gold_mark(*, video: Video, user: User) -> GoldVideo:
    """Make a video gold; its labels must be people's (imported, reviewed or agreed).

    Its suggestions are brought to the promoted model's, as the videos left to label have
    (a confirmed video keeps those it had when it was confirmed): an older model's
    would tell it apart on the labeling page.
    """
    labels = video.confirmed_labels.all()
    if not labels.human().exists() or labels.by_model().exists():
        raise ValidationError(
            _("Only a video whose tags people confirmed can be gold; confirm its tags first.")
        )
    gold, _created = GoldVideo.objects.get_or_create(video=video, defaults={"marked_by": user})
    version = promoted_version(video.project)
    if version is not None and video.suggestions.exclude(model_version=version).exists():
        suggestions_refresh(video=video)
    else:
        # Handed out in "most uncertain first" by its suggestions, as open videos are.
        uncertainty_refresh(video_ids=[video.pk])
    return gold


def gold_unmark(*, video: Video) -> None:
    GoldVideo.objects.filter(video=video).delete()
    uncertainty_refresh(video_ids=[video.pk])


def gold_allowed(*, ordinary: int, share: float) -> int:
    """How many gold videos go with ``ordinary`` other videos: the most that stay within
    ``share`` of all of them, gold included."""
    if share <= 0:
        return 0
    # g <= share * (ordinary + g); the small slack keeps 0.25 * 9 / 0.75 at 3.
    return math.floor(share * ordinary / (1 - share) + 1e-9)


def gold_reserve(
    *, project: Project, annotators: Sequence[User], seed: int | None = None
) -> dict[int, int]:
    """Assign each crowd worker among ``annotators`` the gold that goes with the videos
    assigned to them in ``project`` (``gold_allowed``); returns how many each got.

    Called wherever their work is assigned, so their gold appears in their lists with
    it, never later at the moment it is handed out. Gold they already hold or answered is
    not given again; when too little gold is left, they get what there is.
    """
    share = quality_for(project).gold_share
    golds = Video.objects.filter(project=project, gold__isnull=False)
    gold = set(golds.values_list("pk", flat=True))
    ready = set(golds.ready().values_list("pk", flat=True))
    given: dict[int, int] = {}
    if share <= 0 or not ready:
        return given
    draw = random.Random(seed)  # noqa: S311 - a fair draw, not a secret
    new = []
    for user in annotators:
        if not may(user, project, P_LABEL) or may(user, project, P_LABEL_ANY):
            continue  # only crowd workers are given their work, and checked on gold
        held = Assignment.objects.filter(annotator=user, video__project=project)
        held_gold = set(held.filter(video_id__in=gold).values_list("video_id", flat=True))
        # Their other work: what they answered, and what is still to label (an assigned
        # video confirmed before they got to it is passed by, so it is none of it).
        started = Annotation.objects.filter(video=OuterRef("video"), annotator=user)
        ordinary = (
            held.exclude(video_id__in=gold)
            .filter(Q(Exists(started)) | Q(video__in=Video.objects.unlabeled()))
            .count()
        )
        answered = set(
            Annotation.objects.filter(annotator=user, video_id__in=gold).values_list(
                "video_id", flat=True
            )
        )
        wanted = gold_allowed(ordinary=ordinary, share=share) - len(held_gold)
        unseen = sorted(ready - held_gold - answered)
        chosen = draw.sample(unseen, min(max(wanted, 0), len(unseen)))
        new += [Assignment(video_id=video_id, annotator=user) for video_id in chosen]
        given[user.pk] = len(chosen)
    Assignment.objects.bulk_create(new)
    return given


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
