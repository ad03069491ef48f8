"""Per-user limits on the expensive endpoints; reads and other endpoints are not limited.

The counts are shared by every web process (``annotations.services.limits``), so a limit
holds whatever number of processes serves the API. The rates are read on every request
(``API_THROTTLE_RATES``), so a deployment changes them through the environment and tests
through settings.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from annotations.services.limits import limit_take

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/min"`` as (30, 60): a number of requests and a period (s, min, hour, day)."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[:1]]


class _WriteThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        limit, period = parse_rate(str(settings.API_THROTTLE_RATES[self.scope]))
        user = request.user
        caller = (
            f"user-{user.pk}" if user.is_authenticated else f"address-{self.get_ident(request)}"
        )
        verdict = limit_take(action=f"api-{self.scope}", caller=caller, limit=limit, period=period)
        self.retry_after = verdict.retry_after
        return verdict.allowed

    def wait(self) -> float | None:
        return self.retry_after


class PredictThrottle(_WriteThrottle):
    scope = "predict"


class ExportThrottle(_WriteThrottle):
    scope = "exports"


class UploadThrottle(_WriteThrottle):
    scope = "uploads"
