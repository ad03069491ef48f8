"""What each person may see of the videos they may open: the one rule, per permission.

Labels are the answers: a video's confirmed tags, every annotator's decisions, and the
tags it was imported with (``original_tags``, ``unknown_tags`` in its metadata). Those
who may see all annotations (experts, admins) see them all. Anyone else (a crowd
worker) sees their own decisions only, so nothing steers their answer; every field,
filter and count that is about labels looks at their own chosen tags instead.
Suggestions are the model's, shown to those who may see suggestions.

Every read about labels or suggestions starts from one of these querysets, so a list,
a filter and a count cannot disagree about what is hidden.
"""

from __future__ import annotations

from django.db.models import QuerySet

from annotations.models import Annotation, ConfirmedLabel, Suggestion, TagDecision, Video
from annotations.roles import P_VIEW_ALL_ANNOTATIONS, P_VIEW_SUGGESTIONS
from annotations.selectors.access import AnyUser

# Metadata that carries the answer (the tags a video came with).
LABEL_METADATA_KEYS = frozenset({"original_tags", "unknown_tags"})


def sees_labels(user: AnyUser) -> bool:
    return user.has_perm(P_VIEW_ALL_ANNOTATIONS)


def visible_confirmed_labels(user: AnyUser) -> QuerySet[ConfirmedLabel]:
    if sees_labels(user):
        return ConfirmedLabel.objects.all()
    return ConfirmedLabel.objects.none()


def visible_annotations(user: AnyUser) -> QuerySet[Annotation]:
    if sees_labels(user):
        return Annotation.objects.all()
    return Annotation.objects.filter(annotator=user.pk)


def visible_choices(user: AnyUser) -> QuerySet[TagDecision]:
    """The tags annotators chose (accepted or added) that ``user`` may see."""
    chosen = TagDecision.objects.positive()
    if sees_labels(user):
        return chosen
    return chosen.filter(annotation__annotator=user.pk)


def visible_suggestions(user: AnyUser) -> QuerySet[Suggestion]:
    if user.has_perm(P_VIEW_SUGGESTIONS):
        return Suggestion.objects.all()
    return Suggestion.objects.none()


def shown_metadata(user: AnyUser, video: Video) -> dict[str, object]:
    """The video's metadata as a person may see it; the raw probe is left out."""
    hidden = {"media"}
    if not sees_labels(user):
        hidden |= LABEL_METADATA_KEYS
    return {key: value for key, value in video.metadata.items() if key not in hidden}
