"""When a factory's move (a decline, a withdrawal, a delay, silence) re-plans an order, the buyer is told what
happened and what the re-plan made of it, in the buyer's own language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from agglo.common.language import language_remember
from agglo.common.models import Notification
from agglo.factory.models import Allocation, Capability, Order
from agglo.factory.services.jobs import allocation_delay, allocation_respond, allocation_withdraw
from tests.factory.test_amend import confirmed
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _owner(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


def _told(cluster: dict[str, Any], verb: str = "factory.answer") -> str:
    return Notification.objects.filter(user=cluster["people"]["buyer"], verb=verb).latest("id").text


def _repair(order: Order) -> str:
    order.refresh_from_db()
    new = order.allocations.filter(plan_version=order.plan_version, status="offered")
    changes = order.plan_stats["changes"]
    assert changes["offered"] == new.count() and changes["factories"] == len({a.factory_id for a in new})
    return (
        f"The plan was repaired: {changes['offered']} new offers to {changes['factories']} factories; "
        f"{changes['moved']} accepted parts moved."
    )


def test_a_withdrawal_tells_the_buyer_what_the_repair_offered(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    held = order.allocations.filter(status="accepted").first()
    allocation_withdraw(actor=_owner(cluster, held.factory_id), allocation=held, reason="设备故障")
    said = _told(cluster)
    assert said == f"A factory withdrew from order {order.product}. {_repair(order)}", said
    assert order.plan_stats["changes"]["offered"] >= 1  # the withdrawn part is offered again


def test_a_decline_that_leaves_no_plan_says_so_instead_of_claiming_a_repair(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    a = order.allocations.filter(status="offered").first()
    Capability.objects.filter(process=a.capability.process).exclude(pk=a.capability_id).update(active=False)
    allocation_respond(actor=_owner(cluster, a.factory_id), allocation=a, action="decline", note="排不开")
    order.refresh_from_db()
    assert order.status == "infeasible"
    said = _told(cluster)
    assert said.startswith(f"有工厂婉拒了订单 {order.product} 中的任务。") and "无可行方案" in said, said
    assert "方案已修复" not in said


def test_a_delay_tells_the_buyer_where_the_late_part_went(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    late = order.allocations.filter(status="accepted", operation__seq=1).order_by("-week").first()
    allocation_delay(actor=_owner(cluster, late.factory_id), allocation=late, weeks=1, reason="原料延误")
    late.refresh_from_db()
    what = f"A factory reports a delay of 1 weeks on order {order.product}"
    what += "; its late part is offered anew." if late.status == "superseded" else "."
    assert _told(cluster) == f"{what} {_repair(order)}"


def test_the_buyer_hears_when_answers_did_not_come_in_time(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    waiting = order.allocations.filter(status="offered")
    n = waiting.count()
    Allocation.objects.filter(pk__in=waiting.values("pk")).update(respond_by=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    call_command("expire_offers")
    said = _told(cluster, "factory.offers_expired")
    assert said.startswith(f"{n} answers on order {order.product} did not come in time. "), said
    order.refresh_from_db()
    assert said.endswith(_repair(order) if order.status == "planned" else "the order page says why.")
