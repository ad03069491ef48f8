"""Builders shared by the labeling, queue, review and agreement tests."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Decision,
    LabelChange,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    Video,
    VideoStatus,
)
from annotations.selectors.review import labels_revision
from annotations.services.labeling.review import review_confirm
from annotations.services.learning.uncertainty import uncertainty_refresh
from tests.factories import confirm_label, make_video


def ready_video(project: Project, **fields: object) -> Video:
    fields.setdefault("status", VideoStatus.READY)
    return make_video(project, **fields)


def suggest(
    video: Video,
    tag: Tag,
    score: float,
    *,
    rank: int = 1,
    above: bool = True,
    model: ModelVersion | None = None,
) -> Suggestion:
    suggestion = Suggestion.objects.create(
        video=video, tag=tag, score=score, rank=rank, above_threshold=above, model_version=model
    )
    # As the scorer does when it stores suggestions: the queue's order reads this.
    uncertainty_refresh(video_ids=[video.pk])
    return suggestion


def imported_label(video: Video, tag: Tag) -> ConfirmedLabel:
    """A tag confirmed with the video's import, with its history entry, as an import writes it."""
    return confirm_label(video, tag)


def submitted(video: Video, user: User, tags: list[Tag], *, seconds: float = 10.0) -> Annotation:
    """A submitted annotation choosing ``tags``, written directly (not through the services)."""
    annotation = Annotation.objects.create(
        video=video,
        annotator=user,
        state=Annotation.State.SUBMITTED,
        submitted_at=timezone.now(),
        seconds_spent=seconds,
    )
    for tag in tags:
        TagDecision.objects.create(annotation=annotation, tag=tag, decision=Decision.ADD)
    return annotation


def confirm_now(
    video: Video, tag_ids: list[int], reviewer: User, *, reason: str = ""
) -> list[LabelChange]:
    """A review confirmed on the sheet as it is now: on the current revision of the tags."""
    return review_confirm(
        video=video,
        tag_ids=tag_ids,
        reviewer=reviewer,
        revision=labels_revision(video),
        reason=reason,
    )
