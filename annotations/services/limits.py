"""Rate limits counted in one store that every web process shares.

A limit is "``limit`` requests per ``period`` seconds" for one caller of one action
(a user on an expensive endpoint, a project's retraining). Counts live in Redis when
``RATE_LIMIT_STORE`` is "redis", else in the ``RateCount`` table; either way each request
is one atomic increment, so requests arriving together at several processes cannot slip
past the limit between a read and a write.

The window slides: the count of the current fixed window is added to the previous
window's count weighted by how much of it still overlaps the last ``period`` seconds.
Unlike plain fixed windows, that allows no double burst across a window's edge. Refused
requests are not counted: a caller who waits as long as ``Retry-After`` says gets in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import time
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import F

from annotations.models import RateCount


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Whole seconds until a request would be allowed, if nobody else makes one; 0 if allowed.
    retry_after: int
    # The counter this request was counted in (allowed requests only), for limit_release.
    key: str = ""


class _Store(Protocol):
    def get(self, key: str) -> int: ...

    def incr(self, key: str, *, expires_at: float, now: float) -> int: ...

    def decr(self, key: str) -> None: ...


class _DatabaseStore:
    def get(self, key: str) -> int:
        return RateCount.objects.filter(key=key).values_list("count", flat=True).first() or 0

    def incr(self, key: str, *, expires_at: float, now: float) -> int:
        # The UPDATE locks the row until the transaction ends, so the count read after it
        # is this request's own place in line, whatever other processes do meanwhile.
        with transaction.atomic():
            if not RateCount.objects.filter(key=key).update(count=F("count") + 1):
                try:
                    with transaction.atomic():
                        RateCount.objects.create(key=key, count=1, expires_at=_at(expires_at))
                except IntegrityError:  # another process created it first
                    RateCount.objects.filter(key=key).update(count=F("count") + 1)
                else:
                    # A new window started: the rows of windows long past go.
                    RateCount.objects.filter(expires_at__lt=_at(now)).delete()
            return RateCount.objects.values_list("count", flat=True).get(key=key)

    def decr(self, key: str) -> None:
        RateCount.objects.filter(key=key, count__gt=0).update(count=F("count") - 1)


class _CacheStore:
    """Redis through Django's cache: ``add`` then ``incr`` (Redis INCR, atomic)."""

    def __init__(self, alias: str) -> None:
        self.cache = caches[alias]

    def get(self, key: str) -> int:
        return int(self.cache.get(key) or 0)

    def incr(self, key: str, *, expires_at: float, now: float) -> int:
        timeout = max(1, math.ceil(expires_at - now))
        for _ in range(2):
            self.cache.add(key, 0, timeout=timeout)
            try:
                return int(self.cache.incr(key))
            except ValueError:  # expired between add and incr: add it again
                continue
        raise RuntimeError(f"the rate limit counter {key} could not be incremented")

    def decr(self, key: str) -> None:
        with contextlib.suppress(ValueError):  # already expired: nothing to give back
            self.cache.decr(key)


def _at(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _store() -> _Store:
    if settings.RATE_LIMIT_STORE == "redis":
        return _CacheStore("limits")
    return _DatabaseStore()


def limit_take(
    *, action: str, caller: str, limit: int, period: int, now: float | None = None
) -> Verdict:
    """Count one request of ``caller`` to ``action`` if the limit allows it."""
    now = time.time() if now is None else now
    window = math.floor(now / period)
    elapsed = (now - window * period) / period
    key = f"{action}:{caller}:{period}:{window}"
    store = _store()
    previous = store.get(f"{action}:{caller}:{period}:{window - 1}")
    # Kept through the next window too, where it is the previous one.
    count = store.incr(key, expires_at=(window + 2) * period + 60, now=now)
    if previous * (1 - elapsed) + count <= limit:
        return Verdict(True, 0, key)
    store.decr(key)
    return Verdict(False, _retry_after(previous, count - 1, limit, period, window, now))


def limit_release(verdict: Verdict) -> None:
    """Give back a request that was counted but did nothing (a duplicate, say)."""
    if verdict.allowed and verdict.key:
        _store().decr(verdict.key)


def _retry_after(
    previous: int, current: int, limit: int, period: int, window: int, now: float
) -> int:
    """Seconds until ``previous * (1 - elapsed) + current + 1 <= limit`` holds again."""
    start = window * period
    room = limit - current - 1
    if room > 0 and previous > 0:
        at = start + (1 - room / previous) * period
    elif current + 1 <= limit:
        at = start + period
    else:
        # In the next window this one's count is the previous one, fading as it goes.
        at = start + period + (1 - (limit - 1) / current) * period
    return max(1, math.ceil(at - now))
