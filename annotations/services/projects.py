"""Creating, changing and archiving projects, and who is a member of each.

Their taxonomy has its own service; accounts and invitations are in ``people``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import Annotation, Assignment, Membership, Project, ProjectRole
from annotations.roles import Role, role_of

EDITABLE_FIELDS = (
    "name",
    "taxonomy_name",
    "labeling_mode",
    "annotators_per_video",
    "queue_order",
    "auto_confirm_agreement",
    "review_majority_share",
    "self_review",
    "guidelines",
)

# The account role a project role needs: an expert of a project must be able to review.
_ACCOUNT_ROLE_FOR = {ProjectRole.EXPERT: Role.EXPERT, ProjectRole.CROWD: Role.CROWD}
_RANK = {Role.CROWD: 1, Role.EXPERT: 2, Role.ADMIN: 3}


def default_guidelines() -> str:
    """Guidelines a new project starts from, in the language of whoever creates it."""
    return _(
        "## How to tag\n"
        "\n"
        "* Choose **every** tag that describes what the video is about, not only the main one.\n"
        "* Prefer the most specific tag: «Спорт: Футбол» rather than «Спорт».\n"
        "* Judge by the picture, the speech and the title together; the title alone can "
        "mislead.\n"
        "* Skip a video (with a reason) when it will not play or you cannot tell its topic.\n"
    )


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not project fields: {', '.join(sorted(unknown))}")


@transaction.atomic
def project_create(*, name: str, **fields: Any) -> Project:
    """A new project; raises ValidationError (a taken name, a bad value) before saving."""
    _check_fields(fields)
    project = Project(name=name, **fields)
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def project_update(*, project: Project, **fields: Any) -> Project:
    _check_fields(fields)
    for name, value in fields.items():
        setattr(project, name, value)
    project.full_clean()
    project.save(update_fields=[*fields] or None)
    return project


def project_archive(*, project: Project, archived: bool = True) -> Project:
    """Archive (or bring back) a project: nothing is deleted, members stop seeing it."""
    project.archived_at = timezone.now() if archived else None
    project.save(update_fields=["archived_at"])
    return project


def account_role_raise(*, user: User, role: Role) -> None:
    """Give ``user`` the account role ``role`` if theirs is weaker (never lowers one).

    The account role caps what a person may do in any project; their role in each
    project says what they do there, so raising the cap opens nothing elsewhere.
    """
    current = role_of(user)
    if current is not None and _RANK[current] >= _RANK[role]:
        return
    user.groups.remove(*Group.objects.filter(name__in=[r.value for r in Role]))
    user.groups.add(Group.objects.get(name=role.value))


@transaction.atomic
def membership_set(
    *, project: Project, user: User, role: str, by: User | None = None
) -> Membership:
    """Make ``user`` a member of ``project`` with ``role``, or change their role there."""
    if role not in ProjectRole.values:
        raise ValidationError(
            _("Unknown role “%(role)s”; choose expert or crowd worker.") % {"role": role}
        )
    if not user.is_active:
        raise ValidationError(
            _("%(user)s's account is switched off.") % {"user": user.get_username()}
        )
    if role_of(user) is not Role.ADMIN:
        account_role_raise(user=user, role=_ACCOUNT_ROLE_FOR[ProjectRole(role)])
    membership, created = Membership.objects.get_or_create(
        project=project, user=user, defaults={"role": role, "added_by": by}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, project: Project, user: User) -> int:
    """Take ``user`` out of ``project``; returns how many of their open assignments were let go.

    What they submitted stays (it is part of the record); the videos they had not
    finished go back to the queue, or to whoever the admin reassigns them to first.
    """
    open_assignments = open_assignments_of(user, project)
    released = open_assignments.count()
    open_assignments.delete()
    Membership.objects.filter(project=project, user=user).delete()
    return released


def open_assignments_of(user: User, project: Project) -> QuerySet[Assignment]:
    """``user``'s assignments in ``project`` for videos they have not submitted or skipped."""
    finished = Annotation.objects.filter(
        video=OuterRef("video"),
        annotator=user,
        state__in=(Annotation.State.SUBMITTED, Annotation.State.SKIPPED),
    )
    return Assignment.objects.filter(annotator=user, video__project=project).exclude(
        Exists(finished)
    )
