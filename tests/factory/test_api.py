"""The factory API: the whole flow over HTTP, errors in the problem+json envelope, and other tenants refused."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.factory.models import Order
from tests.factory.conftest import order_data

pytestmark = pytest.mark.django_db


def api(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_order_plan_answer_and_scorecards_over_http(cluster: dict[str, Any]) -> None:
    people, orgs = cluster["people"], cluster["orgs"]
    buyer = api(people["buyer"])
    assert Client().get("/api/v1/factory/processes").status_code == 200
    r = buyer.post("/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json")
    assert r.status_code == 201, r.content
    order_id = r.json()["id"]
    r = buyer.post(f"/api/v1/factory/orders/{order_id}/plan")
    assert r.status_code == 200 and r.json()["status"] == "planned"
    plan = buyer.get(f"/api/v1/factory/orders/{order_id}/allocations").json()
    assert sum(a["quantity"] for a in plan if a["step"] == 1) == 600
    first = plan[0]
    owner = next(n for n, o in orgs.items() if o.pk == first["factory_id"])
    factory = api(people[owner])
    board = factory.get("/api/v1/factory/jobs").json()
    assert {a["factory_id"] for a in board} == {orgs[owner].pk}
    bad = factory.post(
        f"/api/v1/factory/allocations/{first['id']}/answer", {"action": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 422 and "action" in bad.json()["errors"]
    ok = factory.post(
        f"/api/v1/factory/allocations/{first['id']}/answer", {"action": "accept"}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    assert factory.get("/api/v1/factory/scorecards").status_code == 200


def test_bad_order_names_fields_and_other_tenants_are_refused(cluster: dict[str, Any], make_org: Any) -> None:
    people, orgs = cluster["people"], cluster["orgs"]
    buyer = api(people["buyer"])
    r = buyer.post(
        "/api/v1/factory/orders",
        order_data(buyer=orgs["buyer"].pk, quantity=-1, operations=[{"process": "x", "quantity": 1}]),
        content_type="application/json",
    )
    assert r.status_code == 422
    assert {"quantity", "operations[1].process"} <= set(r.json()["errors"])
    assert not Order.objects.exists()
    # placing an order for someone else's organization
    r = api(people["sz"]).post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json"
    )
    assert r.status_code == 403
    order_id = buyer.post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json"
    ).json()["id"]
    # a factory with no part in it cannot see or plan it
    assert api(people["cd"]).get(f"/api/v1/factory/orders/{order_id}").status_code == 404
    assert api(people["cd"]).post(f"/api/v1/factory/orders/{order_id}/plan").status_code == 404
    # nobody changes another factory's capabilities
    r = api(people["cd"]).put(
        f"/api/v1/factory/organizations/{orgs['sz'].pk}/capabilities",
        {"process": "cnc", "weekly_capacity": 1, "unit_cost": 1},
        content_type="application/json",
    )
    assert r.status_code == 403
