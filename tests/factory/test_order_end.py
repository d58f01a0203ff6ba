"""How an order ends: done only when every step's whole quantity is delivered; cancelled by the buyer, with
delivered work kept on record."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from agglo.factory.models import Allocation, Capability, CapacitySlot, Order
from agglo.factory.services.execution import allocation_progress, allocation_receipt
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel, order_create, order_plan
from tests.factory.conftest import order_data, signed_in
from tests.factory.test_amend import confirmed

pytestmark = pytest.mark.django_db


def _owner(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


def _deliver(cluster: dict[str, Any], a: Allocation) -> None:
    allocation_progress(
        actor=_owner(cluster, a.factory_id),
        allocation=a,
        data={"quantity_done": a.quantity, "delivered_on": timezone.localdate().isoformat()},
    )


def test_an_order_is_done_only_when_every_step_is_delivered(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    accepted = list(order.allocations.filter(status="accepted"))
    assert len(accepted) > 1
    for a in accepted[:-1]:
        _deliver(cluster, a)
        order.refresh_from_db()
        assert order.status == "confirmed"
    _deliver(cluster, accepted[-1])
    order.refresh_from_db()
    assert order.status == "done"


def test_an_order_without_a_plan_for_some_step_is_not_done_by_a_delivery(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered", operation__seq=1).first()
    allocation_respond(actor=_owner(cluster, a.factory_id), allocation=a, action="accept")
    # every other factory stops offering its processes: the rest of the order has no plan
    Capability.objects.exclude(organization_id=a.factory_id).update(active=False)
    order_plan(actor=buyer, order=order)
    order.refresh_from_db()
    assert order.status == "infeasible"
    a.refresh_from_db()
    _deliver(cluster, a)
    order.refresh_from_db()
    assert order.status == "infeasible"  # step 1's part is delivered, the rest was never planned
    # the buyer may still plan it again once factories are back
    Capability.objects.update(active=True)
    order_plan(actor=buyer, order=order)
    order.refresh_from_db()
    assert order.status == "planned"
    a.refresh_from_db()
    assert a.status == "delivered"


def test_cancelling_after_a_delivery_calls_off_only_the_rest(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    first, *rest = list(order.allocations.filter(status="accepted").select_related("capability"))
    _deliver(cluster, first)
    reserved = {a.pk: CapacitySlot.objects.get(capability=a.capability, week=a.week).reserved for a in rest}
    buyer = cluster["people"]["buyer"]
    # the confirmation says the delivery stays on record, and still awaits the buyer's receipt
    from agglo.factory.selectors.orders import cancel_preview

    assert (cancel_preview(order).delivered, cancel_preview(order).to_receive) == (1, 1)
    # work the buyer made itself has no receipt to wait for
    Allocation.objects.filter(pk=first.pk).update(factory_id=order.buyer_id)
    assert (cancel_preview(order).delivered, cancel_preview(order).to_receive) == (1, 0)
    Allocation.objects.filter(pk=first.pk).update(factory_id=first.factory_id)
    asked = signed_in(buyer).post(f"/factory/orders/{order.pk}/cancel/", {"reason": "客户撤单"}).content.decode()
    assert "1 项已交付的任务仍保留在记录中" in asked and "其中 1 项仍待您确认收货。" in asked
    order_cancel(actor=buyer, order=order, reason="客户撤单")
    order.refresh_from_db()
    assert order.status == "cancelled"
    first.refresh_from_db()
    assert first.status == "delivered"
    for a in rest:
        a.refresh_from_db()
        assert a.status == "superseded"
        slot = CapacitySlot.objects.get(capability=a.capability, week=a.week)
        assert slot.reserved <= reserved[a.pk] - a.quantity
    # the delivered work can still be received, and the page says why the order ended
    allocation_receipt(actor=buyer, allocation=first, confirm=True)
    assert cancel_preview(order).to_receive == 0  # received: nothing waits on the buyer
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "已取消：" in page and "客户撤单" in page and "没有可行方案" not in page
    assert Order.objects.get(pk=order.pk).status == "cancelled"


def test_an_order_is_done_when_its_last_delivery_lands_even_without_a_plan(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.amend import order_amend

    order = confirmed(cluster)
    # a budget no plan can meet: the order has no plan, but its accepted work stays and is delivered
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"budget": "1"})
    order.refresh_from_db()
    assert order.status == "infeasible"
    for a in list(order.allocations.filter(status="accepted")):
        _deliver(cluster, a)
    order.refresh_from_db()
    assert order.status == "done"


def test_a_delivered_order_says_which_receipts_the_buyer_still_owes(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    accepted = list(order.allocations.filter(status="accepted"))
    for a in accepted:
        _deliver(cluster, a)
    owed = [a for a in accepted if a.factory_id != order.buyer_id]  # the buyer's own work needs no receipt
    assert len(owed) >= 3
    buyer = signed_in(cluster["people"]["buyer"])
    got = buyer.get(f"/api/v1/factory/orders/{order.pk}").json()
    assert got["status"] == "done" and got["receipts"] == {"to_answer": len(owed), "disputed": 0}
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=owed[0], confirm=False, note="scratched")
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=owed[1], confirm=True)
    listed = {o["id"]: o for o in buyer.get("/api/v1/factory/orders").json()}[order.pk]
    assert listed["receipts"] == {"to_answer": len(owed) - 2, "disputed": 1}
    page = buyer.get(f"/factory/orders/{order.pk}/").content.decode()
    assert "1 批交付有异议" in page and f"{len(owed) - 2} 批交付待确认收货" in page
    buyer.cookies["django_language"] = "en"
    assert buyer.get("/factory/").content.decode().count("1 delivery disputed") == 1
    # a factory in the order sees the order's state, not the buyer's receipts
    factory = signed_in(_owner(cluster, owed[0].factory_id))
    assert factory.get(f"/api/v1/factory/orders/{order.pk}").json()["receipts"] is None
    factory.cookies["django_language"] = "en"
    assert "disputed" not in factory.get("/factory/").content.decode()
    for a in owed[2:]:
        allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=True)
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=owed[0], confirm=True)  # the dispute settled
    assert buyer.get(f"/api/v1/factory/orders/{order.pk}").json()["receipts"] == {"to_answer": 0, "disputed": 0}
    assert "receipts-" not in buyer.get(f"/factory/orders/{order.pk}/").content.decode()


def test_work_delivered_before_its_week_gives_the_week_back(cluster: dict[str, Any]) -> None:
    # review 56 M1: the week stayed reserved for good, and the factory could not lower it
    import datetime as dt

    from agglo.factory.services.capacity import capacity_set
    from agglo.factory.weeks import monday

    buyer = cluster["people"]["buyer"]
    later = monday(timezone.localdate()) + dt.timedelta(weeks=3)
    data = order_data(start_week=later.isoformat(), due_week=(later + dt.timedelta(weeks=6)).isoformat())
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    a = order.allocations.filter(status="offered").order_by("week").first()
    factory = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    allocation_respond(actor=factory, allocation=a, action="accept")
    slot = CapacitySlot.objects.get(capability=a.capability, week=a.week)
    assert a.week >= later and slot.reserved >= a.quantity
    before = slot.reserved
    done = allocation_progress(actor=factory, allocation=a, data={"delivered_on": timezone.localdate().isoformat()})
    assert done.status == Allocation.Status.DELIVERED
    slot.refresh_from_db()
    assert slot.reserved == before - a.quantity
    capacity_set(actor=factory, capability=a.capability, week=a.week.isoformat(), capacity=before - a.quantity)
