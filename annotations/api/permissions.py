from __future__ import annotations

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from annotations.roles import role_of


class HasRole(BasePermission):
    """Authenticated and holding one of the roles; finer checks happen per view."""

    message = "Your account has no role yet; ask an admin to give you one."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return role_of(request.user) is not None
