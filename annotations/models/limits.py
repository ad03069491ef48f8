from __future__ import annotations

from django.db import models


class RateCount(models.Model):
    """How many requests one caller made to one limited action in one window of time.

    The rate limits count here when no Redis is configured, so that every web process
    shares the counts; a row is bumped with ``UPDATE ... SET count = count + 1`` so
    concurrent requests never lose an increment. Rows of past windows are deleted as new
    windows start.
    """

    key = models.CharField(max_length=200, unique=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"
