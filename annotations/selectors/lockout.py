"""Until when a login lockout lasts, read from django-axes' record of failed logins.

Axes keeps one row per account, address and browser with its number of failures and
the time of the last one; failures count while that time is within the cool-off.
A lock on the account (or on the address) lasts until enough of the newest rows for it
have aged out that fewer than the limit are left: the row that brought the running sum,
newest first, to the limit ends it when it passes the cool-off.
"""

from __future__ import annotations

import datetime as dt

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest


def lockout_ends_at(
    request: HttpRequest, credentials: dict[str, object] | None
) -> dt.datetime | None:
    """When the lock that refused this request ends; None when nothing locks it."""
    handler = AxesProxyHandler.get_implementation()
    cool_off = get_cool_off(request)
    if not isinstance(handler, AxesDatabaseHandler) or cool_off is None:
        return None
    AxesProxyHandler.update_request(request)
    limit = get_failure_limit(request, credentials)
    ends: list[dt.datetime] = []
    for attempts in handler.get_user_attempts(request, credentials):
        running = 0
        for failures, last_at in attempts.order_by("-attempt_time").values_list(
            "failures_since_start", "attempt_time"
        ):
            running += failures
            if running >= limit:
                ends.append(last_at + cool_off)
                break
    return max(ends, default=None)
