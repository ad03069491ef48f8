from __future__ import annotations

from django.http import HttpRequest

from annotations.roles import role_of


def role(request: HttpRequest) -> dict[str, object]:
    return {"user_role": role_of(request.user)}
