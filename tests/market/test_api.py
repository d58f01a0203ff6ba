"""The market through the REST API: publish, find, answer, accept; hidden and anonymous stay so."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.access.models import Membership
from tests.conftest import make_uscc, user
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_firms(make_org):
    owner_org = make_org()
    other_org = make_org(region="320500", uscc=make_uscc("320500", "MA1DDDDD1"))
    owner, other = user("owner"), user("other")
    Membership.objects.create(user=owner, organization=owner_org, role="admin")
    Membership.objects.create(user=other, organization=other_org, role="admin")
    return owner, owner_org, other, other_org


def test_publish_answer_and_accept(two_firms):
    owner, owner_org, other, other_org = two_firms
    c = Client()
    body = {
        "side": "need",
        "kind": "capacity",
        "title_zh": "寻找 SMT 贴片代工产能",
        "segments": ["ic-packaging"],
        "anonymous": True,
        "region_rule": "exclude",
        "regions": ["440000"],
    }
    response = c.post(
        f"/api/v1/organizations/{owner_org.pk}/listings", body, content_type="application/json", **bearer(owner)
    )
    assert response.status_code == 201, response.content
    listing_id = response.json()["id"]
    assert c.get(f"/api/v1/listings/{listing_id}", **bearer(other)).status_code == 404  # a draft is not shown
    assert c.post(f"/api/v1/listings/{listing_id}/submit", **bearer(owner)).json()["status"] == "published"
    seen = c.get(f"/api/v1/listings/{listing_id}", **bearer(other)).json()
    assert seen["organization_id"] is None and seen["organization_name"] is None  # anonymous
    response = c.post(
        f"/api/v1/listings/{listing_id}/interests",
        {"cooperation": "supply", "message": "我们有两条 SMT 产线空余"},
        content_type="application/json",
        **bearer(other),
    )
    assert response.status_code == 201, response.content
    interest_id = response.json()["id"]
    problem(c.get(f"/api/v1/listings/{listing_id}/interests", **bearer(other)), 404)
    board = c.get(f"/api/v1/listings/{listing_id}/interests", **bearer(owner)).json()
    assert [i["organization_id"] for i in board] == [other_org.pk]
    problem(c.post(f"/api/v1/interests/{interest_id}/accept", **bearer(other)), 404)
    assert c.post(f"/api/v1/interests/{interest_id}/accept", **bearer(owner)).json()["status"] == "accepted"
    revealed = c.get(f"/api/v1/listings/{listing_id}", **bearer(other)).json()
    assert revealed["organization_id"] == owner_org.pk
    notes = c.get("/api/v1/notifications?unread=true", **bearer(other)).json()
    assert [n["verb"] for n in notes] == ["market.interest_accepted"]
    assert c.post("/api/v1/notifications/read", **bearer(other)).status_code == 204
    assert c.get("/api/v1/notifications?unread=true", **bearer(other)).json() == []
    closed = c.post(
        f"/api/v1/listings/{listing_id}/close",
        {"outcome": "fulfilled"},
        content_type="application/json",
        **bearer(owner),
    ).json()
    assert closed["status"] == "closed"


def test_bad_input_is_a_field_error(two_firms):
    owner, owner_org, other, _ = two_firms
    c = Client()
    body = problem(
        c.post(
            f"/api/v1/organizations/{owner_org.pk}/listings",
            {"side": "gift", "kind": "x"},
            content_type="application/json",
            **bearer(owner),
        ),
        422,
    )
    assert {"side", "kind", "title_zh"} <= set(body["errors"])
    # a misspelt field is refused by name, not dropped (the listing would otherwise not be anonymous)
    body = problem(
        c.post(
            f"/api/v1/organizations/{owner_org.pk}/listings",
            {"side": "need", "kind": "capital", "title_zh": "融资", "anonymus": True},
            content_type="application/json",
            **bearer(owner),
        ),
        422,
    )
    assert list(body["errors"]) == ["anonymus"]
    problem(
        c.post(
            f"/api/v1/organizations/{owner_org.pk}/listings",
            {"side": "need", "kind": "capital", "title_zh": "融资"},
            content_type="application/json",
            **bearer(other),
        ),
        403,
    )
    problem(c.get("/api/v1/notifications"), 401)  # nobody logged in: authenticate first
