from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx leaves it, so views can type ``request.htmx``."""

    htmx: HtmxDetails
