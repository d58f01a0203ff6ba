"""What a second walk through the factory pages found: each case as a user met it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agglo.common.errors import ValidationFailed
from agglo.common.language import language_remember
from agglo.common.models import Notification
from agglo.factory.models import CapacitySlot, Order
from agglo.factory.services.execution import allocation_progress
from agglo.factory.services.jobs import allocation_respond, counter_decide
from agglo.factory.services.orders import order_cancel, order_create, order_plan
from tests.factory.conftest import order_data, signed_in
from tests.factory.test_execution import accepted, delivered
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _owner(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


def test_the_buyer_hears_of_a_delivery_and_an_empty_report_is_refused(cluster: dict[str, Any]) -> None:
    a, who = accepted(cluster)
    with pytest.raises(ValidationFailed) as empty:
        allocation_progress(actor=who, allocation=a, data={})
    assert "quantity_done" in empty.value.errors
    language_remember(cluster["people"]["buyer"], "en")
    a, _ = delivered(cluster)
    told = Notification.objects.filter(user=cluster["people"]["buyer"], verb="factory.answer").latest("id")
    unit = a.operation.process.unit_en
    assert f" delivered {a.quantity} {unit} of step {a.operation.seq} for order " in told.text
    assert "confirm receipt or dispute it" in told.text
    language_remember(cluster["people"]["buyer"], "zh-hans")
    a, _ = delivered(cluster)
    told = Notification.objects.filter(user=cluster["people"]["buyer"], verb="factory.answer").latest("id")
    assert f" {a.quantity} {a.operation.process.unit_zh}：" in told.text and "件" not in told.text.replace("工件", "")
    assert told.link == f"/factory/orders/{a.order_id}/"


def test_a_counter_offer_must_fit_the_factorys_free_week(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    a = order.allocations.filter(status="offered", quantity__gte=4).select_related("capability").first()
    capacity = a.capability.weekly_capacity
    CapacitySlot.objects.update_or_create(
        capability=a.capability, week=a.week, defaults={"capacity": capacity, "reserved": capacity - 1}
    )
    with pytest.raises(ValidationFailed) as full:
        allocation_respond(actor=_owner(cluster, a.factory_id), allocation=a, action="counter", quantity=2)
    assert "quantity" in full.value.errors and "1" in full.value.errors["quantity"][0]
    a.refresh_from_db()
    assert a.status == "offered"


def test_a_share_cap_the_supplier_limit_can_never_cover_is_refused(cluster: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as bad:
        order_create(actor=cluster["people"]["buyer"], data=order_data(max_share="0.1", max_suppliers=3))
    assert "max_share" in bad.value.errors
    assert not Order.objects.exists()


def test_a_budget_below_the_cheapest_plan_is_named_as_the_reason(cluster: dict[str, Any]) -> None:
    from agglo.factory.allocation import ineligibility
    from agglo.factory.selectors.planning import order_problem

    buyer = cluster["people"]["buyer"]
    draft = order_create(actor=buyer, data=order_data())
    problem = order_problem(draft)
    floor = 0.0  # the cheap check's floor: each step's cheapest units and its cheapest setup
    for op in problem.operations:
        able = [c for c in problem.capabilities if ineligibility(op, c) is None]
        floor += op.quantity * min(c.unit_cost for c in able) + min(c.setup_cost for c in able)
    # just above that floor, the cheap check passes, yet no plan fits: the reason must still be the budget
    tight = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data(budget=f"{floor + 1:.2f}")))
    assert tight.status == "infeasible"
    assert [d["rule"] for d in tight.diagnosis] == ["budget_plan"], tight.diagnosis


def test_a_plan_past_the_due_week_says_so_and_an_on_time_one_does_not(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    today = dt.date.today()
    late = planned(cluster, due_week=(today + dt.timedelta(weeks=1)).isoformat(), late_penalty="0")
    page = signed_in(buyer).get(f"/factory/orders/{late.pk}/").content.decode()
    assert 'id="finishes-late"' in page
    roomy = (today + dt.timedelta(weeks=10)).isoformat()
    on_time = planned(cluster, due_week=roomy)  # lateness costs 2,000 a week: the plan keeps the due week
    assert 'id="finishes-late"' not in signed_in(buyer).get(f"/factory/orders/{on_time.pk}/").content.decode()


def test_job_board_keeps_open_counters_apart_and_names_cancelled_orders(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    order = planned(cluster)
    a = order.allocations.filter(status="offered", quantity__gte=4).first()
    factory = _owner(cluster, a.factory_id)
    allocation_respond(actor=factory, allocation=a, action="counter", quantity=a.quantity // 2)
    board = signed_in(factory).get("/factory/jobs/").content.decode()
    assert 'id="countered"' in board and f'data-allocation="{a.pk}"' in board.split('id="countered"')[1]
    counter_decide(actor=buyer, allocation=a, accept=False)
    order.refresh_from_db()
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()
    assert f"买方拒绝了 {a.quantity // 2} {a.operation.process.unit_zh}的还价" in page
    kept = order.allocations.filter(status="offered").first()
    allocation_respond(actor=_owner(cluster, kept.factory_id), allocation=kept, action="accept")
    order_cancel(actor=buyer, order=order, reason="不再需要")
    # accepted work of a cancelled order is named so; offers never answered leave the board (the factory was told)
    board = signed_in(_owner(cluster, kept.factory_id)).get("/factory/jobs/").content.decode()
    assert "已接受，因订单取消而作废" in board.split('id="earlier"')[1]
    assert 'id="plan-stats"' not in signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()


def test_the_objective_shown_is_the_sum_of_the_costs_shown(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    stats = order.plan_stats
    assert stats["objective"] == sum(stats["costs"].values())
    assert stats["gap_pct"] >= 0
