"""A day through the API is a day, not a moment in UTC (review 105), and every app reads it by one rule
(`common.days.iso_day`): a listing's deadline, a fact's days, an order's weeks, a policy's and a payment's days."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from agglo.common.days import iso_day
from tests.registry.test_api import bearer

pytestmark = pytest.mark.django_db

MUST = "Must be a date, such as 2026-12-31."


@pytest.mark.parametrize(
    "deadline",
    [
        1798732800,  # 2027-01-01 00:00 in Beijing: was refused
        1798761600,  # 2027-01-01 00:00 in UTC, 08:00 in Beijing: was taken for 2027-01-01
        "1798761600",
        True,
    ],
)
def test_a_number_is_no_deadline(org_admin, english, deadline) -> None:
    admin, org = org_admin
    body = {"side": "need", "kind": "capacity", "title_zh": "寻找贴片产能", "deadline": deadline}
    r = Client().post(
        f"/api/v1/organizations/{org.pk}/listings",
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(admin),
    )
    assert r.status_code == 422 and r.json()["errors"] == {"deadline": [MUST]}


def test_a_day_is_a_deadline_and_so_are_a_statements_days(org_admin, english) -> None:
    admin, org = org_admin
    body = {"side": "need", "kind": "capacity", "title_zh": "寻找贴片产能", "deadline": "2027-01-01"}
    c = Client()
    r = c.post(f"/api/v1/organizations/{org.pk}/listings", body, content_type="application/json", **bearer(admin))
    assert r.status_code == 201 and r.json()["deadline"] == "2027-01-01"
    # the professional database's days alike
    fact = {"year": 2025, "revenue": "1000000", "as_of": 1764547200}  # 2025-12-01 00:00 UTC
    r = c.post(
        f"/api/v1/organizations/{org.pk}/financials",
        fact,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(admin),
    )
    assert r.status_code == 422 and r.json()["errors"]["as_of"] == [MUST]


# (as sent, the day read, or None: refused) alike in every app
DAYS = [
    ("2027-01-04", dt.date(2027, 1, 4)),
    (" 2027-01-04 ", dt.date(2027, 1, 4)),
    ("2027-W01", dt.date(2027, 1, 4)),  # an ISO week is its Monday
    ("2027-W01-3", dt.date(2027, 1, 6)),
    (20270104, None),  # a JSON number: was read as a day by policies and payments
    ("20270104", None),  # was a day to the factory and policies, no day to the others
    ("2027-01-04T00:00:00", None),  # was a day to listings and facts only
    ("2027/01/04", None),
    ("２０２７-０１-０４", None),
    ("2027-02-29", None),
    (True, None),
]


@pytest.mark.parametrize(("sent", "day"), DAYS)
def test_one_rule_for_a_day(sent, day) -> None:
    assert iso_day(sent) == day
    assert iso_day(dt.datetime(2027, 1, 4, 12)) is None  # a moment falls on a day only in some time zone


@pytest.mark.parametrize(("sent", "day"), DAYS)
def test_a_listings_deadline_and_an_orders_due_week_take_the_same_days(org_admin, english, sent, day) -> None:
    from agglo.factory.models import Order
    from agglo.market.models import Listing
    from tests.factory.conftest import order_data

    admin, org = org_admin
    c = Client()
    listing = {"side": "need", "kind": "capacity", "title_zh": "寻找贴片产能", "deadline": sent}
    order = order_data(buyer=org.pk, due_week=sent, start_week="2026-12-28")
    answers = [
        c.post(path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en", **bearer(admin))
        for path, body in ((f"/api/v1/organizations/{org.pk}/listings", listing), ("/api/v1/factory/orders", order))
    ]
    if day is None:
        assert [r.status_code for r in answers] == [422, 422]
        assert answers[0].json()["errors"]["deadline"] == answers[1].json()["errors"]["due_week"]
        assert not Listing.objects.exists() and not Order.objects.exists()
    else:
        assert [r.status_code for r in answers] == [201, 201], [r.content for r in answers]
        assert answers[0].json()["deadline"] == day.isoformat()
        assert answers[1].json()["due_week"] == (day - dt.timedelta(days=day.weekday())).isoformat()


def test_a_day_the_calendar_has_not_is_named_by_the_schema_as_by_the_services(org_admin, english) -> None:
    admin, org = org_admin
    body = {"side": "need", "kind": "capacity", "title_zh": "寻找贴片产能", "deadline": "2027-02-29"}
    r = Client().post(
        f"/api/v1/organizations/{org.pk}/listings",
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
        **bearer(admin),
    )
    assert r.status_code == 422
    assert r.json()["errors"]["deadline"] == [
        "There is no day 2027-02-29: that month is shorter (29 February comes only in a leap year)."
    ]
