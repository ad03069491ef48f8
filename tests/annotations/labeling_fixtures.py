"""Builders shared by the labeling, queue, review and agreement tests."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.utils import timezone

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Decision,
    ModelVersion,
    Project,
    Suggestion,
    Tag,
    TagDecision,
    Video,
    VideoStatus,
)
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
    return Suggestion.objects.create(
        video=video, tag=tag, score=score, rank=rank, above_threshold=above, model_version=model
    )


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
