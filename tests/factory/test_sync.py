"""An ERP syncs orders and the job board by `updated_after`: every change of what its reader sees comes, in the
order it was made, and nothing another member did to work the reader does not see."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from agglo.factory.models import Allocation, Order
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel
from tests.factory.conftest import signed_in
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def owner(cluster: dict[str, Any], a: Allocation) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)


def since(client: Any, path: str, moment: str) -> list[dict[str, Any]]:
    """What changed after `moment`, leaving out what comes again: times are written to the millisecond, so rows
    changed in the millisecond last read come again (the documented rule; none is missed)."""
    r = client.get(f"/api/v1/factory/{path}?updated_after={quote(moment)}")
    assert r.status_code == 200, r.content
    stamp = "changed_at" if path == "orders" else "updated_at"
    rows = r.json()
    assert all(row[stamp] >= moment for row in rows)
    return [row for row in rows if row[stamp] != moment]


def test_the_job_board_feed_brings_each_change_once_in_order_withdrawn_offers_too(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    first = order.allocations.filter(status="offered").order_by("pk").first()
    factory = owner(cluster, first)
    erp = signed_in(factory)
    board = erp.get("/api/v1/factory/jobs").json()
    assert board and all(row["updated_at"] for row in board)
    mark = max(row["updated_at"] for row in board)
    assert since(erp, "jobs", mark) == []  # nothing changed since the last row read
    allocation_respond(actor=factory, allocation=first, action="accept")
    (row,) = since(erp, "jobs", mark)
    assert (row["id"], row["status"]) == (first.pk, "accepted")
    mark = row["updated_at"]
    # the buyer cancels: its offers not answered are withdrawn by one queryset update, its accepted work called off
    mine = set(order.allocations.filter(factory_id=first.factory_id).values_list("pk", flat=True))
    order_cancel(actor=cluster["people"]["buyer"], order=order, reason="需求取消")
    changed = since(erp, "jobs", mark)
    assert {r["id"] for r in changed} == mine and {r["status"] for r in changed} <= {"superseded", "accepted"}
    assert [r["updated_at"] for r in changed] == sorted(r["updated_at"] for r in changed)
    assert {r["factory_id"] for r in changed} == {first.factory_id}  # its own work only
    # a reminder, or a re-plan that keeps an offer as it was, is no change: nothing comes again
    assert since(erp, "jobs", max(r["updated_at"] for r in changed)) == []


def test_the_order_feed_follows_the_work_each_reader_sees(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered").order_by("pk"))
    factories = {a.factory_id for a in offers}
    assert len(factories) >= 2
    a = offers[0]
    other = next(o for o in offers if o.factory_id != a.factory_id)
    buyer, mine, theirs = (
        signed_in(cluster["people"]["buyer"]),
        signed_in(owner(cluster, a)),
        signed_in(owner(cluster, other)),
    )
    listed = buyer.get("/api/v1/factory/orders").json()
    (row,) = [r for r in listed if r["id"] == order.pk]
    assert row["changed_at"] >= row["updated_at"]
    marks = {
        who: next(r["changed_at"] for r in c.get("/api/v1/factory/orders").json() if r["id"] == order.pk)
        for who, c in (("buyer", buyer), ("mine", mine), ("theirs", theirs))
    }
    allocation_respond(actor=owner(cluster, a), allocation=a, action="accept")
    # the buyer sees the whole plan, the accepting factory its own part: both hear of the order again
    assert [r["id"] for r in since(buyer, "orders", marks["buyer"])] == [order.pk]
    assert [r["id"] for r in since(mine, "orders", marks["mine"])] == [order.pk]
    # another factory sees nothing of that answer, not even that something happened
    assert since(theirs, "orders", marks["theirs"]) == []
    # a change of the order's own record (its terms) reaches every reader, and stamps the record
    before = Order.objects.get(pk=order.pk).updated_at
    Order.objects.get(pk=order.pk).save(update_fields=["late_penalty"])
    assert Order.objects.get(pk=order.pk).updated_at > before
    assert [r["id"] for r in since(theirs, "orders", marks["theirs"])] == [order.pk]


def test_a_bad_moment_is_refused_by_name(cluster: dict[str, Any]) -> None:
    erp = signed_in(cluster["people"]["buyer"])
    for path in ("orders", "jobs"):
        r = erp.get(f"/api/v1/factory/{path}?updated_after=yesterday")
        assert r.status_code == 422 and "updated_after" in str(r.json()["errors"]), r.content
