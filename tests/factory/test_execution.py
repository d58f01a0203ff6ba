"""Execution reports that feed the scorecard: what a factory reports cannot rewrite its own record."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone, translation

from agglo.common.errors import ValidationFailed
from agglo.factory.models import Allocation
from agglo.factory.selectors.scorecards import scorecards
from agglo.factory.services.execution import allocation_delay, allocation_progress, allocation_withdraw
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_create, order_plan
from tests.factory.conftest import order_data

pytestmark = pytest.mark.django_db


def accepted(cluster: dict[str, Any]) -> tuple[Allocation, Any]:
    """One accepted allocation of a freshly planned order, and its factory's admin."""
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered", operation__seq=1).first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    allocation_respond(actor=who, allocation=a, action="accept")
    a.refresh_from_db()
    return a, who


def test_acceptance_records_the_promise(cluster: dict[str, Any]) -> None:
    a, _who = accepted(cluster)
    assert a.promised_week == a.week and a.accepted_at is not None


def test_a_delivery_cannot_be_dated_before_the_work_was_accepted(cluster: dict[str, Any]) -> None:
    a, who = accepted(cluster)
    with pytest.raises(ValidationFailed) as bad:
        allocation_progress(actor=who, allocation=a, data={"quantity_done": a.quantity, "delivered_on": "2001-01-01"})
    assert "delivered_on" in bad.value.errors
    a.refresh_from_db()
    assert a.status == "accepted" and a.delivered_on is None and not scorecards([a.factory_id])


def test_work_reported_done_cannot_be_taken_back_or_withdrawn(cluster: dict[str, Any]) -> None:
    a, who = accepted(cluster)
    allocation_progress(actor=who, allocation=a, data={"quantity_done": a.quantity})
    with pytest.raises(ValidationFailed) as bad:
        allocation_progress(actor=who, allocation=a, data={"quantity_done": 0})
    assert "quantity_done" in bad.value.errors
    with pytest.raises(ValidationFailed):
        allocation_withdraw(actor=who, allocation=a, reason="改主意了")
    a.refresh_from_db()
    assert a.quantity_done == a.quantity and a.status == "accepted"


def test_a_reported_delay_still_counts_against_the_promised_week(cluster: dict[str, Any]) -> None:
    a, who = accepted(cluster)
    promised = a.promised_week
    allocation_delay(actor=who, allocation=a, weeks=1, reason="原料延误")
    a.refresh_from_db()
    assert a.week == promised + dt.timedelta(weeks=1) and a.promised_week == promised
    # Two weeks on: the work is delivered in the week it was moved to, a week after the promise.
    today = timezone.localdate()
    Allocation.objects.filter(pk=a.pk).update(
        promised_week=today - dt.timedelta(weeks=1, days=today.weekday()),
        week=today - dt.timedelta(days=today.weekday()),
    )
    a.refresh_from_db()
    allocation_progress(actor=who, allocation=a, data={"quantity_done": a.quantity, "delivered_on": today.isoformat()})
    card = scorecards([a.factory_id])[a.factory_id]
    assert card.jobs == 1 and card.on_time_rate == 0.0


