"""The factory API: the whole flow over HTTP, errors in the problem+json envelope, and other tenants refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from agglo.factory.models import Order
from tests.factory.conftest import order_data
from tests.factory.conftest import signed_in as api

pytestmark = pytest.mark.django_db


def test_order_plan_answer_and_scorecards_over_http(cluster: dict[str, Any]) -> None:
    people, orgs = cluster["people"], cluster["orgs"]
    buyer = api(people["buyer"])
    assert Client().get("/api/v1/factory/processes").status_code == 200
    r = buyer.post("/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json")
    assert r.status_code == 201, r.content
    order_id = r.json()["id"]
    created_terms = r.json()["terms"]
    r = buyer.post(f"/api/v1/factory/orders/{order_id}/plan")
    assert r.status_code == 200 and r.json()["status"] == "planned"
    assert r.json()["terms"]["late_penalty"] == created_terms["late_penalty"]  # money reads the same in every answer
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
    assert factory.get("/api/v1/factory/scorecards").json() == []  # nothing delivered yet
    # how far the plan has come: the buyer counts the whole plan's pieces, a factory its own
    mine = sum(1 for a in plan if a["factory_id"] == first["factory_id"])
    assert buyer.get(f"/api/v1/factory/orders/{order_id}").json()["progress"] == {
        "delivered": 0,
        "pieces": len(plan),
        "whole": True,
    }
    listed = {o["id"]: o for o in factory.get("/api/v1/factory/orders").json()}
    assert listed[order_id]["progress"] == {"delivered": 0, "pieces": mine, "whole": False}
    # the buyer may answer a delivery only once it is delivered; the factory may not answer it at all
    r = buyer.post(
        f"/api/v1/factory/allocations/{first['id']}/receipt", {"confirm": True}, content_type="application/json"
    )
    assert r.status_code == 422 and "action" in r.json()["errors"]
    r = factory.post(
        f"/api/v1/factory/allocations/{first['id']}/receipt", {"confirm": True}, content_type="application/json"
    )
    assert r.status_code == 403


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


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 1.9}, "quantity"),  # a fraction is not cut to 1
        ({"quantity": True}, "quantity"),  # nor a truth value read as 1
        ({"quantity": float("inf")}, "quantity"),  # JSON Infinity
        ({"operations": [{"process": "cnc", "quantity": 2.5}]}, "operations[1].quantity"),
        ({"late_penalty": "9999999999.999"}, "late_penalty"),  # rounds to 13 digits: more than the column holds
        ({"start_week": "2020-01-06", "due_week": "2020-02-03"}, "start_week"),
        ({"start_week": "9999-12-20", "due_week": "9999-12-31"}, "start_week"),
        ({"colour": "red"}, "colour"),  # a field the order does not take is refused, not dropped
        ({"operations": [{"process": "cnc", "quantity": 600, "qty": 5}]}, "operations[1].qty"),
    ],
)
def test_numbers_and_weeks_are_taken_as_given_or_refused(
    cluster: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    people, orgs = cluster["people"], cluster["orgs"]
    r = api(people["buyer"]).post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk, **changes), content_type="application/json"
    )
    assert r.status_code == 422, r.content
    assert field in r.json()["errors"]
    assert not Order.objects.exists()


def test_capability_and_calendar_input_is_checked(cluster: dict[str, Any]) -> None:
    from agglo.factory.models import Capability, CapacitySlot

    people, orgs = cluster["people"], cluster["orgs"]
    sz = api(people["sz"])
    r = sz.put(
        f"/api/v1/factory/organizations/{orgs['sz'].pk}/capabilities",
        {"process": "pcb", "weekly_capacity": 99.9, "unit_cost": "9999999999.999"},
        content_type="application/json",
    )
    assert r.status_code == 422 and {"weekly_capacity", "unit_cost"} <= set(r.json()["errors"])
    assert not Capability.objects.filter(process="pcb").exists()
    cap = Capability.objects.filter(organization=orgs["sz"]).first()
    for week in ("2000-01-03", "9999-12-27"):
        r = sz.put(
            f"/api/v1/factory/capabilities/{cap.pk}/weeks",
            {"week": week, "capacity": 5},
            content_type="application/json",
        )
        assert r.status_code == 422 and "week" in r.json()["errors"]
    assert not CapacitySlot.objects.exists()
    # the page: a capability id that is not a number is simply not found
    for key in ("abc", "²"):
        assert (
            sz.post("/factory/capacity/", {"capability": key, "week": "2026-12-07", "capacity": "1"}).status_code == 404
        )
    # a calendar week as far ahead as a plan can reach (an order a year ahead, plus the horizon)
    from agglo.factory.selectors.planning import horizon
    from agglo.factory.weeks import monday

    far = monday(dt.date.today()) + dt.timedelta(weeks=52 + horizon() - 1)
    for week, status in ((far, 200), (far + dt.timedelta(weeks=1), 422)):
        r = sz.put(
            f"/api/v1/factory/capabilities/{cap.pk}/weeks",
            {"week": week.isoformat(), "capacity": 5},
            content_type="application/json",
        )
        assert r.status_code == status, r.content
    # an operator naming an organization that does not exist
    r = api(cluster["operator"]).put(
        "/api/v1/factory/organizations/987654/capabilities",
        {"process": "cnc", "weekly_capacity": 1, "unit_cost": 1},
        content_type="application/json",
    )
    assert r.status_code == 404


def test_type_errors_come_in_the_users_language(cluster: dict[str, Any]) -> None:
    buyer = api(cluster["people"]["buyer"])
    body = buyer.post("/api/v1/factory/orders", {"product": 5}, content_type="application/json").json()
    assert body["title"] == "输入无效。" and "此项为必填项。" in body["errors"]["operations"]
    buyer.cookies["django_language"] = "en"
    body = buyer.post("/api/v1/factory/orders", "{not json", content_type="application/json").json()
    assert body["title"] == "The request body is not valid JSON." and "body" in body["errors"]


def test_a_deadline_reads_the_same_in_every_answer(cluster: dict[str, Any]) -> None:
    people, orgs = cluster["people"], cluster["orgs"]
    buyer = api(people["buyer"])
    order_id = buyer.post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json"
    ).json()["id"]
    buyer.post(f"/api/v1/factory/orders/{order_id}/plan")
    offer = max(buyer.get(f"/api/v1/factory/orders/{order_id}/allocations").json(), key=lambda a: a["quantity"])
    owner = next(n for n, o in orgs.items() if o.pk == offer["factory_id"])
    factory = api(people[owner])
    r = factory.post(
        f"/api/v1/factory/allocations/{offer['id']}/answer",
        {"action": "counter", "quantity": offer["quantity"] - 10},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    just_set = r.json()["respond_by"]
    read_back = next(a for a in factory.get("/api/v1/factory/jobs").json() if a["id"] == offer["id"])["respond_by"]
    assert just_set == read_back and just_set.endswith("Z")
    # a deadline at the start of the work's week is made in the server's zone: it reads in UTC all the same
    from types import SimpleNamespace

    from django.utils import timezone

    from agglo.factory.schemas import AllocationOut

    local = timezone.make_aware(dt.datetime(2026, 12, 7))
    assert AllocationOut.resolve_respond_by(SimpleNamespace(respond_by=local)) == local
    assert AllocationOut.resolve_respond_by(SimpleNamespace(respond_by=local)).utcoffset() == dt.timedelta(0)


def test_no_identity_is_refused_not_answered_with_nothing(cluster: dict[str, Any]) -> None:
    anonymous = Client()
    for path in ("/api/v1/factory/orders", "/api/v1/factory/jobs", "/api/v1/factory/capabilities"):
        r = anonymous.get(path)
        assert r.status_code == 401 and r.json()["type"] == "urn:agglo:problem:unauthenticated", path
    r = anonymous.post(
        "/api/v1/factory/orders", order_data(buyer=cluster["orgs"]["buyer"].pk), content_type="application/json"
    )
    assert r.status_code == 401 and not Order.objects.exists()
    assert anonymous.get("/api/v1/factory/processes").status_code == 200  # the catalogue is public


def test_api_answers_speak_the_callers_language_and_take_booleans_strictly(cluster: dict[str, Any]) -> None:
    people, orgs = cluster["people"], cluster["orgs"]
    buyer = api(people["buyer"])
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    missing = buyer.get("/api/v1/factory/orders/987654", **zh)
    assert missing.status_code == 404 and missing.json()["title"] == "没有编号为 987654 的订单。"
    r = buyer.post(
        "/api/v1/factory/orders",
        order_data(buyer=orgs["buyer"].pk, due_week=20270118),
        content_type="application/json",
        **zh,
    )
    assert r.status_code == 422 and r.json()["errors"]["due_week"] == ["必须是日期，例如 2026-12-31。"]
    order_id = buyer.post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json"
    ).json()["id"]
    buyer.post(f"/api/v1/factory/orders/{order_id}/plan")
    offer = buyer.get(f"/api/v1/factory/orders/{order_id}/allocations").json()[0]
    owner = next(n for n, o in orgs.items() if o.pk == offer["factory_id"])
    r = api(people[owner]).post(
        f"/api/v1/factory/allocations/{offer['id']}/answer",
        {"action": "decline", "whole_step": "yes"},
        content_type="application/json",
    )
    assert r.status_code == 422 and "whole_step" in r.json()["errors"]
    assert buyer.get(f"/api/v1/factory/orders/{order_id}/allocations").json()[0]["status"] == "offered"


def test_entry_and_amendment_take_the_same_types_and_name_list_items_alike(cluster: dict[str, Any]) -> None:
    orgs = cluster["orgs"]
    buyer = api(cluster["people"]["buyer"])
    steps = [{"process": "cnc", "quantity": 600}, {"process": "surface", "quantity": 600, "after": ["one"]}]
    r = buyer.post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk, operations=steps), content_type="application/json"
    )
    assert r.status_code == 422 and "operations[2].after[1]" in r.json()["errors"], r.json()
    order_id = buyer.post(
        "/api/v1/factory/orders", order_data(buyer=orgs["buyer"].pk), content_type="application/json"
    ).json()["id"]
    url = f"/api/v1/factory/orders/{order_id}"
    for body, field in (({"due_week": 20270118}, "due_week"), ({"regions_only": "320000"}, "regions_only")):
        r = buyer.patch(url, body, content_type="application/json")
        assert r.status_code == 422 and field in r.json()["errors"], r.json()
    assert buyer.patch(url, {"regions_only": ["320000"]}, content_type="application/json").status_code == 200


def test_an_empty_progress_report_is_refused_over_http_as_on_the_job_board(cluster: dict[str, Any]) -> None:
    from tests.factory.conftest import accepted_offer

    a, factory = accepted_offer(cluster)
    url = f"/api/v1/factory/allocations/{a.pk}/progress"
    for body in ({}, {"quantity_done": None}, {"started": False}):
        r = api(factory).post(url, body, content_type="application/json")
        assert r.status_code == 422 and "quantity_done" in r.json()["errors"], (body, r.content)
    r = api(factory).post(url, {"started": True}, content_type="application/json")
    assert r.status_code == 200
    a.refresh_from_db()
    assert a.started


def test_the_order_list_reads_its_diagnoses_in_a_fixed_number_of_queries(cluster: dict[str, Any]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factory.test_plan_flow import planned

    client = api(cluster["people"]["buyer"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/factory/orders").status_code == 200
        return len(ctx.captured_queries)

    route = [{"process": p, "quantity": 90000} for p in ("cnc", "surface", "assembly")]
    first = planned(cluster, quantity=90000, operations=route)  # no factory has that room: a finding per step
    assert first.status == "infeasible" and len(first.diagnosis) >= 2
    one = queries()
    for _ in range(3):
        planned(cluster, quantity=90000, operations=route)
    assert queries() == one


def test_the_job_board_names_an_unknown_status(cluster: dict[str, Any]) -> None:
    r = api(cluster["people"]["sz"]).get("/api/v1/factory/jobs?status=zzz")
    assert r.status_code == 422 and "offered" in r.json()["errors"]["status"][0]
    assert api(cluster["people"]["sz"]).get("/api/v1/factory/jobs?status=offered").status_code == 200


def test_one_answer_names_every_bad_field_and_a_change_keeps_what_it_leaves_out(cluster: dict[str, Any]) -> None:
    # review 56: a bad week hid a bad capacity, and a bad quantity done hid bad defects
    from agglo.factory.models import Capability, CapacitySlot
    from agglo.factory.weeks import monday
    from tests.factory.conftest import accepted_offer

    people, orgs = cluster["people"], cluster["orgs"]
    sz = api(people["sz"])
    cap = Capability.objects.filter(organization=orgs["sz"]).first()
    url = f"/api/v1/factory/capabilities/{cap.pk}/weeks"
    r = sz.put(url, {"week": "junk", "capacity": -1}, content_type="application/json")
    assert r.status_code == 422 and set(r.json()["errors"]) == {"week", "capacity"}, r.content
    r = sz.put(url, {"capacity": 5}, content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"] == {"week": ["此项为必填项。"]}
    assert sz.put(url, {"week": 20270118, "capacity": 5}, content_type="application/json").status_code == 422
    assert not CapacitySlot.objects.exists()
    # an ISO week, as the calendar file takes it, is its Monday
    week = monday(dt.date.today()) + dt.timedelta(weeks=3)
    iso = f"{week.isocalendar().year}-W{week.isocalendar().week:02d}"
    r = sz.put(url, {"week": iso, "capacity": 5}, content_type="application/json")
    assert r.status_code == 200 and r.json()["week"] == week.isoformat(), r.content
    # reading weeks outside those that may be set is refused, not answered with other weeks
    last_page = monday(dt.date.today()) + dt.timedelta(weeks=52)  # a page starting later would be moved
    for start, status in (
        ("2020-01-06", 422),
        ("2099-01-05", 422),
        ((last_page + dt.timedelta(weeks=1)).isoformat(), 422),
        (last_page.isoformat(), 200),
        (iso, 200),
    ):
        r = sz.get(f"{url}?from={start}")
        assert r.status_code == status, (start, r.content)
    assert r.json()[0]["week"] == week.isoformat()

    a, factory = accepted_offer(cluster)
    r = api(factory).post(
        f"/api/v1/factory/allocations/{a.pk}/progress",
        {"quantity_done": "many", "defects": "many"},
        content_type="application/json",
    )
    assert r.status_code == 422 and set(r.json()["errors"]) == {"quantity_done", "defects"}, r.content
    r = api(factory).post(
        f"/api/v1/factory/allocations/{a.pk}/progress", {"delivered_on": 20261207}, content_type="application/json"
    )
    assert r.status_code == 422 and set(r.json()["errors"]) == {"delivered_on"}, r.content

    # A change keeps the terms it leaves out, or sends as null; the schema publishes no create-time defaults that
    # a client filling them in would send.
    declared = api(people["sz"]).put(
        f"/api/v1/factory/organizations/{orgs['sz'].pk}/capabilities",
        {"process": cap.process_id, "min_lot": 40, "quality_grade": 3, "certifications": ["ISO9001"], "lead_weeks": 1},
        content_type="application/json",
    )
    assert declared.status_code == 200, declared.content
    r = sz.put(
        f"/api/v1/factory/organizations/{orgs['sz'].pk}/capabilities",
        {"process": cap.process_id, "weekly_capacity": 200, "min_lot": None, "certifications": None},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    kept = r.json()
    assert (kept["weekly_capacity"], kept["min_lot"], kept["quality_grade"]) == (200, 40, 3)
    assert (kept["certifications"], kept["lead_weeks"]) == (["ISO9001"], 1)
    schema = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]["CapabilityIn"]["properties"]
    assert not [name for name, said in schema.items() if "default" in said and said["default"] is not None]


def test_a_json_type_fault_says_which_json_type(cluster: dict[str, Any]) -> None:
    from tests.factory.conftest import accepted_offer

    a, factory = accepted_offer(cluster)
    r = api(factory).post(
        f"/api/v1/factory/allocations/{a.pk}/receipt", {"confirm": "yes"}, content_type="application/json"
    )
    assert r.status_code == 422
    assert r.json()["errors"]["confirm"] == ['必须是 true 或 false（JSON 的写法）：true，而不是 "true" 或 "yes"。']


def test_an_order_changed_since_it_was_read_is_not_changed_or_cancelled_over_its_version(
    cluster: dict[str, Any],
) -> None:
    """Two ERPs (or an ERP and a person) changing one order: `If-Match` with the `ETag` read keeps either from
    overwriting the other unseen; without it, a change goes through as before."""
    import json

    from agglo.factory.services.orders import order_create, order_plan
    from tests.registry.test_api import problem

    buyer_user = cluster["people"]["buyer"]
    order = order_plan(actor=buyer_user, order=order_create(actor=buyer_user, data=order_data()))
    buyer = api(buyer_user)
    url = f"/api/v1/factory/orders/{order.pk}"
    read = buyer.get(url)
    tag = read["ETag"]
    assert read.status_code == 200 and tag.startswith('"')
    assert buyer.get(url)["ETag"] == tag  # reading changes nothing
    first = buyer.patch(url, json.dumps({"late_penalty": "3000"}), content_type="application/json", HTTP_IF_MATCH=tag)
    assert first.status_code == 200, first.content
    assert first["ETag"] != tag and first["ETag"] == buyer.get(url)["ETag"]
    stale = buyer.patch(url, json.dumps({"late_penalty": "4000"}), content_type="application/json", HTTP_IF_MATCH=tag)
    assert tag in problem(stale, 412)["title"]
    cancel = buyer.post(f"{url}/cancel", json.dumps({"reason": "重复下单"}), "application/json", HTTP_IF_MATCH=tag)
    assert cancel.status_code == 412
    order.refresh_from_db()
    assert order.late_penalty == 3000 and order.status == Order.Status.PLANNED
    preview = buyer.post(f"{url}/amend-preview", json.dumps({"quantity": 300}), "application/json", HTTP_IF_MATCH=tag)
    assert preview.status_code == 412
    # the version of the moment is taken, and so is a change without one
    current = first["ETag"]
    ok = buyer.post(f"{url}/cancel", json.dumps({"reason": "重复下单"}), "application/json", HTTP_IF_MATCH=current)
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == buyer.get(url)["ETag"] != current  # the answer's version is the order's now
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
