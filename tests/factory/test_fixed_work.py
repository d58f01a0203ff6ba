"""Work delivered or under way stays where it is through every re-plan; closed orders are never re-planned."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from dataclasses import replace
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from agglo.common.errors import ValidationFailed
from agglo.common.numbers import grouped
from agglo.factory import allocation as core
from agglo.factory.greedy import greedy_plan
from agglo.factory.lns import Neighbourhood, improve
from agglo.factory.models import Allocation, Capability, Order
from agglo.factory.selectors.planning import capability_key, first_open_day, order_problem
from agglo.factory.services.amend import order_amend
from agglo.factory.services.disputes import dispute_answer
from agglo.factory.services.execution import allocation_delay, allocation_progress, allocation_receipt
from agglo.factory.services.orders import order_create
from agglo.factory.services.replan import _apply, replan
from agglo.factory.solver import solve
from agglo.factory.synthetic import synthetic_case
from agglo.factory.weeks import index_of
from tests.factory.conftest import order_data, signed_in
from tests.factory.test_amend import confirmed
from tests.factory.test_plan_flow import planned

pytestmark = [pytest.mark.long, pytest.mark.django_db]


def owner_of(cluster: dict[str, Any], allocation: Allocation) -> Any:
    name = next(n for n, o in cluster["orgs"].items() if o.pk == allocation.factory_id)
    return cluster["people"][name]


def covered(order: Order) -> dict[int, int]:
    """Units of each step that the plan holds: offered, accepted or delivered."""
    units: dict[int, int] = defaultdict(int)
    live = order.allocations.filter(status__in=["offered", "accepted", "delivered"]).select_related("operation")
    for a in live:
        units[a.operation.seq] += a.quantity
    return dict(units)


def test_the_solver_keeps_fixed_work_even_where_its_factory_no_longer_qualifies() -> None:
    caps = (
        core.Capability("old", "f1", "cnc", (10, 10, 10, 10), 9, quality=1, region="440300"),
        core.Capability("new", "f2", "cnc", (20, 20, 20, 20), 1, quality=3, region="440300"),
    )
    op = core.Operation("1", "o", "cnc", 30, min_quality=2)  # "old" is below the grade now asked for
    fixed = (core.Placement("1", "old", 0, 6),)
    problem = core.AllocationProblem(4, (op,), caps, (core.OrderTerms("o", 3, 0),), fixed=fixed)
    result = solve(problem, time_limit=5)
    assert result.status == "optimal"
    assert core.Placement("1", "old", 0, 6) in result.placements
    costs, errors = core.evaluate(problem, result.placements)
    assert errors == [] and costs.production == 6 * 9 + 24 * 1
    # a plan that drops the fixed work is reported, not silently accepted
    moved = (core.Placement("1", "new", 0, 20), core.Placement("1", "new", 1, 10))
    assert any("fixed work" in e for e in core.evaluate(problem, moved)[1])


def test_a_factory_that_may_no_longer_serve_keeps_its_fixed_work_and_takes_no_more() -> None:
    # "gone" declined the rest of the step after starting 6 units, below its minimum lot, in a week past its
    # calendar: it keeps exactly those 6, though it is the cheapest
    caps = (
        core.Capability("gone", "f1", "cnc", (40, 40), 1, min_lot=50, region="440300"),
        core.Capability("other", "f2", "cnc", (40, 40, 40, 40), 5, region="440300"),
    )
    op = core.Operation("1", "o", "cnc", 30, declined_by=frozenset({"gone"}))
    fixed = (core.Placement("1", "gone", 3, 6),)
    problem = core.AllocationProblem(4, (op,), caps, (core.OrderTerms("o", 3, 0),), fixed=fixed)
    result = solve(problem, time_limit=5)
    assert result.status == "optimal"
    assert [p for p in result.placements if p.capability == "gone"] == [core.Placement("1", "gone", 3, 6)]
    assert core.evaluate(problem, result.placements)[1] == []
    more = (core.Placement("1", "gone", 3, 10), core.Placement("1", "other", 0, 20))
    assert any("may not serve" in e for e in core.evaluate(problem, more)[1])


def test_new_work_follows_a_late_predecessor_while_started_later_work_stays() -> None:
    caps = (
        core.Capability("a", "f1", "cnc", (50,) * 6, 1, region="440300"),
        core.Capability("b", "f2", "surface", (50,) * 6, 1, region="440300"),
    )
    ops = (core.Operation("1", "o", "cnc", 40), core.Operation("2", "o", "surface", 40, after=("1",)))
    # step 2 started 10 units in week 1 (from parts already there); step 1's remaining work runs in week 3
    fixed = (core.Placement("2", "b", 1, 10), core.Placement("1", "a", 3, 40))
    problem = core.AllocationProblem(6, ops, caps, (core.OrderTerms("o", 5, 100),), fixed=fixed)
    result = solve(problem, time_limit=5)
    assert result.status == "optimal", result.status
    assert core.evaluate(problem, result.placements)[1] == []
    new_step_two = [p for p in result.placements if p.operation == "2" and p.week != 1]
    assert new_step_two and min(p.week for p in new_step_two) >= 4


def test_a_factory_that_reported_a_delay_takes_no_earlier_work_on_the_step() -> None:
    caps = (
        core.Capability("late", "f1", "cnc", (50,) * 5, 1, region="440300"),
        core.Capability("dear", "f2", "cnc", (50,) * 5, 9, region="440300"),
    )
    op = core.Operation("1", "o", "cnc", 60, not_before=(("late", 3),))
    problem = core.AllocationProblem(5, (op,), caps, (core.OrderTerms("o", 4, 0),))
    result = solve(problem, time_limit=5)
    assert result.status == "optimal"
    assert all(p.week >= 3 for p in result.placements if p.capability == "late")
    assert any("outside its weeks" in e for e in core.evaluate(problem, [core.Placement("1", "late", 0, 60)])[1])


def test_the_search_still_improves_plans_holding_fixed_work() -> None:
    case = synthetic_case(operations=120, factories=40, seed=3, capacity_ratio=4.0)
    start = greedy_plan(case.problem)
    problem = replace(case.problem, fixed=tuple(start[:5]))
    before = core.evaluate(problem, start)[0].total
    # a step count, not a wall-clock budget: each call of the clock is one round of steps (nine here), so that a
    # loaded machine gives every step its full second rather than fewer steps (one run found none in time)
    rounds = itertools.count()
    step = Neighbourhood(seconds=1.0)
    result = improve(problem, start, time_limit=11.3, phases=(step,), seed=1, clock=lambda: float(next(rounds)))
    assert result.steps >= 9
    assert core.evaluate(problem, result.placements)[1] == []
    assert result.improved > 0 and result.cost < before


def test_a_delay_of_earlier_work_keeps_later_work_under_way(cluster: dict[str, Any], monkeypatch: Any) -> None:
    order = confirmed(cluster)
    later = order.allocations.filter(status="accepted", operation__seq=2).first()
    early = order.allocations.filter(status="accepted", operation__seq=1).order_by("-week").first()
    assert later is not None and early is not None
    # started (set up, nothing made: its parts have not arrived, so nothing can be reported done yet)
    with pytest.raises(ValidationFailed) as refused:
        allocation_progress(actor=owner_of(cluster, later), allocation=later, data={"quantity_done": 5})
    assert "0 / 600" in str(refused.value.errors["quantity_done"]) or "0 of 600" in str(refused.value.errors)
    # set up in its own week (not weeks ahead: review 32)
    with monkeypatch.context() as m:
        m.setattr(timezone, "localdate", lambda *args: later.week)
        allocation_progress(actor=owner_of(cluster, later), allocation=later, data={"started": True})
    allocation_delay(actor=owner_of(cluster, early), allocation=early, weeks=2, reason="设备故障")
    order.refresh_from_db()
    later.refresh_from_db()
    early.refresh_from_db()
    assert order.status in ("planned", "confirmed"), order.diagnosis
    assert later.status == "accepted" and later.started
    assert covered(order) == {1: 600, 2: 600, 3: 600}
    # the late factory is not offered its step again in the weeks it said it cannot make
    sooner = order.allocations.filter(capability=early.capability, operation=early.operation, week__lt=early.week)
    assert not sooner.filter(status="offered").exists()


def test_a_replan_neither_reoffers_delivered_work_nor_drops_it(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    first = list(order.allocations.filter(status="accepted", operation__seq=1))
    for a in first:
        allocation_progress(
            actor=owner_of(cluster, a),
            allocation=a,
            data={"quantity_done": a.quantity, "delivered_on": timezone.localdate().isoformat()},
        )
    # the factories that delivered step 1 stop offering the process at their old price, so that moving the work
    # would look cheaper than keeping it: the re-plan must still count it where it was made
    Capability.objects.filter(pk__in={a.capability_id for a in first}).update(active=False, unit_cost=90000)
    order_amend(
        actor=cluster["people"]["buyer"],
        order=order,
        data={"due_week": (order.due_week + dt.timedelta(weeks=1)).isoformat()},
    )
    order.refresh_from_db()
    assert order.status in ("planned", "confirmed"), order.diagnosis
    assert covered(order) == {1: 600, 2: 600, 3: 600}
    assert set(Allocation.objects.filter(pk__in=[a.pk for a in first]).values_list("status", flat=True)) == {
        "delivered"
    }
    assert not order.allocations.filter(operation__seq=1, status="offered").exists()


def test_started_work_is_not_superseded_when_its_factory_leaves_the_process(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    a = order.allocations.filter(status="accepted", operation__seq=1).first()
    assert a is not None
    allocation_progress(actor=owner_of(cluster, a), allocation=a, data={"quantity_done": 10})
    Capability.objects.filter(pk=a.capability_id).update(active=False, unit_cost=90000)
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"late_penalty": "3000"})
    a.refresh_from_db()
    order.refresh_from_db()
    assert a.status == "accepted" and a.quantity_done == 10
    assert covered(order) == {1: 600, 2: 600, 3: 600}
    # and no new work goes to the capability that left the process
    assert not order.allocations.filter(capability_id=a.capability_id, status="offered").exists()


def test_terms_below_work_under_way_are_refused(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster, max_share="1")
    step = order.allocations.filter(status="accepted", operation__seq=1).order_by("-quantity").first()
    assert step is not None
    allocation_progress(actor=owner_of(cluster, step), allocation=step, data={"started": True})
    before = Order.objects.values().get(pk=order.pk)
    share = max(10, (100 * (step.quantity - 1)) // 600)  # in hundredths: just below the started work
    assert share * 6 < step.quantity
    with pytest.raises(ValidationFailed) as low:
        order_amend(actor=cluster["people"]["buyer"], order=order, data={"max_share": f"0.{share:02d}"})
    assert "max_share" in low.value.errors
    spent = step.unit_cost * step.quantity
    with pytest.raises(ValidationFailed) as poor:
        order_amend(actor=cluster["people"]["buyer"], order=order, data={"budget": str(spent - 1)})
    assert "budget" in poor.value.errors
    assert grouped(spent) in poor.value.errors["budget"][0]  # "2,674", as the pages write amounts
    assert Order.objects.values().get(pk=order.pk) == before


def test_two_factories_started_on_one_step_keep_the_supplier_limit_at_two(cluster: dict[str, Any]) -> None:
    today = first_open_day()  # the first week that takes new work
    route = [{"process": "cnc", "quantity": 500}]
    order = confirmed(
        cluster,
        quantity=500,
        operations=route,
        due_week=today.isoformat(),
        late_penalty="100000",
    )
    rows = list(order.allocations.filter(status="accepted"))
    assert len({a.factory_id for a in rows}) == 2  # 500 in one week needs both cnc shops
    for a in rows:
        allocation_progress(actor=owner_of(cluster, a), allocation=a, data={"started": True})
    with pytest.raises(ValidationFailed) as few:
        order_amend(actor=cluster["people"]["buyer"], order=order, data={"max_suppliers": 1})
    assert "max_suppliers" in few.value.errors
    assert Order.objects.get(pk=order.pk).max_suppliers == 2


def test_a_closed_order_is_never_replanned(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    version = order.plan_version
    # expired offers of an order cancelled meanwhile (the cancellation won the race for the order's lock)
    order.allocations.update(respond_by=timezone.now() - dt.timedelta(minutes=1))
    Order.objects.filter(pk=order.pk).update(status="cancelled")
    call_command("expire_offers")
    order.refresh_from_db()
    assert order.status == "cancelled" and order.plan_version == version
    assert not order.allocations.filter(status="expired").exists()
    again = replan(order, actor=None, reason="test")
    assert again.status == "cancelled" and again.plan_version == version


def test_patch_refuses_fields_it_does_not_take(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    r = buyer.patch(
        f"/api/v1/factory/orders/{order.pk}", {"product": "别的", "late_penalty": "1"}, content_type="application/json"
    )
    assert r.status_code == 422
    assert r.json()["errors"]["product"] == ["此请求不接受该字段。"]
    order.refresh_from_db()
    assert order.quantity == 600 and order.late_penalty == 2000


def test_amending_a_draft_or_infeasible_order(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    draft = order_create(actor=buyer, data=order_data())
    order_amend(actor=buyer, order=draft, data={"max_suppliers": 1})
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.max_suppliers == 1 and draft.plan_version == 0
    today = first_open_day()  # the first week that takes new work
    tight = planned(cluster, due_week=today.isoformat(), budget="1000")
    assert tight.status == "infeasible"
    order_amend(actor=buyer, order=tight, data={"budget": ""})
    tight.refresh_from_db()
    assert tight.status == "planned" and tight.budget is None


def test_another_factory_of_the_order_cannot_read_a_dispute(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    a = order.allocations.filter(status="accepted").first()
    assert a is not None
    maker = owner_of(cluster, a)
    allocation_progress(
        actor=maker,
        allocation=a,
        data={"quantity_done": a.quantity, "delivered_on": timezone.localdate().isoformat()},
    )
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=False, note="尺寸超差")
    dispute_answer(actor=maker, allocation=a, reply="已安排复检")
    other = next(
        p
        for n, p in cluster["people"].items()
        if n != "buyer"
        and cluster["orgs"][n].pk != a.factory_id
        and order.allocations.filter(factory=cluster["orgs"][n]).exists()
    )
    body = signed_in(other).get(f"/api/v1/factory/orders/{order.pk}/allocations").content.decode()
    assert "尺寸超差" not in body and "已安排复检" not in body
    page = signed_in(other).get(f"/factory/orders/{order.pk}/").content.decode()
    assert "尺寸超差" not in page and "已安排复检" not in page
    mine = signed_in(maker).get(f"/api/v1/factory/orders/{order.pk}/allocations").json()
    assert any(row["dispute_reason"] == "尺寸超差" and row["dispute_reply"] == "已安排复检" for row in mine)


def test_where_a_plan_keeps_less_than_a_week_holds_the_started_part_is_what_stays(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    old = order.allocations.filter(status="accepted").order_by("id").first()
    assert old is not None and old.quantity > 40
    # the same factory, step and week hold two parts: an older one not begun and a newer one under way
    begun = Allocation.objects.get(pk=old.pk)
    begun.pk = None
    begun.quantity, begun.started = old.quantity - 20, True
    begun.save()
    Allocation.objects.filter(pk=old.pk).update(quantity=20)
    problem = order_problem(order)
    week = index_of(order.start_week, old.week)
    here = (str(old.operation.seq), capability_key(old.capability_id), week)
    # a plan that keeps only as much there as is under way, and everything else as it is
    kept = [p for p in problem.previous if (p.operation, p.capability, p.week) != here]
    plan = (*kept, core.Placement(*here, begun.quantity))
    _apply(order, problem, plan, actor=None, reason="plan")
    begun.refresh_from_db()
    assert begun.status == "accepted"
    assert Allocation.objects.get(pk=old.pk).status == "superseded"
    assert not order.allocations.filter(status="offered").exists()


def test_a_factory_whose_accepted_part_moves_to_another_week_is_told_where_it_went(cluster: dict[str, Any]) -> None:
    from agglo.common.models import LanguagePreference, Notification

    order = confirmed(cluster)
    old = order.allocations.filter(status="accepted").order_by("id").first()
    LanguagePreference.objects.create(user=owner_of(cluster, old), language="en")
    problem = order_problem(order)
    week = index_of(order.start_week, old.week)
    here = (str(old.operation.seq), capability_key(old.capability_id), week)
    # a plan that puts the same part with the same factory a week later, and everything else as it is
    kept = [p for p in problem.previous if (p.operation, p.capability, p.week) != here]
    plan = (*kept, core.Placement(here[0], here[1], week + 1, old.quantity))
    _apply(order, problem, plan, actor=None, reason="amended")
    told = Notification.objects.filter(user=owner_of(cluster, old), verb="factory.superseded").get().text
    later = (old.week + dt.timedelta(weeks=1)).isoformat()
    unit = old.operation.process.unit_en
    assert f"({old.quantity} {unit} in the week of {old.week.isoformat()}) moves" in told
    assert f"the new plan offers you {old.quantity} {unit} in the week of {later} instead" in told
    assert "no longer needed" not in told and told.endswith(
        "The buyer changed the order's due week, quantities or terms."
    )


def test_a_factory_with_two_parts_moved_in_one_replan_hears_it_once(cluster: dict[str, Any]) -> None:
    from agglo.common.models import Notification

    order = confirmed(cluster)
    old = order.allocations.filter(status="accepted").order_by("id").first()
    twin = Allocation.objects.get(pk=old.pk)
    twin.pk, twin.week, twin.quantity = None, old.week + dt.timedelta(weeks=1), 10
    twin.save()
    problem = order_problem(order)
    step, cap = str(old.operation.seq), capability_key(old.capability_id)
    week = index_of(order.start_week, old.week)
    # a plan that puts both parts together two weeks later with the same factory, everything else as it is
    kept = [p for p in problem.previous if (p.operation, p.capability) != (step, cap)]
    plan = (*kept, core.Placement(step, cap, week + 2, old.quantity + 10))
    offered = Notification.objects.filter(user=owner_of(cluster, old), verb="factory.offered")
    before = offered.count()
    _apply(order, problem, plan, actor=None, reason="plan")
    told = Notification.objects.filter(user=owner_of(cluster, old), verb="factory.superseded")
    assert told.count() == 1
    text = told.get().text
    # each week's part named with its quantity (it read "310 in the week of W1, W2")
    unit = old.operation.process.unit_zh
    weeks: dict[dt.date, int] = defaultdict(int)
    for a in order.allocations.filter(status="superseded", operation=old.operation, capability=old.capability):
        weeks[a.week] += a.quantity
    assert len(weeks) == 2
    listed = "；".join(f"{w.isoformat()} 这一周的 {n} {unit}" for w, n in sorted(weeks.items()))
    assert f"（{listed}）有所调整" in text
    assert f"{(old.week + dt.timedelta(weeks=2)).isoformat()} 这一周的 {old.quantity + 10} {unit}" in text
    assert offered.count() == before  # the moved notice names the new offer: no second notice


def test_the_hint_is_the_plan_when_the_time_runs_out_before_cp_sat_finds_one() -> None:
    """Review 49 (a11y/perf) F3: at 5,000 members a demo order's model took the whole 5 s limit to load, and the
    order was refused although the greedy's valid plan was in hand. A valid hint is now the plan found."""
    case = synthetic_case(operations=400, factories=80, seed=3, capacity_ratio=4.0).problem
    hint = greedy_plan(case)
    result = solve(case, time_limit=0.05, hint=hint, workers=1)
    assert result.status == "feasible" and result.first_feasible_s is None  # CP-SAT found none of its own
    costs, errors = core.evaluate(case, result.placements)
    assert errors == [] and result.objective == costs.total == core.evaluate(case, hint)[0].total
    assert result.bound is None or result.bound <= result.objective
    broken = [*hint[1:]]  # a hint that breaks a rule (an operation short) is no plan
    assert solve(case, time_limit=0.05, hint=broken, workers=1).placements == ()
