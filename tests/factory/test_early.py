"""Bringing a plan's work forward: among plans of equal cost, the one with the work done earliest (review 56 L6)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from agglo.factory.allocation import AllocationProblem, Operation, OrderTerms, Placement, evaluate
from agglo.factory.early import forward
from agglo.factory.solver import solve
from agglo.factory.transport import transport_weeks
from tests.factory.test_allocation import cap, small_problems


def _route(capacity: tuple[int, ...] = (400,) * 8) -> AllocationProblem:
    return AllocationProblem(
        8,
        (Operation("1", "A", "cnc", 300), Operation("2", "A", "surface", 300, ("1",))),
        (
            replace(cap("sz.cnc", "cnc", 0, 20), capacity=capacity),
            cap("su.surface", "surface", 400, 4, "320500"),  # one zone away: a week of transport
        ),
        (OrderTerms("A", 7, 1000),),
    )


def test_work_in_the_due_week_comes_forward_and_its_successor_after_it() -> None:
    problem = _route()
    late = (Placement("1", "sz.cnc", 4, 300), Placement("2", "su.surface", 7, 300))
    lag = transport_weeks("440300", "320500")
    early = forward(problem, late)
    assert early == (Placement("1", "sz.cnc", 0, 300), Placement("2", "su.surface", 1 + lag, 300))
    assert evaluate(problem, early) == evaluate(problem, late)  # the same costs and no broken rule


def test_a_piece_moves_whole_to_the_first_week_with_room_and_not_before_the_first_open_week() -> None:
    problem = _route((100, 250, 400, 400, 400, 400, 400, 400))
    plan = (
        Placement("1", "sz.cnc", 5, 300),
        Placement("2", "su.surface", 7, 300),
    )
    assert forward(problem, plan)[0] == Placement("1", "sz.cnc", 2, 300)  # weeks 0 and 1 have too little room
    assert forward(problem, plan, first=3)[0] == Placement("1", "sz.cnc", 3, 300)
    # two pieces of one factory may come together in one week
    split = (Placement("1", "sz.cnc", 4, 100), Placement("1", "sz.cnc", 6, 200), plan[1])
    assert forward(_route(), split)[0] == Placement("1", "sz.cnc", 0, 300)


def test_work_accepted_on_offer_or_under_way_stays() -> None:
    plan = (Placement("1", "sz.cnc", 4, 300), Placement("2", "su.surface", 7, 300))
    for kept in ({"offered": plan}, {"previous": plan, "change_penalty": 50}, {"fixed": plan[:1]}):
        problem = replace(_route(), **kept)
        moved = forward(problem, plan)
        if "fixed" in kept:  # the next step may still come forward to the week after it
            assert moved[0] == plan[0] and moved[1].week < 7
        else:
            assert moved == plan


def test_a_factorys_lead_time_and_a_late_factorys_first_week_hold() -> None:
    problem = _route()
    problem = replace(
        problem,
        capabilities=(replace(problem.capabilities[0], lead_weeks=2), problem.capabilities[1]),
        operations=(replace(problem.operations[0], not_before=(("sz.cnc", 3),)), problem.operations[1]),
    )
    plan = (Placement("1", "sz.cnc", 6, 300), Placement("2", "su.surface", 7, 300))
    assert forward(problem, plan)[0] == Placement("1", "sz.cnc", 3, 300)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_problems())
def test_it_keeps_every_rule_and_cost_and_no_step_ends_later(p: AllocationProblem) -> None:
    result = solve(p, time_limit=5, workers=1)
    if not result.placements:
        return
    early = forward(p, result.placements)
    (costs, errors), (before, _errors) = evaluate(p, early), evaluate(p, result.placements)
    assert errors == [] and costs.total <= before.total  # less only if the solver's time ran out on a later plan
    assert (costs.production, costs.setup, costs.risk) == (before.production, before.setup, before.risk)
    assert sum(q.quantity for q in early) == sum(q.quantity for q in result.placements)
    for op in p.operations:
        ends = [max(x.week for x in plan if x.operation == op.key) for plan in (early, result.placements)]
        assert ends[0] <= ends[1]


@pytest.mark.django_db
def test_the_platform_plans_the_work_as_early_as_it_can_at_the_same_cost(cluster: dict[str, Any]) -> None:
    """Ten weeks to the due week and room in every one: the work is offered in the first, not in any week."""
    from tests.factory.test_plan_flow import planned

    order = planned(
        cluster,
        due_week=(dt.date.today() + dt.timedelta(weeks=10)).isoformat(),
        operations=[{"process": "surface", "quantity": 400}, {"process": "assembly", "quantity": 300, "after": [1]}],
    )
    rows = {a.operation.seq: a for a in order.allocations.filter(status="offered").select_related("operation")}
    assert rows[1].week == order.start_week
    assert rows[2].week == order.start_week + dt.timedelta(weeks=1)  # both Chengdu's: no transport
    assert rows[1].factory_id == rows[2].factory_id == cluster["orgs"]["cd"].pk
