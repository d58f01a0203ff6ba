"""Review 112 (an ERP and a MES built against the factory API from its docs alone): a drawing's `url` serves the
file to a token, the plan names its factories and the week each promised, a bad `updated_after` is refused in the
caller's language, and the schema publishes the `ETag`, `If-Match` and 412 the docs promise."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.factory.services.execution import allocation_delay
from agglo.factory.services.jobs import allocation_respond
from tests.conftest import upload
from tests.factory.test_documents import PDF
from tests.factory.test_plan_flow import planned
from tests.registry.test_api import bearer

pytestmark = pytest.mark.django_db


def test_a_drawings_url_serves_the_file_to_an_erp_with_a_token(cluster: dict[str, Any]) -> None:
    # the `url` was the page's address: a token following it got the login page, with 200 after the redirect
    order = planned(cluster)
    erp = bearer(cluster["people"]["buyer"])
    listed = Client().post(f"/api/v1/factory/orders/{order.pk}/documents", {"files": [upload("a.pdf", PDF)]}, **erp)
    assert listed.status_code == 201, listed.content
    (doc,) = listed.json()
    assert doc["url"] == f"/api/v1/factory/documents/{doc['id']}"
    got = Client().get(doc["url"], **erp)
    assert got.status_code == 200 and got["Content-Type"] == "application/pdf"
    assert b"".join(got.streaming_content) == PDF
    name = next(n for n, o in cluster["orgs"].items() if o.pk == order.allocations.first().factory_id)
    mes = bearer(cluster["people"][name])  # a factory offered work reads it the same way
    (seen,) = Client().get(f"/api/v1/factory/orders/{order.pk}/documents", **mes).json()
    assert Client().get(seen["url"], **mes).status_code == 200


def test_the_plan_names_each_factory_and_the_week_it_promised(cluster: dict[str, Any]) -> None:
    # the plan file had both; the JSON had only `factory_id` (a name cost a profile view) and no promised week, so a
    # delay reported on work left no trace of the week it was due
    order = planned(cluster)
    offer = order.allocations.filter(status="offered").select_related("factory").first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == offer.factory_id)
    allocation_respond(actor=who, allocation=offer, action="accept")
    offer.refresh_from_db()
    promised = offer.week
    allocation_delay(actor=who, allocation=offer, weeks=1, reason="设备检修")
    erp = bearer(cluster["people"]["buyer"])
    plan = {a["id"]: a for a in Client().get(f"/api/v1/factory/orders/{order.pk}/allocations", **erp).json()}
    late = plan[offer.pk]
    assert late["factory"] == offer.factory.name and late["factory_id"] == offer.factory_id
    assert late["promised_week"] == promised.isoformat() and late["week"] > late["promised_week"]
    assert all(a["promised_week"] is None for a in plan.values() if a["status"] == "offered")
    (changed,) = Client().get(f"/api/v1/factory/orders/{order.pk}/changes", **erp).json()
    assert changed["id"] == offer.pk and changed["promised_week"] == promised.isoformat()
    board = Client().get("/api/v1/factory/jobs", **bearer(who)).json()
    assert {a["factory"] for a in board} == {offer.factory.name}


@pytest.mark.parametrize("path", ["factory/orders", "factory/jobs"])
def test_a_bad_updated_after_is_refused_in_the_callers_language(cluster: dict[str, Any], path: str) -> None:
    # pydantic's own English ("Input should be a valid datetime or date, input is too short") answered every caller
    erp = bearer(cluster["people"]["buyer"])
    zh = Client().get(f"/api/v1/{path}?updated_after=yesterday", **erp)
    assert zh.status_code == 422
    assert zh.json()["errors"] == {"updated_after": ["必须是时刻（如 2026-12-01T08:00:00Z）或日期（如 2026-12-01）。"]}
    en = Client().get(f"/api/v1/{path}?updated_after=2026-13-01", HTTP_ACCEPT_LANGUAGE="en", **erp)
    assert en.json()["errors"] == {
        "updated_after": ["Must be a moment, such as 2026-12-01T08:00:00Z, or a date, such as 2026-12-01."]
    }


def test_the_schema_publishes_the_versions_the_docs_promise() -> None:
    from agglo.api import api

    paths = api.get_openapi_schema(path_prefix="/api/v1")["paths"]

    def said(path: str, method: str) -> tuple[bool, bool]:
        operation = paths[f"/api/v1{path}"][method]
        success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        takes = any(p["name"] == "If-Match" and p["in"] == "header" for p in operation.get("parameters", []))
        assert takes == ("412" in operation["responses"]), (path, method)
        return "ETag" in success.get("headers", {}), takes

    assert said("/factory/orders/{order_id}", "get") == (True, False)
    assert said("/factory/orders/{order_id}", "patch") == (True, True)
    assert said("/factory/orders/{order_id}/plan", "post") == (True, False)
    assert said("/factory/orders/{order_id}/cancel", "post") == (True, True)
    assert said("/factory/orders/{order_id}/amend-preview", "post") == (False, True)
    assert said("/factory/capabilities/{capability_id}", "get") == (True, False)
    assert said("/factory/organizations/{org_id}/capabilities", "put") == (True, True)
    assert said("/listings/{listing_id}", "patch") == (True, True)
    assert said("/policies/{policy_id}", "patch") == (True, True)
    assert said("/organizations/{org_id}", "patch") == (True, True)
    assert said("/cases/{case_id}", "patch") == (True, True)
    assert said("/financials/{fact_id}", "get") == (True, False)
    assert said("/ip/{fact_id}", "delete") == (False, True)
    assert said("/factory/jobs", "get") == (False, False)
    assert "412" in paths["/api/v1/factory/orders/{order_id}"]["patch"]["responses"]["4XX"]["description"]


def test_a_plans_pieces_and_its_changes_page_with_their_count(cluster: dict[str, Any]) -> None:
    # every re-plan may add to an order's changes, and neither list paged nor said how long it was
    order = planned(cluster)
    erp = bearer(cluster["people"]["buyer"])
    for _declined in range(2):  # each decline re-plans: the next offer is read afresh
        offer = order.allocations.filter(status="offered").first()
        who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == offer.factory_id)
        allocation_respond(actor=who, allocation=offer, action="decline", note="满负荷")
    for path in ("allocations", "changes"):
        whole = Client().get(f"/api/v1/factory/orders/{order.pk}/{path}", **erp)
        assert whole.status_code == 200 and int(whole["X-Total-Count"]) == len(whole.json()) >= 2, path
        pages = [
            Client().get(f"/api/v1/factory/orders/{order.pk}/{path}", {"limit": 1, "offset": n}, **erp)
            for n in range(len(whole.json()))
        ]
        assert [a["id"] for p in pages for a in p.json()] == [a["id"] for a in whole.json()], path
        too_many = Client().get(f"/api/v1/factory/orders/{order.pk}/{path}", {"limit": 1001}, **erp)
        assert too_many.status_code == 422 and "limit" in too_many.json()["errors"], path


def test_a_process_is_called_process_in_what_is_read_as_in_what_is_sent(cluster: dict[str, Any]) -> None:
    # an order's steps and a capability were read back as `process_id`, sent as `process` (and a plan's pieces read
    # `process`): an ERP placing an order again had to rename the field
    order = planned(cluster)
    erp = bearer(cluster["people"]["buyer"])
    read = Client().get(f"/api/v1/factory/orders/{order.pk}", **erp).json()
    assert [s["process"] for s in read["operations"]] == ["cnc", "surface", "assembly"]
    assert all(s["process_id"] == s["process"] for s in read["operations"])  # kept for clients that read it
    again = {k: read[k] for k in ("product", "quantity", "start_week", "due_week")}
    again["operations"] = [{k: s[k] for k in ("process", "quantity", "after")} for s in read["operations"]]
    assert Client().post("/api/v1/factory/orders", again, content_type="application/json", **erp).status_code == 201
    mes = bearer(cluster["people"]["sz"])
    (cap, *_rest) = Client().get("/api/v1/factory/capabilities", **mes).json()
    assert cap["process"] == cap["process_id"] == "assembly"
