"""Per-user limits on the expensive endpoints; reads and other endpoints are not limited.

The rates are read on every request (``API_THROTTLE_RATES``), so a deployment changes
them through the environment and tests through settings.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView


class _WriteThrottle(UserRateThrottle):
    scope = ""

    def get_rate(self) -> str | None:
        return str(settings.API_THROTTLE_RATES[self.scope])

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        # The rate is read again here, so a changed setting applies without a restart.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class PredictThrottle(_WriteThrottle):
    scope = "predict"


class ExportThrottle(_WriteThrottle):
    scope = "exports"


class UploadThrottle(_WriteThrottle):
    scope = "uploads"
