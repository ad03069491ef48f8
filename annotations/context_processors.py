from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import pgettext_lazy

from annotations.roles import Role, role_of

# "Admin" alone is also the link to Django's admin site, which Russian names differently.
ROLE_LABELS = {
    Role.ADMIN: pgettext_lazy("role", "Admin"),
    Role.EXPERT: pgettext_lazy("role", "Expert"),
    Role.CROWD: pgettext_lazy("role", "Crowd worker"),
}


def role(request: HttpRequest) -> dict[str, object]:
    """The signed-in user's account role, and its name in the reader's language."""
    user_role = role_of(request.user)
    return {
        "user_role": user_role,
        "user_role_label": ROLE_LABELS[user_role] if user_role else "",
    }
