from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from annotations.models import Project
from annotations.roles import (
    P_EXPORT,
    P_IMPORT_VIDEOS,
    P_LABEL,
    P_MANAGE_TAXONOMY,
    P_PROCESS_VIDEOS,
    P_RETRAIN,
    P_REVIEW,
    P_VIEW_SUGGESTIONS,
    role_of,
)
from annotations.selectors.access import get_project_for_user, may

# What a refused request is told, per permission: who may do it instead.
_REFUSALS = {
    P_MANAGE_TAXONOMY: "Only admins can manage projects and taxonomies.",
    P_IMPORT_VIDEOS: "Only experts and admins can import videos.",
    P_LABEL: "Your role cannot label videos.",
    P_VIEW_SUGGESTIONS: "Your role cannot see the model's suggestions.",
    P_REVIEW: "Only experts and admins can review labels and see models.",
    P_RETRAIN: "Only admins can retrain, promote or roll back models.",
    P_EXPORT: "Only admins can export or import datasets.",
    P_PROCESS_VIDEOS: "Only admins can re-run, retry or cancel the processing of videos.",
}


class HasRole(BasePermission):
    """Authenticated and holding one of the roles; finer checks happen per view."""

    message = "Your account has no role yet; ask an admin to give you one."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return role_of(request.user) is not None


# The base of every endpoint but the token login: a caller with a role. (No docstring:
# the schema would take it as the description of every operation.)
class RoleApiView(APIView):
    permission_classes = [HasRole]


def require_perm(user: User | AnonymousUser, permission: str) -> None:
    if not user.has_perm(permission):
        raise PermissionDenied(_REFUSALS.get(permission, "Your role does not allow this."))


def require_in_project(user: User | AnonymousUser, project: Project, permission: str) -> None:
    """403 unless ``user``'s role in ``project`` allows ``permission`` (see ``access.may``)."""
    if not may(user, project, permission):
        raise PermissionDenied(_REFUSALS.get(permission, "Your role does not allow this."))


def project_for(user: User, project_id: int, permission: str) -> Project:
    """The project, 404 if ``user`` cannot see it, 403 unless their role in it allows
    ``permission``: the account's permission alone is not enough in a project where the
    user is, say, a crowd worker."""
    project = get_project_for_user(user, project_id)
    require_in_project(user, project, permission)
    return project


def acting_user(request: Request, permission: str | None = None) -> User:
    """The user a request acts for, holding ``permission`` when one is named.

    Anonymous requests are refused with 401, a role without the permission with 403.
    """
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    if permission is not None:
        require_perm(user, permission)
    return user


def acting_user_in_project(
    request: Request, project_id: int, permission: str
) -> tuple[User, Project]:
    """The acting user and the project, for a request that needs ``permission`` both on
    the account (401, 403) and in the project (404 unless visible, 403 by role there)."""
    user = acting_user(request, permission)
    return user, project_for(user, project_id, permission)
