"""Accounts made by admins from the browser, and invitation links people use to join.

An account's role (its group) caps what a person may do anywhere; their role in each
project (``Membership``) says what they do there. Passwords go through Django's
validators; an invitation link is shown once and only its SHA-256 is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from annotations.models import Invitation, Project, ProjectRole
from annotations.roles import Role
from annotations.services.projects import membership_set

INVITATION_DAYS = 14
MAX_INVITATION_DAYS = 90
_ACCOUNT_ROLE = {ProjectRole.EXPERT: Role.EXPERT, ProjectRole.CROWD: Role.CROWD}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _new_account(*, username: str, password: str, role: Role, email: str = "") -> User:
    username = username.strip()
    if not username:
        raise ValidationError(_("Choose a user name."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("The user name “%(name)s” is taken; choose another.") % {"name": username}
        )
    user = User(username=username, email=email.strip())
    username_field = User._meta.get_field("username")
    for validator in username_field.validators:
        validator(username)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=role.value))
    return user


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    account_role: str,
    by: User,
    project: Project | None = None,
    project_role: str = "",
    email: str = "",
) -> User:
    """A new account with ``account_role`` (admin, expert, crowd), added to ``project``."""
    if account_role not in {role.value for role in Role}:
        raise ValidationError(_("Unknown role “%(role)s”.") % {"role": account_role})
    user = _new_account(username=username, password=password, role=Role(account_role), email=email)
    if project is not None and account_role != Role.ADMIN:
        membership_set(project=project, user=user, role=project_role or account_role, by=by)
    return user


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    # The secret part of the link: shown once, never stored.
    token: str


@transaction.atomic
def invitation_create(
    *, project: Project, role: str, by: User, days: int = INVITATION_DAYS
) -> NewInvitation:
    if role not in ProjectRole.values:
        raise ValidationError(_("Unknown role “%(role)s”.") % {"role": role})
    if not 1 <= days <= MAX_INVITATION_DAYS:
        raise ValidationError(
            _("A link stays valid from 1 to %(n)d days.") % {"n": MAX_INVITATION_DAYS}
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        project=project,
        role=role,
        token_sha256=_token_hash(token),
        created_by=by,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    return NewInvitation(invitation, token)


def invitation_for(token: str) -> Invitation | None:
    """The open invitation this link names: not used, not expired, of a project not archived."""
    return (
        Invitation.objects.select_related("project")
        .filter(
            token_sha256=_token_hash(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            project__archived_at__isnull=True,
        )
        .first()
    )


@transaction.atomic
def invitation_accept(*, token: str, username: str, password: str) -> User:
    """Create the invited person's account and make them a member; the link is then used up."""
    invitation = invitation_for(token)
    if invitation is None:
        raise ValidationError(
            _("This invitation link is used, expired or withdrawn; ask for a new one.")
        )
    # Claimed with a conditional update: two people opening one link get one account.
    now = timezone.now()
    claimed = Invitation.objects.filter(pk=invitation.pk, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise ValidationError(_("This invitation link was just used; ask for a new one."))
    role = ProjectRole(invitation.role)
    user = _new_account(username=username, password=password, role=_ACCOUNT_ROLE[role])
    membership_set(project=invitation.project, user=user, role=role, by=invitation.created_by)
    Invitation.objects.filter(pk=invitation.pk).update(used_by=user)
    return user


def invitation_withdraw(*, invitation: Invitation) -> None:
    """An unused link stops working; a used one stays as the record of who joined how."""
    if invitation.used_at is None:
        invitation.delete()
