"""FHIR dates and dateTimes as ledger instants: first second, exclusive end, interval algebra."""

from __future__ import annotations

import datetime as dt

import pytest

from medchain.consent.periods import Validity, instant_bounds

UTC = dt.UTC


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "first", "after"),
    [
        ("2024", at(2024, 1, 1), at(2025, 1, 1)),
        ("2024-02", at(2024, 2, 1), at(2024, 3, 1)),
        ("2024-12", at(2024, 12, 1), at(2025, 1, 1)),
        ("2024-02-29", at(2024, 2, 29), at(2024, 3, 1)),
        ("2024-03-01T10:00:00+01:00", at(2024, 3, 1, 9), at(2024, 3, 1, 9, 0, 1)),
        ("2024-03-01T10:00:00.750Z", at(2024, 3, 1, 10), at(2024, 3, 1, 10, 0, 1)),
    ],
)
def test_bounds_follow_the_precision(text: str, first: dt.datetime, after: dt.datetime) -> None:
    assert instant_bounds(text) == (first, after)


@pytest.mark.parametrize("text", ["2023-02-29", "2024-13", "24-01-01", "2024-03-01T10:00:00", ""])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        instant_bounds(text)


def test_a_period_is_half_open_and_may_be_unbounded() -> None:
    period = Validity.from_fhir("2024-01-01", "2024-12-31")
    assert period.contains(at(2024, 12, 31, 23, 59, 59))
    assert not period.contains(at(2025, 1, 1))
    assert not period.contains(at(2023, 12, 31, 23, 59, 59))
    assert Validity.from_fhir(None, None).contains(at(1971, 1, 1))


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        Validity.from_fhir("2025", "2024")


def test_intersect_covers_and_joins() -> None:
    year = Validity(at(2024, 1, 1), at(2025, 1, 1))
    half = Validity(at(2024, 7, 1), None)
    assert year.intersect(half) == Validity(at(2024, 7, 1), at(2025, 1, 1))
    assert Validity().covers(year)
    assert not half.covers(year)
    assert year.joins(Validity(at(2025, 1, 1), at(2026, 1, 1))) == Validity(
        at(2024, 1, 1), at(2026, 1, 1)
    )
    assert year.joins(Validity(at(2025, 6, 1), None)) is None
    assert Validity(at(2025, 1, 1), at(2024, 1, 1)).empty
