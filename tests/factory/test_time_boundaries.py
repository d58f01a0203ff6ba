"""The virtual factory at time boundaries: ISO week 53, the year's end, days that do not exist (review 105)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.utils import timezone

from agglo.factory.services.orders import order_create
from tests.factory.conftest import cluster  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

BEIJING = zoneinfo.ZoneInfo("Asia/Shanghai")


def frozen(monkeypatch: pytest.MonkeyPatch, *when: int) -> None:
    """The platform's clock stopped at `when` (year, month, day, hour, minute) in Beijing."""
    at = dt.datetime(*when, tzinfo=BEIJING).astimezone(dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: at)


def test_a_due_day_earlier_in_the_first_days_week_is_that_week(cluster: dict[str, Any], monkeypatch) -> None:  # noqa: F811
    frozen(monkeypatch, 2026, 12, 30, 10, 0)  # Wednesday of 2026-W53: its week still takes new work
    buyer = cluster["people"]["buyer"]
    order = order_create(
        actor=buyer,
        data={
            "buyer": cluster["orgs"]["buyer"].pk,
            "product": "网关外壳",
            "quantity": 100,
            "start_week": "2026-12-30",  # today, as typed
            "due_week": "2026-12-28",  # the Monday of the same week
            "operations": [{"process": "cnc", "quantity": 100}],
        },
    )
    assert order.start_week == order.due_week == dt.date(2026, 12, 28)
