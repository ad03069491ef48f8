"""What each person may see of the videos they may open: the one rule, per permission.

Labels are the answers: a video's confirmed tags, every annotator's decisions, and the
tags it was imported with (``original_tags``, ``unknown_tags`` in its metadata). Those
who may see all annotations (experts, admins) see them all. Anyone else (a crowd
worker) sees their own decisions only, so nothing steers their answer; every field,
filter and count that is about labels looks at their own chosen tags instead.
Suggestions are the model's, shown to those who may see suggestions.

Every read about labels or suggestions starts from one of these querysets, so a list,
a filter and a count cannot disagree about what is hidden. "Those who may see all
annotations" is decided per project (``access.may``): an expert who is a crowd worker
in one project sees only their own decisions there.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from annotations.models import (
    Annotation,
    ConfirmedLabel,
    Project,
    Suggestion,
    TagDecision,
    Video,
)
from annotations.roles import P_VIEW_ALL_ANNOTATIONS, P_VIEW_SUGGESTIONS
from annotations.selectors.access import AnyUser, may, projects_with_perm, sees_every_project

# Metadata that carries the answer: the tags a video came with (those of a manifest,
# and those not in the taxonomy).
LABEL_METADATA_KEYS = frozenset({"original_tags", "unknown_tags"})


def sees_labels(user: AnyUser, project: Project) -> bool:
    return may(user, project, P_VIEW_ALL_ANNOTATIONS)


def _sees_all_labels_everywhere(user: AnyUser) -> bool:
    return sees_every_project(user) and user.has_perm(P_VIEW_ALL_ANNOTATIONS)


def visible_confirmed_labels(user: AnyUser) -> QuerySet[ConfirmedLabel]:
    if _sees_all_labels_everywhere(user):
        return ConfirmedLabel.objects.all()
    return ConfirmedLabel.objects.filter(
        video__project__in=projects_with_perm(user, P_VIEW_ALL_ANNOTATIONS)
    )


def visible_annotations(user: AnyUser) -> QuerySet[Annotation]:
    if _sees_all_labels_everywhere(user):
        return Annotation.objects.all()
    return Annotation.objects.filter(
        Q(annotator=user.pk)
        | Q(video__project__in=projects_with_perm(user, P_VIEW_ALL_ANNOTATIONS))
    )


def visible_choices(user: AnyUser) -> QuerySet[TagDecision]:
    """The tags annotators chose (accepted or added) that ``user`` may see."""
    chosen = TagDecision.objects.positive()
    if _sees_all_labels_everywhere(user):
        return chosen
    return chosen.filter(
        Q(annotation__annotator=user.pk)
        | Q(annotation__video__project__in=projects_with_perm(user, P_VIEW_ALL_ANNOTATIONS))
    )


def confirmed_labels_seen_in(user: AnyUser, project: Project) -> QuerySet[ConfirmedLabel]:
    """The confirmed labels ``user`` may see on ``project``'s videos, for narrowing a
    queryset of that project's videos (by ``video=OuterRef(...)`` or a tag of the project):
    all of them, or none.

    The same rule as ``visible_confirmed_labels``, decided for the one project up front:
    the database then reads the labels of the videos at hand, not those of every project
    the person may see (0.7 s a filter with 100,000 labeled videos). The queryset itself
    names no project, so its caller's videos or tags must.
    """
    return (
        ConfirmedLabel.objects.all()
        if sees_labels(user, project)
        else ConfirmedLabel.objects.none()
    )


def choices_seen_in(user: AnyUser, project: Project) -> QuerySet[TagDecision]:
    """The tags annotators chose that ``user`` may see on ``project``'s videos, for
    narrowing a queryset of that project's videos as ``confirmed_labels_seen_in`` is:
    everyone's, or their own."""
    chosen = TagDecision.objects.positive()
    return chosen if sees_labels(user, project) else chosen.filter(annotation__annotator=user.pk)


def visible_suggestions(user: AnyUser) -> QuerySet[Suggestion]:
    if sees_every_project(user) and user.has_perm(P_VIEW_SUGGESTIONS):
        return Suggestion.objects.all()
    return Suggestion.objects.filter(
        video__project__in=projects_with_perm(user, P_VIEW_SUGGESTIONS)
    )


def shown_metadata(user: AnyUser, video: Video) -> dict[str, object]:
    """The video's metadata as a person may see it; the raw probe is left out."""
    hidden = {"media"}
    if not sees_labels(user, video.project):
        hidden |= LABEL_METADATA_KEYS
    return {key: value for key, value in video.metadata.items() if key not in hidden}
