"""From annotations to confirmed labels: automatic when annotators agree, by an expert otherwise.

A video needs review when as many annotators as the project asks for have
submitted and either their tags differ, or they agree but the project wants
agreement confirmed by a person (see ``annotations.selectors.review``). Confirmed
labels are what training and exports use; every change to them is written to the
LabelChange history (who, when, what and, for a removal, why). Nothing but a
person's explicit decision removes a confirmed tag: the agreement rule only adds.
Once a video's labels are confirmed, its submitted annotations are locked.

A deprecated tag is confirmed on no video anew, neither by an expert nor by the
agreement rule; a video that carries it already keeps it until an expert unchecks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from annotations.models import (
    ConfirmedLabel,
    GoldVideo,
    LabelChange,
    LabelSource,
    ModelVersion,
    ReviewRequest,
    Tag,
    TagDecision,
    Video,
)
from annotations.selectors.review import labels_revision, may_review
from annotations.services.errors import StateConflict
from annotations.services.labeling.gold_answers import gold_answers_lock, gold_answers_settle
from annotations.services.learning.trust import tag_trust_refresh
from annotations.services.learning.uncertainty import uncertainty_refresh

MAX_REASON = 500


class ReviewConflict(StateConflict):
    """The video's confirmed tags changed since the sheet this confirmation was made on."""

    def __init__(self, revision: int) -> None:
        self.revision = revision
        self.state = f"The current revision is {revision}."
        super().__init__(
            "The confirmed tags of this video changed after the review sheet was loaded "
            "(another expert or another tab confirmed them), so nothing was changed. Load "
            "the sheet again, see what changed in its history, and confirm again.",
            shown=lambda: _(
                "The confirmed tags of this video changed after this page was loaded (another "
                "expert or another tab confirmed them), so nothing was confirmed. The sheet "
                "now shows the current tags and the history says what changed: check them "
                "and confirm again."
            ),
        )


def _labels_change(
    *,
    video: Video,
    add: AbstractSet[int],
    remove: AbstractSet[int] = frozenset(),
    vouch: AbstractSet[int] = frozenset(),
    source: LabelSource,
    user: User | None,
    reason: str = "",
    model_version: ModelVersion | None = None,
) -> list[LabelChange]:
    """Add, remove and re-confirm confirmed labels, writing each change to the history.

    ``vouch``: labels kept by this confirmation, now confirmed by ``user`` too.
    ``model_version``: the version that confirmed them (source "model" only).
    """
    now = timezone.now()
    changes = [
        LabelChange(
            video=video,
            tag_id=tag_id,
            action=action,
            source=source,
            changed_by=user,
            reason=why,
            model_version=model_version if action != LabelChange.Action.REMOVED else None,
        )
        for action, ids, why in (
            (LabelChange.Action.REMOVED, remove, reason),
            (LabelChange.Action.ADDED, add, ""),
            (LabelChange.Action.CONFIRMED, vouch, ""),
        )
        for tag_id in sorted(ids)
    ]
    ConfirmedLabel.objects.filter(video=video, tag_id__in=remove).delete()
    ConfirmedLabel.objects.bulk_create(
        [
            ConfirmedLabel(
                video=video,
                tag_id=tag_id,
                source=source,
                confirmed_by=user,
                model_version=model_version,
            )
            for tag_id in sorted(add)
        ]
    )
    ConfirmedLabel.objects.filter(video=video, tag_id__in=vouch).update(
        source=source, confirmed_by=user, confirmed_at=now, model_version=model_version
    )
    # The answers the labels were confirmed on are part of the record from now on.
    settled = video.annotations.submitted().filter(locked_at__isnull=True)
    annotators = list(settled.values_list("annotator_id", flat=True))
    settled.update(locked_at=now)
    # Their answers on gold lock with their other work (see ``gold_answers``).
    gold_answers_lock(project_id=video.project_id, annotator_ids=annotators, now=now)
    # Confirmed, the video leaves the front of "most uncertain first"; with none left, it
    # would take its place there again.
    uncertainty_refresh(video_ids=[video.pk])
    return LabelChange.objects.bulk_create(changes)


def _refuse_deprecated(tag_ids: AbstractSet[int]) -> None:
    """Refuse, naming them, the deprecated tags among ``tag_ids`` (tags to add)."""
    paths = list(
        Tag.objects.filter(pk__in=tag_ids, active=False)
        .order_by("path")
        .values_list("path", flat=True)
    )
    if paths:
        raise ValidationError(
            ngettext(
                "This tag is deprecated and is no longer added to videos: %(tags)s. "
                "Choose a tag in use.",
                "These tags are deprecated and are no longer added to videos: %(tags)s. "
                "Choose tags in use.",
                len(paths),
            )
            % {"tags": ", ".join(paths)}
        )


