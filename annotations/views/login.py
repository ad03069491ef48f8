"""What django-axes needs from the site: the client's address and the lockout answer.

A login refused because of too many failures answers 429 and says until when: the
login pages (ours and the admin's) with a page, the API token endpoint with its JSON
error and a ``Retry-After`` header.
"""

from __future__ import annotations

import math

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from annotations.selectors.lockout import lockout_ends_at

TOO_MANY_REQUESTS = 429


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or the one the trusted proxies recorded.

    With ``PROXY_COUNT`` proxies in front, each appends the address it received from to
    X-Forwarded-For, so the client's is that many entries from the end; anything before
    it was written by the client and is not believed.
    """
    proxies = settings.PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    address = request.META.get("REMOTE_ADDR")
    return str(address) if address else None


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    until = lockout_ends_at(request, credentials)
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds())) if until else None
    if request.path.startswith("/api/"):
        when = until.isoformat() if until else ""
        response: HttpResponse = JsonResponse(
            {
                "detail": (
                    "Too many failed logins for this account or from this address; "
                    f"try again after {when}."
                    if until
                    else "Too many failed logins for this account or from this address."
                ),
                "code": "locked_out",
                "locked_until": when or None,
            },
            status=TOO_MANY_REQUESTS,
        )
    else:
        response = render(
            request,
            "registration/locked_out.html",
            {"locked_until": until, "login_url": request.path},
            status=TOO_MANY_REQUESTS,
        )
    if seconds is not None:
        response["Retry-After"] = str(seconds)
    return response
