"""Weeks as Mondays: the plan's buckets. Pure: no Django."""

from __future__ import annotations

import datetime as dt


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_at(start: dt.date, index: int) -> dt.date:
    return monday(start) + dt.timedelta(weeks=index)


def index_of(start: dt.date, week: dt.date) -> int:
    return (monday(week) - monday(start)).days // 7


def with_years(weeks: list[dt.date]) -> list[tuple[dt.date, bool]]:
    """Each week, and whether a header shows its year: the first, and the first of a new year."""
    return [(w, i == 0 or w.year != weeks[i - 1].year) for i, w in enumerate(weeks)]
