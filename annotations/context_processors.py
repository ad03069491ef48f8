from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from annotations.roles import Role, role_of

ROLE_LABELS = {Role.ADMIN: _("Admin"), Role.EXPERT: _("Expert"), Role.CROWD: _("Crowd worker")}


def role(request: HttpRequest) -> dict[str, object]:
    """The signed-in user's account role, and its name in the reader's language."""
    user_role = role_of(request.user)
    return {
        "user_role": user_role,
        "user_role_label": ROLE_LABELS[user_role] if user_role else "",
    }
