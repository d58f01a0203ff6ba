"""Weeks as Mondays (pure)."""

from __future__ import annotations

import datetime as dt

from agglo.factory.weeks import index_of, week_at, with_years


def test_headers_show_the_year_where_the_weeks_start_and_where_a_new_one_begins() -> None:
    start = dt.date(2026, 12, 14)
    weeks = [week_at(start, i) for i in range(4)]
    assert [w.isoformat() for w in weeks] == ["2026-12-14", "2026-12-21", "2026-12-28", "2027-01-04"]
    assert [shown for _, shown in with_years(weeks)] == [True, False, False, True]
    assert with_years([]) == []
    assert index_of(start, dt.date(2027, 1, 6)) == 3  # a Wednesday is in its Monday's week
