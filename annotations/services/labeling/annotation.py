"""One annotator's work on one video: open it, decide tag by tag, submit or skip.

Every change names the revision of the annotation it was made on. A change made
from a stale page (another tab, another device) is refused with
``AnnotationConflict`` instead of silently overwriting the newer state; the page
then shows the current state and the annotator repeats what is still needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import (
    POSITIVE_DECISIONS,
    Annotation,
    Assignment,
    Decision,
    Suggestion,
    Tag,
    TagDecision,
    Video,
)
from annotations.services.errors import StateConflict
from annotations.services.labeling.queue import assignment_hold, lease_extend
from annotations.services.labeling.review import video_auto_confirm

# Activity reported by a page in one request; more than this is a clock or a bug.
MAX_ACTIVE_SECONDS_PER_REQUEST = 3600.0
MAX_SKIP_REASON = 500


class AnnotationConflict(StateConflict):
    """The annotation changed since the page that sent this edit was rendered."""

    def __init__(self, annotation: Annotation, message: str = "") -> None:
        self.annotation = annotation
        self.state = f"The current revision is {annotation.revision}."
        super().__init__(
            message
            or _(
                "This video was changed in another tab or window since this page was loaded. "
                "The page now shows the latest version; repeat your last change if it is "
                "still needed."
            )
        )


class AnnotationLocked(AnnotationConflict):
    """The video's labels were confirmed on this answer: it is part of the record now."""

    def __init__(self, annotation: Annotation) -> None:
        super().__init__(
            annotation,
            _(
                "The labels of this video were confirmed on your submitted answer, so it "
                "can no longer be changed."
            ),
        )


@dataclass(frozen=True)
class SubmitResult:
    annotation: Annotation
    auto_confirmed: bool


def _clamp_seconds(active_seconds: float) -> float:
    if active_seconds != active_seconds:  # NaN from a broken client
        return 0.0
    return max(0.0, min(float(active_seconds), MAX_ACTIVE_SECONDS_PER_REQUEST))


def _bump_revision(
    annotation: Annotation, *, revision: int, active_seconds: float, **changes: object
) -> Annotation:
    """Claim the next revision, or raise AnnotationConflict when ``revision`` is stale.

    The conditional UPDATE is the lock: of two edits made on the same revision
    exactly one matches the WHERE clause.
    """
    seconds = _clamp_seconds(active_seconds)
    now = timezone.now()
    updated = Annotation.objects.filter(
        pk=annotation.pk, revision=revision, locked_at__isnull=True
    ).update(
        revision=F("revision") + 1,
        seconds_spent=F("seconds_spent") + seconds,
        updated_at=now,
        **changes,
    )
    if not updated:
        annotation.refresh_from_db()
        if annotation.is_locked:
            raise AnnotationLocked(annotation)
        raise AnnotationConflict(annotation)
    # The row now holds these values: no other edit can have come in between
    # (activity reports may have added seconds, which only the row knows).
    annotation.revision = revision + 1
    annotation.seconds_spent += seconds
    annotation.updated_at = now
    for name, value in changes.items():
        setattr(annotation, name, value)
    return annotation


def annotation_start(*, video: Video, annotator: User) -> Annotation:
    """The annotator's annotation of ``video``, created as a draft on first open.

    Opening a video also holds its slot (see ``assignment_hold``), so the queue
    does not hand the same slot to someone else meanwhile.
    """
    annotation = Annotation.objects.filter(video=video, annotator=annotator).order_by().first()
    if annotation is None:
        with transaction.atomic():
            annotation, _created = Annotation.objects.get_or_create(
                video=video, annotator=annotator
            )
    assignment_hold(video=video, annotator=annotator)
    return annotation


def decision_set(
    *,
    annotation: Annotation,
    tag: Tag,
    decision: str | None,
    revision: int,
    active_seconds: float = 0.0,
) -> Annotation:
    """Record one tag decision; ``None`` clears it.

    A tag the model suggested is accepted or rejected (and "added" counts as
    accepting it); any other tag can only be added or cleared. In a
    single-label project choosing a tag clears the previously chosen one.
    Editing a submitted or skipped annotation reopens it as a draft.
    """
    if tag.project_id != annotation.video.project_id:
        raise ValidationError(_("This tag belongs to another project."))
    if decision is not None and decision not in Decision.values:
        raise ValidationError(_("Unknown decision: %(decision)s") % {"decision": decision})
    if decision is not None and not tag.active:
        raise ValidationError(_("The tag “%(tag)s” is no longer in use.") % {"tag": tag.path})
    suggestion = (
        Suggestion.objects.filter(video_id=annotation.video_id, tag=tag).order_by("pk").first()
        if decision is not None
        else None
    )
    if decision == Decision.ADD and suggestion is not None:
        decision = Decision.ACCEPT
    elif decision == Decision.ACCEPT and suggestion is None:
        decision = Decision.ADD
    elif decision == Decision.REJECT and suggestion is None:
        # Only a suggestion can be rejected; for a typed tag "reject" means "remove".
        decision = None

    with transaction.atomic():
        annotation = _bump_revision(
            annotation,
            revision=revision,
            active_seconds=active_seconds,
            state=Annotation.State.DRAFT,
            submitted_at=None,
            skip_reason="",
        )
        if decision is None:
            TagDecision.objects.filter(annotation=annotation, tag=tag).delete()
        else:
            if decision in POSITIVE_DECISIONS and annotation.video.project.is_single_label:
                annotation.decisions.positive().exclude(tag=tag).delete()
            TagDecision.objects.update_or_create(
                annotation=annotation,
                tag=tag,
                defaults={
                    "decision": decision,
                    "suggested_score": suggestion.score if suggestion else None,
                    "model_version_id": suggestion.model_version_id if suggestion else None,
                },
            )
        lease_extend(video=annotation.video, annotator=annotation.annotator)
    return annotation


