"""The model registry: which version of a project suggests tags, and how it got there.

Every change of the promoted version is a ModelEvent with who, when and why, and
measures the model's trust per tag again, on the new version's own evidence.
Replayed in order the events form a stack: a promotion puts a version on top, a
rollback takes the top one off and promotes the one below, so rolling back twice
walks back two versions (v3 -> v2 -> v1), never forward again.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import Job, ModelEvent, ModelVersion, Project
from annotations.selectors.model_registry import promotion_stack
from annotations.services.errors import StateConflict
from annotations.services.jobs.lifecycle import job_request
from annotations.services.learning.trust import tag_trust_refresh


class PromotionRefused(StateConflict):
    """A promotion or rollback the versions' states do not allow; the message says why."""


def _make_current(
    version: ModelVersion, *, action: str, user: User | None, reason: str
) -> ModelVersion:
    """Promote ``version`` (retiring the current one), record why, refresh suggestions."""
    project = version.project
    # One change of a project's registry at a time: the second waits and sees the first.
    Project.objects.select_for_update().filter(pk=project.pk).first()
    previous = ModelVersion.objects.filter(project=project).promoted().first()
    if previous is not None and previous.pk == version.pk:
        raise PromotionRefused(
            f"Version {version.number} is already the promoted one.",
            shown=lambda: _("Version %(n)d is already the promoted one.") % {"n": version.number},
        )
    ModelVersion.objects.filter(project=project).promoted().update(state=ModelVersion.State.RETIRED)
    version.state = ModelVersion.State.PROMOTED
    version.promoted_at = timezone.now()
    version.save(update_fields=["state", "promoted_at", "note"])
    ModelEvent.objects.create(
        project=project, action=action, version=version, previous=previous, by=user, reason=reason
    )
    # Trust is earned by a version itself: the new one confirms by itself only what its
    # own predictions (on its held-out videos, and suggestions checked since) proved.
    tag_trust_refresh(project=project)
    # The suggestions of the project's videos come from the new model once this job ran.
    job_request(kind=Job.Kind.SUGGESTIONS, project=project, object_id=project.pk, user=user)
    return version


def version_promote_by_gate(*, version: ModelVersion, reason: str) -> ModelVersion:
    """The training's own promotion, when the gate found the candidate better."""
    with transaction.atomic():
        return _make_current(version, action=ModelEvent.Action.PROMOTED, user=None, reason=reason)


def model_promote(
    *, version: ModelVersion, user: User | None = None, reason: str = ""
) -> ModelVersion:
    """Promote any trained version by hand."""
    if (
        version.state in (ModelVersion.State.TRAINING, ModelVersion.State.FAILED)
        or not version.artifact_path
    ):
        raise PromotionRefused(
            f"Version {version.number} has no trained model to promote.",
            shown=lambda: (
                _("Version %(n)d has no trained model to promote.") % {"n": version.number}
            ),
        )
    with transaction.atomic():
        return _make_current(
            version,
            action=ModelEvent.Action.PROMOTED,
            user=user,
            reason=reason,
        )


def model_rollback(*, project: Project, user: User | None = None, reason: str = "") -> ModelVersion:
    """Promote again the version that was promoted before the current one."""
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        stack = promotion_stack(project)
        if len(stack) < 2:
            raise PromotionRefused(
                "There is no earlier promoted version to roll back to.",
                shown=lambda: _("There is no earlier promoted version to roll back to."),
            )
        target = ModelVersion.objects.select_related("project").get(pk=stack[-2])
        return _make_current(
            target,
            action=ModelEvent.Action.ROLLED_BACK,
            user=user,
            reason=reason,
        )