def test_a_counter_offer_must_be_smaller_than_the_offer(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered").first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    Allocation.objects.filter(pk=a.pk).update(quantity=1)
    a.refresh_from_db()
    with translation.override("en"), pytest.raises(ValidationFailed) as bad:
        allocation_respond(actor=who, allocation=a, action="counter", quantity=1)
    assert "smaller than the offer" in bad.value.errors["quantity"][0]


def delivered(cluster: dict[str, Any], defects: int = 0) -> tuple[Allocation, Any]:
    a, who = accepted(cluster)
    allocation_progress(
        actor=who,
        allocation=a,
        data={"quantity_done": a.quantity, "defects": defects, "delivered_on": timezone.localdate().isoformat()},
    )
    a.refresh_from_db()
    return a, who


def test_the_buyers_inspection_replaces_the_factorys_defect_count(cluster: dict[str, Any]) -> None:
    from agglo.common.errors import Forbidden
    from agglo.factory.services.execution import allocation_receipt

    a, factory = delivered(cluster, defects=0)
    buyer = cluster["people"]["buyer"]
    with pytest.raises(Forbidden):
        allocation_receipt(actor=factory, allocation=a, confirm=True, defects_found=0)
    with pytest.raises(ValidationFailed) as bad:
        allocation_receipt(actor=buyer, allocation=a, confirm=True, defects_found=a.quantity + 1)
    assert "defects_found" in bad.value.errors
    allocation_receipt(actor=buyer, allocation=a, confirm=True, defects_found=7)
    card = scorecards([a.factory_id])[a.factory_id]
    assert card.defects == 7 and card.confirmed == 1 and card.disputed == 0
    with pytest.raises(ValidationFailed):  # answered once
        allocation_receipt(actor=buyer, allocation=a, confirm=False, note="少了一箱")


def test_a_disputed_delivery_is_not_on_time_and_needs_a_reason(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.execution import allocation_receipt

    a, _factory = delivered(cluster)
    buyer = cluster["people"]["buyer"]
    before = scorecards([a.factory_id])[a.factory_id]
    with pytest.raises(ValidationFailed) as bad:
        allocation_receipt(actor=buyer, allocation=a, confirm=False, note=" ")
    assert "note" in bad.value.errors
    allocation_receipt(actor=buyer, allocation=a, confirm=False, note="货未收到")
    after = scorecards([a.factory_id])[a.factory_id]
    assert after.disputed == 1 and after.on_time == 0 and before.on_time == 1


def test_work_not_delivered_cannot_be_confirmed(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.execution import allocation_receipt

    a, _factory = accepted(cluster)
    with pytest.raises(ValidationFailed) as bad:
        allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=True)
    assert "action" in bad.value.errors


def test_a_receipt_without_a_count_leaves_the_factorys_report(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.execution import allocation_receipt

    a, _factory = delivered(cluster, defects=9)
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=True, defects_found="", note="外箱破损")
    card = scorecards([a.factory_id])[a.factory_id]
    assert card.defects == 9 and card.confirmed == 1
    # the buyer's remark is kept in the audit trail (the public log keeps only the figures)
    from agglo.common.models import AuditEvent

    assert AuditEvent.objects.get(event="factory.allocation_received").payload["note"] == "外箱破损"


def test_the_buyer_cannot_confirm_work_its_own_factory_made(cluster: dict[str, Any]) -> None:
    from agglo.common.errors import Forbidden
    from agglo.factory.services.execution import allocation_receipt

    a, _factory = delivered(cluster)
    Allocation.objects.filter(pk=a.pk).update(factory=cluster["orgs"]["buyer"])
    a.refresh_from_db()
    with pytest.raises(Forbidden):
        allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=True)


def test_work_accepted_before_promises_were_kept_gets_one_when_delayed(cluster: dict[str, Any]) -> None:
    a, who = accepted(cluster)
    Allocation.objects.filter(pk=a.pk).update(promised_week=None, accepted_at=None)
    a.refresh_from_db()
    before = a.week
    allocation_delay(actor=who, allocation=a, weeks=1, reason="原料延误")
    a.refresh_from_db()
    assert a.promised_week == before and a.week == before + dt.timedelta(weeks=1)
    with pytest.raises(ValidationFailed) as bad:  # still not before the order was placed
        allocation_progress(actor=who, allocation=a, data={"quantity_done": a.quantity, "delivered_on": "2001-01-01"})
    assert "delivered_on" in bad.value.errors


def test_a_late_replan_offers_no_work_in_weeks_gone_by(cluster: dict[str, Any]) -> None:
    from agglo.factory.models import Order
    from agglo.factory.weeks import monday

    buyer = cluster["people"]["buyer"]
    order = order_create(actor=buyer, data=order_data())
    this_week = monday(timezone.localdate())
    Order.objects.filter(pk=order.pk).update(start_week=this_week - dt.timedelta(weeks=3))
    order.refresh_from_db()
    order = order_plan(actor=buyer, order=order)
    offered = order.allocations.filter(status="offered")
    assert offered.exists() and all(a.week >= this_week for a in offered)


def test_a_delay_into_a_week_short_of_room_says_how_much_room_it_has(cluster: dict[str, Any]) -> None:
    from agglo.factory.models import CapacitySlot

    a, who = accepted(cluster)
    later = a.week + dt.timedelta(weeks=1)
    CapacitySlot.objects.update_or_create(
        capability=a.capability, week=later, defaults={"capacity": a.quantity - 1, "reserved": 0, "by_hand": True}
    )
    with pytest.raises(ValidationFailed) as bad, translation.override("en"):
        allocation_delay(actor=who, allocation=a, weeks=1, reason="原料延误")
    assert bad.value.errors["weeks"] == [
        f"Your calendar has {a.quantity - 1} {a.operation.process.unit_en} free in the week of {later.isoformat()}, "
        f"and this work needs {a.quantity} {a.operation.process.unit_en}: report a longer delay, make room in that "
        "week, or withdraw."
    ]
    a.refresh_from_db()
    assert a.week == later - dt.timedelta(weeks=1) and a.status == "accepted"


def test_a_scorecard_counts_each_processs_units_apart(cluster: dict[str, Any]) -> None:
    from django.test import Client

    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk)))
    cnc = order.allocations.filter(operation__process_id="cnc").first()
    surface = order.allocations.filter(operation__process_id="surface").first()
    today = timezone.localdate()
    for a, done in ((cnc, 130), (surface, 300)):
        Allocation.objects.filter(pk=a.pk).update(
            factory=cluster["orgs"]["su"], status="delivered", quantity_done=done, delivered_on=today, defects=3
        )
    c = Client()
    c.force_login(buyer)
    c.cookies["django_language"] = "en"
    row = c.get("/factory/scorecards/").content.decode().split("su Factory")[1].split("</tr>")[0]
    assert "130 machine-hours · 300 square metres" in row and "430" not in row
    # machine-hours and square metres do not add up: the rate is the defective share of the delivered value
    value = 130 * cnc.unit_cost + 300 * surface.unit_cost
    rate = 100 * 3 * (cnc.unit_cost + surface.unit_cost) / value
    assert f"{rate:.1f}% <span" in row and "(3 / 130 machine-hours · 3 / 300 square metres)" in row
    assert f"{rate:.1f}" != f"{100 * 6 / 430:.1f}"  # what adding the units up gave
    card = scorecards([cluster["orgs"]["su"].pk])[cluster["orgs"]["su"].pk]
    assert card.defect_rate == pytest.approx(float(rate) / 100)


