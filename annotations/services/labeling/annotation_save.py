"""Saving a whole annotation at once, as the API does, on top of the labeling services.

The page changes one decision per request; a script sends the full set of decisions
(and whether to submit or skip) in one request. Both go through the same services,
so the same rules apply (suggested tags are accepted or rejected, others added; a
stale revision is refused), and one request is all or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from annotations.models import Annotation, Tag, Video
from annotations.selectors.tags import tags_by_path
from annotations.services.labeling.annotation import (
    AnnotationConflict,
    annotation_activity,
    annotation_skip,
    annotation_start,
    annotation_submit,
    decision_set,
)

ACTIONS = ("save", "submit", "skip")


def annotation_save(
    *,
    video: Video,
    annotator: User,
    decisions: Mapping[str, str],
    action: str = "save",
    revision: int,
    skip_reason: str = "",
    active_seconds: float = 0.0,
) -> Annotation:
    """Make ``decisions`` (tag path -> accept/reject/add) the annotator's, then act.

    Tags not named lose their decision. The whole set replaces what is there, so it
    must name the ``revision`` it was based on: the annotation's current one, or 0
    when the annotator has none yet. Otherwise AnnotationConflict is raised and
    nothing changes (another tab's decisions are never silently replaced).
    """
    if action not in ACTIONS:
        raise ValidationError(f"action must be one of {', '.join(ACTIONS)}")
    by_path = tags_by_path(video.project, decisions)
    tags = {tag.path: tag for tag in by_path.values()}
    wanted = {by_path[path].path: decision for path, decision in decisions.items()}
    with transaction.atomic():
        existed = Annotation.objects.filter(video=video, annotator=annotator).exists()
        annotation = annotation_start(video=video, annotator=annotator)
        if revision != (annotation.revision if existed else 0):
            raise AnnotationConflict(annotation)
        current = {
            d.tag.path: (d.tag, d.decision) for d in annotation.decisions.select_related("tag")
        }
        changes: list[tuple[Tag, str | None]] = [
            (tag, wanted[path])
            for path, tag in tags.items()
            if current.get(path, (None, None))[1] != wanted[path]
        ]
        changes += [(tag, None) for path, (tag, _d) in current.items() if path not in wanted]
        for position, (tag, decision) in enumerate(changes):
            annotation = decision_set(
                annotation=annotation,
                tag=tag,
                decision=decision,
                revision=annotation.revision,
                active_seconds=active_seconds if position == 0 else 0.0,
            )
        if not changes and active_seconds:
            annotation_activity(annotation=annotation, active_seconds=active_seconds)
        if action == "submit":
            annotation = annotation_submit(
                annotation=annotation, revision=annotation.revision
            ).annotation
        elif action == "skip":
            annotation = annotation_skip(
                annotation=annotation, revision=annotation.revision, reason=skip_reason
            )
    return annotation