def added_suggestion_note(*, annotation: Annotation, tag: Tag) -> str:
    """What to tell an annotator who adds by hand a tag the model suggested for the video.

    Adding it accepts the suggestion (``decision_set``); the annotator is told so, and
    told when this overturns their own rejection, instead of it happening unseen.
    """
    suggestion = (
        Suggestion.objects.filter(video_id=annotation.video_id, tag=tag).order_by("pk").first()
    )
    if suggestion is None:
        return ""
    before = (
        TagDecision.objects.filter(annotation=annotation, tag=tag)
        .values_list("decision", flat=True)
        .first()
    )
    values = {"tag": tag.path, "score": f"{suggestion.score:.2f}"}
    if before == Decision.ACCEPT:
        return _("“%(tag)s” is a suggestion you have already accepted.") % values
    if before == Decision.REJECT:
        return (
            _("“%(tag)s” is a suggestion (score %(score)s) you had rejected; it is now accepted.")
            % values
        )
    return _(
        "“%(tag)s” was already suggested (score %(score)s): the suggestion is now accepted."
    ) % (values)


def annotation_activity(*, annotation: Annotation, active_seconds: float) -> None:
    """Add time the annotator spent active on the page (idle time is never sent)."""
    Annotation.objects.filter(pk=annotation.pk).update(
        seconds_spent=F("seconds_spent") + _clamp_seconds(active_seconds)
    )


def positive_tag_ids(annotation: Annotation) -> set[int]:
    return set(annotation.decisions.positive().values_list("tag_id", flat=True))


def annotation_submit(
    *, annotation: Annotation, revision: int, active_seconds: float = 0.0
) -> SubmitResult:
    """Submit the annotation; it then counts toward the video's overlap and agreement.

    A multi-label annotation needs at least one tag, a single-label one exactly
    one. A refused submit changes nothing, so the draft stays as it was.
    """
    chosen = positive_tag_ids(annotation)
    if annotation.video.project.is_single_label and len(chosen) != 1:
        raise ValidationError(
            _("This project takes exactly one tag per video; %(n)d are chosen.")
            % {"n": len(chosen)}
        )
    if not chosen:
        raise ValidationError(_("Choose at least one tag, or skip the video and say why."))
    with transaction.atomic():
        annotation = _bump_revision(
            annotation,
            revision=revision,
            active_seconds=active_seconds,
            state=Annotation.State.SUBMITTED,
            submitted_at=timezone.now(),
            skip_reason="",
            # Read in this request at ``revision``, which the update checks: not stale.
            submit_count=annotation.submit_count + 1,
        )
        # The slot is used for good: a submitted annotation never expires.
        Assignment.objects.filter(video=annotation.video, annotator=annotation.annotator).update(
            lease_expires_at=None
        )
        confirmed = video_auto_confirm(video=annotation.video)
    return SubmitResult(annotation=annotation, auto_confirmed=confirmed)


def annotation_skip(
    *, annotation: Annotation, revision: int, reason: str, active_seconds: float = 0.0
) -> Annotation:
    """Give the video back with a reason; its slot returns to the queue for someone else."""
    reason = " ".join(reason.split())[:MAX_SKIP_REASON]
    if not reason:
        raise ValidationError(_("Say why you skip this video."))
    with transaction.atomic():
        annotation = _bump_revision(
            annotation,
            revision=revision,
            active_seconds=active_seconds,
            state=Annotation.State.SKIPPED,
            submitted_at=None,
            skip_reason=reason,
        )
        # A lease taken from the queue is returned; an assignment made by an admin
        # stays (the worker may still look at the video) but no longer holds a slot.
        Assignment.objects.filter(
            video=annotation.video,
            annotator=annotation.annotator,
            lease_expires_at__isnull=False,
        ).delete()
    return annotation
