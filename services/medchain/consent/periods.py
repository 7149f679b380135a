"""FHIR dates and dateTimes as ledger instants: a period's first second and its exclusive end.

FHIR Period.end includes every instant its precision matches: `2025` ends at the end of 2025,
`2025-03-01T10:00:00+01:00` at the end of that second. The ledger wants UTC instants with second
precision and an exclusive `validUntil`, so an end becomes the first second after it. Dates carry
no time zone; MedChain reads them in UTC (documented in docs/consent.md).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_SECOND = dt.timedelta(seconds=1)


def _partial_bounds(text: str) -> tuple[dt.datetime, dt.datetime] | None:
    match = _PARTIAL.match(text)
    if match is None:
        return None
    year = int(match.group(1))
    month, day = (int(g) if g else None for g in match.groups()[1:])
    if month is None:
        return dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    first = dt.datetime(year, month, day or 1, tzinfo=dt.UTC)
    if day is not None:
        return first, first + dt.timedelta(days=1)
    next_month = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return first, next_month


def instant_bounds(text: str) -> tuple[dt.datetime, dt.datetime]:
    """The first second a FHIR date/dateTime covers and the first second after it (UTC).

    Raises ValueError for text that is not a real calendar date, or a time without a time zone.
    """
    bounds = _partial_bounds(text)
    if bounds is not None:
        return bounds
    if "T" not in text:
        raise ValueError(f"not a FHIR date or dateTime: {text!r}")
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"a dateTime with a time needs a time zone: {text!r}")
    start = parsed.astimezone(dt.UTC).replace(microsecond=0)
    return start, start + _SECOND


@dataclass(frozen=True, slots=True)
class Validity:
    """A half-open interval [start, end) of UTC instants; None is unbounded on that side."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None

    @classmethod
    def from_fhir(cls, start: str | None, end: str | None) -> Validity:
        """From a FHIR Period's texts; ValueError for a bad value or an end before the start."""
        first = instant_bounds(start)[0] if start else None
        after = instant_bounds(end)[1] if end else None
        period = cls(first, after)
        if period.empty:
            raise ValueError("the period ends before it starts")
        return period

    @property
    def empty(self) -> bool:
        """Whether no instant lies inside."""
        return self.start is not None and self.end is not None and self.end <= self.start

    def intersect(self, other: Validity) -> Validity:
        """The instants inside both."""
        starts = [s for s in (self.start, other.start) if s is not None]
        ends = [e for e in (self.end, other.end) if e is not None]
        return Validity(max(starts) if starts else None, min(ends) if ends else None)

    def covers(self, other: Validity) -> bool:
        """Whether every instant of `other` lies inside this one."""
        starts_before = self.start is None or (
            other.start is not None and self.start <= other.start
        )
        ends_after = self.end is None or (other.end is not None and other.end <= self.end)
        return starts_before and ends_after

    def joins(self, other: Validity) -> Validity | None:
        """The union when it is one interval (they overlap or touch), else None."""
        if not (
            self._before_end(other.start, self.end) and self._before_end(self.start, other.end)
        ):
            return None
        start = None if self.start is None or other.start is None else min(self.start, other.start)
        end = None if self.end is None or other.end is None else max(self.end, other.end)
        return Validity(start, end)

    @staticmethod
    def _before_end(start: dt.datetime | None, end: dt.datetime | None) -> bool:
        return start is None or end is None or start <= end

    def contains(self, instant: dt.datetime) -> bool:
        """Whether `instant` lies inside."""
        return (self.start is None or self.start <= instant) and (
            self.end is None or instant < self.end
        )
