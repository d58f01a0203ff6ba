"""A listing's deadline through the API is a day, not a moment in UTC (review 105)."""

from __future__ import annotations

import pytest
from django.test import Client

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
