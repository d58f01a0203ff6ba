"""The virtual factory at time boundaries: ISO week 53, the year's end, days that do not exist (review 105)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from agglo.factory.services.calendar_file import calendar_import
from agglo.factory.services.orders import order_create
from tests.factory.conftest import cluster  # noqa: F401 - a fixture
from tests.registry.test_api import bearer

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


def test_an_iso_week_the_year_has_not_or_a_day_its_month_has_not_is_named_as_such(
    cluster: dict[str, Any],  # noqa: F811
    english: None,
) -> None:
    admin, org = cluster["people"]["sz"], cluster["orgs"]["sz"]

    def imported(week: str) -> tuple[int, list[str]]:
        body = f"organization_id,process,week,capacity\n{org.pk},cnc,{week},120\n".encode()
        result = calendar_import(actor=admin, body=body, filename="calendar.csv", dry_run=True)
        return result.changed, [e.message for e in result.errors]

    assert imported("2026-W53") == (1, [])  # 2026 has 53 weeks: the week of Monday 28 December
    assert imported("2027-W53") == (0, ["2027 has no week 53: its ISO weeks run from 1 to 52."])
    assert imported("2027-02-29") == (
        0,
        ["There is no day 2027-02-29: that month is shorter (29 February comes only in a leap year)."],
    )
    assert imported("2027/4/31")[1] == [
        "There is no day 2027/4/31: that month is shorter (29 February comes only in a leap year)."
    ]
    assert imported("2027-13-01")[1] == ["Must be a date written year first, such as 2026-12-31 or 2026/12/31."]
    # the API's weeks say the same
    data = {
        "buyer": cluster["orgs"]["buyer"].pk,
        "product": "网关外壳",
        "quantity": 100,
        "due_week": "2027-W53",
        "operations": [{"process": "cnc", "quantity": 100}],
    }
    r = Client().post(
        "/api/v1/factory/orders", data, content_type="application/json", **bearer(cluster["people"]["buyer"])
    )
    assert r.json()["errors"] == {
        "due_week": ["2027 年没有第 53 周：该年的 ISO 周为第 1 至第 52 周。"]
    }  # the API's default
