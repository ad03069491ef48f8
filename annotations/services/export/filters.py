"""Export filters: which videos a snapshot holds, checked before anything is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from ml.taxonomy import normalize_path

SCOPES = ("confirmed", "all")


class ExportFilterError(ValueError):
    """Export filters that cannot be used; the message names the filter."""


def _parse_date(name: str, value: object) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ExportFilterError(f"{name} must be a date like 2025-01-31; got {value!r}") from None


def _parse_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ExportFilterError(f"{name} must be true or false; got {value!r}")
    return value


@dataclass(frozen=True)
class ExportFilters:
    """Which videos a snapshot holds and how much of their history.

    ``scope`` "confirmed": videos with confirmed labels; "all": also videos that only
    have submitted annotations. The date range (inclusive days, in the site's time
    zone) applies to when labels were confirmed (or annotations submitted, for "all");
    ``tags`` keeps videos carrying one of these tags or a tag under it;
    ``min_agreement`` keeps videos whose annotators agree at least that much (mean
    pairwise Jaccard of their tag sets; a video needs two annotators to qualify).
    ``human_only`` leaves out the labels the model confirmed (auto-confirmation): a
    video only the model confirmed is then no confirmed video, and the date range and
    ``tags`` look at people's labels only.
    """

    scope: str = "confirmed"
    date_from: date | None = None
    date_to: date | None = None
    tags: tuple[str, ...] = ()
    min_agreement: float | None = None
    include_decisions: bool = False
    human_only: bool = False

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ExportFilters:
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ExportFilterError(
                f"unknown filter {unknown[0]!r}; known: {', '.join(sorted(known))}"
            )
        scope = str(data.get("scope") or "confirmed")
        if scope not in SCOPES:
            raise ExportFilterError(f"scope must be one of {', '.join(SCOPES)}; got {scope!r}")
        date_from = _parse_date("date_from", data.get("date_from"))
        date_to = _parse_date("date_to", data.get("date_to"))
        if date_from and date_to and date_from > date_to:
            raise ExportFilterError("date_from is after date_to")
        raw_tags = data.get("tags") or []
        if isinstance(raw_tags, str) or not isinstance(raw_tags, list | tuple):
            raise ExportFilterError("tags must be a list of tag paths")
        tags = tuple(sorted({normalize_path(str(tag)) for tag in raw_tags if str(tag).strip()}))
        raw_agreement = data.get("min_agreement")
        min_agreement: float | None = None
        if raw_agreement not in (None, ""):
            try:
                min_agreement = float(str(raw_agreement))
            except ValueError:
                raise ExportFilterError("min_agreement must be a number from 0 to 1") from None
            if not 0.0 <= min_agreement <= 1.0:
                raise ExportFilterError("min_agreement must be a number from 0 to 1")
        include = _parse_bool("include_decisions", data.get("include_decisions", False))
        human_only = _parse_bool("human_only", data.get("human_only", False))
        return cls(scope, date_from, date_to, tags, min_agreement, include, human_only)

    def as_dict(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "date_from": self.date_from.isoformat() if self.date_from else None,
            "date_to": self.date_to.isoformat() if self.date_to else None,
            "tags": list(self.tags),
            "min_agreement": self.min_agreement,
            "include_decisions": self.include_decisions,
            "human_only": self.human_only,
        }

    def time_range(self) -> tuple[datetime | None, datetime | None]:
        zone = timezone.get_current_timezone()
        start = datetime.combine(self.date_from, time.min, zone) if self.date_from else None
        end = (
            datetime.combine(self.date_to + timedelta(days=1), time.min, zone)
            if self.date_to
            else None
        )
        return start, end
