"""The three roles, as Django groups holding permissions.

Views and API endpoints check permissions (``user.has_perm``), never group
names, so a deployment can grant one extra permission to one person without
inventing a role.
"""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction


class Role(StrEnum):
    ADMIN = "admin"
    EXPERT = "expert"
    CROWD = "crowd"


P_MANAGE_PROJECTS = "annotations.manage_projects"
P_MANAGE_TAXONOMY = "annotations.manage_taxonomy"
P_IMPORT_VIDEOS = "annotations.import_videos"
P_PROCESS_VIDEOS = "annotations.process_videos"
P_LABEL = "annotations.label_videos"
P_LABEL_ANY = "annotations.label_any_video"
P_VIEW_SUGGESTIONS = "annotations.view_suggestions"
P_VIEW_ALL_ANNOTATIONS = "annotations.view_all_annotations"
P_REVIEW = "annotations.review_annotations"
P_RETRAIN = "annotations.retrain_model"
P_EXPORT = "annotations.export_dataset"

_CROWD = [P_LABEL, P_VIEW_SUGGESTIONS]
_EXPERT = [*_CROWD, P_LABEL_ANY, P_VIEW_ALL_ANNOTATIONS, P_REVIEW, P_IMPORT_VIDEOS]
_ADMIN = [*_EXPERT, P_MANAGE_PROJECTS, P_MANAGE_TAXONOMY, P_PROCESS_VIDEOS, P_RETRAIN, P_EXPORT]

ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.ADMIN: _ADMIN,
    Role.EXPERT: _EXPERT,
    Role.CROWD: _CROWD,
}
# Ordered from most to least powerful: a user in several groups is shown the first.
ROLE_ORDER = [Role.ADMIN, Role.EXPERT, Role.CROWD]


def _permission(codename_with_app: str) -> Permission:
    app_label, codename = codename_with_app.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@transaction.atomic
def roles_bootstrap() -> dict[Role, int]:
    """Create or repair the role groups; returns how many permissions each holds.

    Running it again changes nothing. The admin group also gets every model
    permission of this app, so admins can use Django's admin site, and may see the
    failed logins and lockouts and delete them (which lifts a lock).
    """
    counts: dict[Role, int] = {}
    app_model_permissions = [
        *Permission.objects.filter(
            content_type__in=ContentType.objects.filter(app_label="annotations")
        ),
        *Permission.objects.filter(
            content_type__app_label="axes", codename__regex=r"^(view|delete)_"
        ),
    ]
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = {_permission(name) for name in codenames}
        if role is Role.ADMIN:
            wanted.update(app_model_permissions)
        group.permissions.set(wanted)
        counts[role] = len(wanted)
    return counts


def role_of(user: User | AnonymousUser) -> Role | None:
    """The most powerful role a user holds, or None for anonymous or role-less users."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    names = set(user.groups.values_list("name", flat=True))
    for role in ROLE_ORDER:
        if role.value in names:
            return role
    return None
