"""Evening out a factory's weekly pieces of a step: no cost, week or rule changes, only smaller odd pieces."""

from __future__ import annotations

from dataclasses import replace

from agglo.factory.allocation import AllocationProblem, Operation, OrderTerms, Placement, evaluate
from agglo.factory.lots import evened
from tests.factory.test_allocation import cap


def _case(capacity: tuple[int, ...], **kw) -> AllocationProblem:
    c = replace(cap("F1.cnc", "cnc", 0, 10.0, min_lot=50), capacity=capacity)
    other = replace(cap("F2.cnc", "cnc", 0, 12.0, min_lot=50), capacity=(500,) * len(capacity))
    return AllocationProblem(
        len(capacity), (Operation("1", "A", "cnc", 100),), (c, other), (OrderTerms("A", 3, 10.0),), **kw
    )


def test_a_one_unit_piece_takes_units_from_the_largest_up_to_the_lot() -> None:
    problem = _case((99, 99, 99, 99))
    plan = (Placement("1", "F1.cnc", 0, 99), Placement("1", "F1.cnc", 1, 1))
    even = evened(problem, plan)
    assert even == (Placement("1", "F1.cnc", 0, 50), Placement("1", "F1.cnc", 1, 50))
    assert evaluate(problem, even) == evaluate(problem, plan)  # the same costs and no broken rule


def test_only_the_weeks_room_limits_it() -> None:
    problem = _case((99, 10, 99, 99))
    even = evened(problem, (Placement("1", "F1.cnc", 0, 99), Placement("1", "F1.cnc", 1, 1)))
    assert even == (Placement("1", "F1.cnc", 0, 90), Placement("1", "F1.cnc", 1, 10))


def test_accepted_work_and_other_factories_pieces_stay() -> None:
    plan = (Placement("1", "F1.cnc", 0, 99), Placement("1", "F1.cnc", 1, 1))
    accepted = _case((99, 99, 99, 99), previous=plan, change_penalty=50)
    assert evened(accepted, plan) == plan
    # one piece per factory: nothing to even
    alone = (Placement("1", "F1.cnc", 0, 99), Placement("1", "F2.cnc", 0, 1))
    assert evened(_case((99, 99, 99, 99)), alone) == alone