def review_confirm(
    *, video: Video, tag_ids: Iterable[int], reviewer: User, revision: int, reason: str = ""
) -> list[LabelChange]:
    """Make ``tag_ids`` the video's confirmed tags; returns the history entries written.

    ``revision`` is the revision of the confirmed tags the reviewer decided on (the
    sheet's, see ``labels_revision``): when they changed since, ReviewConflict is raised
    and nothing changes, so a stale sheet never undoes another expert's decision.
    Removing a tag that is confirmed needs ``reason``, kept with the removal in the
    history. A deprecated tag may stay where it is confirmed but is never added. A
    reviewer who annotated the video may confirm it only when the project allows it or
    no other reviewer could.
    """
    wanted = set(tag_ids)
    project = video.project
    reason = " ".join(reason.split())[:MAX_REASON]
    valid = set(project.tags.filter(pk__in=wanted).values_list("pk", flat=True))
    if valid != wanted:
        raise ValidationError(_("Some of these tags are not in this project's taxonomy."))
    if project.is_single_label and len(wanted) != 1:
        raise ValidationError(_("This project takes exactly one tag per video."))
    if not wanted:
        raise ValidationError(_("Confirm at least one tag."))
    if not may_review(reviewer, video):
        raise PermissionDenied(
            _("You annotated this video; another expert reviews it (the project's rule).")
        )
    with transaction.atomic():
        # One confirmation of a video at a time: the second sees the first's result.
        Video.objects.select_for_update().filter(pk=video.pk).first()
        if (latest := labels_revision(video)) != revision:
            raise ReviewConflict(latest)
        current = set(video.confirmed_labels.values_list("tag_id", flat=True))
        _refuse_deprecated(wanted - current)
        removed = current - wanted
        if removed and not reason:
            paths = (
                Tag.objects.filter(pk__in=removed).order_by("path").values_list("path", flat=True)
            )
            raise ValidationError(
                _("Say why you remove the confirmed tags: %(tags)s.") % {"tags": ", ".join(paths)}
            )
        changes = _labels_change(
            video=video,
            add=wanted - current,
            remove=removed,
            vouch=wanted & current,
            source=LabelSource.REVIEW,
            user=reviewer,
            reason=reason,
        )
        # Whatever sent the video to review (an audit, a flagged annotator) is answered.
        requests = ReviewRequest.objects.filter(video=video, resolved_at__isnull=True)
        audited = requests.filter(reason=ReviewRequest.Reason.AUDIT).exists()
        requests.update(resolved_at=timezone.now(), resolved_by=reviewer)
        if audited:
            # The audit's outcome is new evidence about the model's precision.
            tag_trust_refresh(project=project)
        return changes


def video_confirm_by_model(
    *, video: Video, tag_ids: Iterable[int], version: ModelVersion
) -> list[LabelChange]:
    """Confirm tags the model has earned trust on, on a video nobody confirmed yet.

    Only adds, and only to a video without confirmed labels: a person's labels are never
    changed by the model. Returns the history entries written (none if it had labels).
    """
    wanted = set(tag_ids)
    if not wanted:
        return []
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        if video.confirmed_labels.exists():
            return []
        return _labels_change(
            video=video, add=wanted, source=LabelSource.MODEL, user=None, model_version=version
        )


def video_auto_confirm(*, video: Video) -> bool:
    """Confirm the tags all annotators agree on, when the project says so.

    Only when as many annotators as asked have submitted, they all chose the same
    tags in use, those tags include every tag already confirmed, and no expert has
    confirmed this video's labels (a person's review is never overwritten by the rule).
    The rule only adds tags; a video whose annotators left out a confirmed tag goes to
    review. Choices of deprecated tags (made before they were deprecated) are left out:
    they are neither compared nor confirmed, as ``selectors.review.with_agreement``
    leaves them out. Returns whether labels were confirmed.
    """
    project = video.project
    if not project.auto_confirm_agreement:
        return False
    if GoldVideo.objects.filter(video=video).exists():
        # A gold video's labels are the reference: answers on it are checked, never added;
        # they lock as they would on another video.
        gold_answers_settle(video=video)
        return False
    with transaction.atomic():
        Video.objects.select_for_update().filter(pk=video.pk).first()
        chosen: dict[int, set[int]] = {}
        chosen_by_anyone: set[int] = set()
        for annotation_id, tag_id, in_use in (
            TagDecision.objects.submitted()
            .positive()
            .filter(annotation__video=video)
            .values_list("annotation_id", "tag_id", "tag__active")
        ):
            chosen_by_anyone.add(tag_id)
            if in_use:
                chosen.setdefault(annotation_id, set()).add(tag_id)
        submitted = video.annotations.submitted().count()
        if submitted < project.annotators_per_video or len(chosen) != submitted:
            return False
        sets = list(chosen.values())
        if any(tags != sets[0] for tags in sets[1:]):
            return False
        if (
            video.confirmed_labels.exclude(source=LabelSource.AGREEMENT)
            .exclude(source=LabelSource.IMPORT)
            .exists()
        ):
            # A person's review is never overwritten by the rule, nor is an unaudited
            # confirmation by the model turned into the annotators' agreement.
            return False
        current = set(video.confirmed_labels.values_list("tag_id", flat=True))
        # Annotators who left out a confirmed tag disagree with what is known (as in
        # ``with_agreement``): one in use is then in every agreeing set; a deprecated
        # one, no longer offered, only needs to have been chosen.
        if not current <= chosen_by_anyone:
            return False
        _labels_change(video=video, add=sets[0] - current, source=LabelSource.AGREEMENT, user=None)
    return True
