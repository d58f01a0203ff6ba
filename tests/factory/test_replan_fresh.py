"""A re-plan reads the order under its lock: a copy read before another change committed plans nothing old."""

from __future__ import annotations

from typing import Any

import pytest

from agglo.factory.models import Allocation, Order
from agglo.factory.services.amend import order_amend
from agglo.factory.services.orders import order_plan
from tests.factory.conftest import signed_in
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def test_plan_again_with_a_copy_read_before_an_amendment_keeps_the_amended_terms(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    order = planned(cluster)
    cd = cluster["orgs"]["cd"]
    assert order.allocations.filter(status="offered", factory=cd).exists()
    stale = Order.objects.get(pk=order.pk)  # what a second request read while the amendment was being planned
    amended = order_amend(actor=buyer, order=order, data={"regions_excluded": [cd.area_id[:2] + "0000"]})
    assert amended.regions_excluded == ["510000"] and amended.plan_version == stale.plan_version + 1
    assert not amended.allocations.filter(status="offered", factory=cd).exists()
    again = order_plan(actor=buyer, order=stale)
    assert again.plan_version == amended.plan_version + 1 and again.regions_excluded == ["510000"]
    assert not again.allocations.filter(status="offered", factory=cd).exists()
    assert Order.objects.get(pk=order.pk).plan_version == again.plan_version


def timed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver finds no plan within its time and proves nothing (CP-SAT's UNKNOWN)."""
    from agglo.factory.services import replan as replan_services
    from agglo.factory.solver import AllocationResult

    monkeypatch.setattr(replan_services, "solve", lambda *a, **k: AllocationResult("unknown", (), None, None, 5.0))


def test_a_timed_out_plan_the_buyer_asked_for_changes_nothing(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agglo.common.errors import ValidationFailed

    buyer = cluster["people"]["buyer"]
    order = planned(cluster)
    offers = set(order.allocations.filter(status="offered").values_list("pk", flat=True))
    timed_out(monkeypatch)
    with pytest.raises(ValidationFailed) as refused:
        order_plan(actor=buyer, order=order)
    assert "nothing was changed" in str(refused.value.errors["plan"][0]) or "未作任何改动" in str(
        refused.value.errors["plan"][0]
    )
    # an amendment is refused whole too: its terms are not saved without a plan for them
    with pytest.raises(ValidationFailed):
        order_amend(actor=buyer, order=order, data={"max_suppliers": 1})
    after = Order.objects.get(pk=order.pk)
    assert (after.status, after.plan_version, after.max_suppliers) == (
        "planned",
        order.plan_version,
        order.max_suppliers,
    )
    assert set(after.allocations.filter(status="offered").values_list("pk", flat=True)) == offers
    r = signed_in(buyer).post(f"/factory/orders/{order.pk}/plan/", follow=True)
    assert "方案：求解器在时限" in r.content.decode() and r.status_code == 200 and "plan:" not in r.content.decode()
    terms = {"due_week": order.due_week.isoformat(), "max_suppliers": "1", "max_share": "", "budget": ""}
    r = signed_in(buyer).post(f"/factory/orders/{order.pk}/terms/", terms | {"late_penalty": "1"}, follow=True)
    assert "方案：求解器在时限" in r.content.decode() and Order.objects.get(pk=order.pk).max_suppliers != 1
    r = signed_in(buyer).post(f"/api/v1/factory/orders/{order.pk}/plan")
    assert r.status_code == 422 and "plan" in r.json()["errors"]


def test_a_timed_out_repair_after_a_decline_keeps_the_plan_and_says_so(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agglo.common.models import Notification
    from agglo.factory.services.jobs import allocation_respond

    buyer = cluster["people"]["buyer"]
    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered"))
    declined, others = offers[0], {a.pk for a in offers[1:]}
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == declined.factory_id)
    timed_out(monkeypatch)
    allocation_respond(actor=who, allocation=declined, action="decline", note="满了")
    declined.refresh_from_db()
    after = Order.objects.get(pk=order.pk)
    assert declined.status == "declined" and after.status == "planned" and after.plan_stats["unsolved"] == "declined"
    assert set(after.allocations.filter(status="offered").values_list("pk", flat=True)) == others
    told = Notification.objects.filter(user=buyer).order_by("-id").first()
    assert told is not None and "在时限内未找到" in told.text
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()
    assert 'id="unsolved"' in page
    # the others accept all they were offered: the declined part is a gap, so the order is not confirmed
    for a in Allocation.objects.filter(pk__in=others):
        owner = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
        allocation_respond(actor=owner, allocation=a, action="accept")
    assert Order.objects.get(pk=order.pk).status == "planned"
    monkeypatch.undo()
    again = order_plan(actor=buyer, order=after)
    assert "unsolved" not in again.plan_stats and again.status == "planned"


def test_a_factory_whose_open_offer_a_replan_splits_hears_which_offer_went(cluster: dict[str, Any]) -> None:
    from agglo.common.models import Notification
    from agglo.factory import allocation as core
    from agglo.factory.selectors.planning import capability_key, order_problem
    from agglo.factory.services.replan import _apply
    from agglo.factory.weeks import index_of

    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered").select_related("operation", "capability"))
    split = next(a for a in offers if a.quantity >= 2)
    placements = []
    for a in offers:
        w = index_of(order.start_week, a.week)
        key = (str(a.operation.seq), capability_key(a.capability_id))
        if a.pk == split.pk:  # the new plan makes one unit of it a week later
            placements += [core.Placement(*key, w, a.quantity - 1), core.Placement(*key, w + 1, 1)]
        else:
            placements.append(core.Placement(*key, w, a.quantity))
    _apply(order, order_problem(order), tuple(placements), actor=None, reason="plan", offers=offers)
    told = Notification.objects.filter(verb="factory.offered", user__memberships__organization=split.factory_id)
    text = told.order_by("-id").first().text
    assert "已由新的任务邀约取代" in text and f"{split.week.isoformat()} 当周 {split.quantity} " in text


def test_a_counter_offer_decision_stands_when_the_repair_after_it_times_out(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from agglo.factory.services.jobs import allocation_respond, counter_decide

    buyer = cluster["people"]["buyer"]
    order = planned(cluster)
    a = order.allocations.filter(status="offered", quantity__gte=2).first()
    owner = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    allocation_respond(actor=owner, allocation=a, action="counter", quantity=1)
    timed_out(monkeypatch)
    counter_decide(actor=buyer, allocation=Allocation.objects.get(pk=a.pk), accept=False)  # an answer to the factory
    a.refresh_from_db()
    assert a.status != "countered" and Order.objects.get(pk=order.pk).plan_stats["unsolved"] == "counter"


def test_an_order_too_large_for_the_solver_is_told_so_not_asked_to_try_again(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import translation

    from agglo.factory.services import replan as replan_services
    from agglo.factory.solver import AllocationResult
    from agglo.factory.wording import diagnosis_texts

    monkeypatch.setattr(replan_services, "solve", lambda *a, **k: AllocationResult("invalid", (), None, None, 0.1))
    order = planned(cluster)
    assert order.status == "infeasible"
    with translation.override("en"):
        assert diagnosis_texts(order) == [
            "The order: its quantities and prices are too large for the solver to count: split the order, or check "
            "the quantities."
        ]


def test_a_replan_wanting_more_of_an_open_offer_makes_one_offer_of_the_whole(cluster: dict[str, Any]) -> None:
    from agglo.factory import allocation as core
    from agglo.factory.selectors.planning import capability_key, order_problem
    from agglo.factory.services.replan import _apply
    from agglo.factory.weeks import index_of

    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered").select_related("operation", "capability"))
    grown = offers[0]
    placements = [
        core.Placement(
            str(a.operation.seq),
            capability_key(a.capability_id),
            index_of(order.start_week, a.week),
            a.quantity + (30 if a.pk == grown.pk else 0),
        )
        for a in offers
    ]
    _apply(order, order_problem(order), tuple(placements), actor=None, reason="plan", offers=offers)
    same = order.allocations.filter(
        status="offered", operation=grown.operation, capability=grown.capability, week=grown.week
    )
    assert list(same.values_list("quantity", flat=True)) == [grown.quantity + 30]  # not 200 and 30 beside it
    grown.refresh_from_db()
    assert grown.status == "superseded"