def test_work_withdrawn_after_acceptance_is_on_the_record_as_not_on_time(cluster: dict[str, Any]) -> None:
    from django.test import Client

    from agglo.factory.risk import failure_risk
    from tests.factory.conftest import accepted_offer

    buyer = cluster["people"]["buyer"]
    a, who = accepted_offer(cluster)
    assert a.factory_id not in scorecards([a.factory_id])  # accepted work is not on record yet
    allocation_withdraw(actor=who, allocation=a, reason="设备故障")
    card = scorecards([a.factory_id])[a.factory_id]
    assert (card.jobs, card.withdrawn, card.delivered, card.on_time, card.units) == (1, 1, 0, 0, 0)
    assert card.on_time_rate == 0 and card.defect_rate is None
    assert card.risk == failure_risk(None, 1, 0.0, None) > failure_risk(None, 0, None, None)
    c = Client()
    c.force_login(buyer)
    c.cookies["django_language"] = "en"
    row = next(r for r in c.get("/api/v1/factory/scorecards").json() if r["organization_id"] == a.factory_id)
    assert (row["jobs"], row["withdrawn"], row["taken"], row["on_time_rate"]) == (1, 1, 0, 0.0)
    page = c.get("/factory/scorecards/").content.decode()
    # delivered 0, withdrawn 1, re-planned without it after a delay 0, on time 0 %
    cells = "</td>".join(f'<td data-label="[^"]*">{v}' for v in ("0", "1", "0", "0% <span"))
    assert re.search(cells, page) and "(0 / 1)</span>" in page
    assert (
        "<dt>Withdrawn</dt><dd>Work the factory accepted and then withdrew.</dd>" in page
    )  # the short heading's meaning


def test_a_reason_too_long_is_refused_by_name_wherever_it_is_given(cluster: dict[str, Any]) -> None:
    a, who = accepted(cluster)
    for report in (
        lambda: allocation_delay(actor=who, allocation=a, weeks=1, reason="延" * 501),
        lambda: allocation_withdraw(actor=who, allocation=a, reason="撤" * 501),
    ):
        with pytest.raises(ValidationFailed) as refused:
            report()
        assert "reason" in refused.value.errors
    a.refresh_from_db()
    assert a.status == "accepted" and a.note == "" and a.promised_week == a.week
    allocation_delay(actor=who, allocation=a, weeks=1, reason="延" * 500)  # the limit itself is allowed
    a.refresh_from_db()
    assert a.note == "延" * 500


def test_work_a_member_made_for_its_own_order_is_not_on_its_scorecard(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.capacity import capability_save

    buyer, org = cluster["people"]["buyer"], cluster["orgs"]["buyer"]
    capability_save(
        actor=buyer,
        organization_id=org.pk,
        data={"process": "cnc", "weekly_capacity": 1000, "unit_cost": "0.01", "min_lot": 1},
    )
    order = order_plan(
        actor=buyer,
        order=order_create(actor=buyer, data=order_data(quantity=10, operations=[{"process": "cnc", "quantity": 10}])),
    )
    a = order.allocations.get(status="offered")
    assert a.factory_id == org.pk  # its own factory is the cheapest
    allocation_respond(actor=buyer, allocation=a, action="accept")
    today = timezone.localdate().isoformat()
    allocation_progress(actor=buyer, allocation=a, data={"quantity_done": 10, "delivered_on": today})
    assert org.pk not in scorecards([org.pk])  # self-reported and unchecked: no record that lowers its risk
