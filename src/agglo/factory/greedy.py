"""The greedy allocator the solver is measured against, and whose plan it starts from. Pure: no Django.

What a careful planner does by hand: orders by due date; within an order, operations in route order; each
operation goes to the cheapest eligible capabilities (unit cost + expected failure cost + setup spread over the
quantity), filled from the earliest week the route and transport allow, adding suppliers up to the limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from agglo.factory.allocation import (
    AllocationProblem,
    Capability,
    Operation,
    Placement,
    candidates,
    max_share_units,
    risk_cents,
    static_windows,
    topological,
)
from agglo.factory.transport import transport_weeks, zone_of


class GreedyStuck(Exception):
    """The greedy allocator could not place an operation; the message names it."""


def greedy_plan(problem: AllocationProblem) -> list[Placement]:
    """A valid plan, or GreedyStuck. Ignores the newcomer share (it has no look-ahead to honour it).

    Each order is tried cheapest-first; if that runs out of weeks (transport between far suppliers adds up),
    the order is redone preferring the suppliers that can start earliest."""
    free = {c.key: list(c.capacity) for c in problem.capabilities}
    cands = candidates(problem)
    windows = static_windows(problem)
    ordered = topological(problem.operations)
    by_order: dict[str, list[Operation]] = {}
    for op in ordered:
        by_order.setdefault(op.order, []).append(op)
    due = {o.key: o.due_week for o in problem.orders}
    plan: list[Placement] = []
    for order in sorted(by_order, key=lambda k: (due.get(k, problem.weeks), k)):
        for time_first, zone in _attempts(by_order[order], cands):
            allowed = (
                cands
                if zone is None
                else {op.key: [c for c in cands[op.key] if zone_of(c.region) == zone] for op in by_order[order]}
            )
            placed = _plan_order(problem, by_order[order], allowed, windows, free, time_first)
            if placed is not None:
                break
        else:
            raise GreedyStuck(f"no room for order {order}")
        for p in placed:
            free[p.capability][p.week] -= p.quantity
        plan.extend(placed)
    return plan


def _attempts(ops: Sequence[Operation], cands: dict[str, list[Capability]]) -> list[tuple[bool, str | None]]:
    """Cheapest first; then earliest finish; then earliest finish inside one transport zone (no transport
    between steps), zones with the most eligible capacity first."""
    room: dict[str, int] = {}
    zones_per_op = []
    for op in ops:
        zones = {zone_of(c.region) for c in cands[op.key]}
        zones_per_op.append(zones)
        for c in cands[op.key]:
            room[zone_of(c.region)] = room.get(zone_of(c.region), 0) + sum(c.capacity)
    common = set.intersection(*zones_per_op) if zones_per_op else set()
    return [(False, None), (True, None), *((True, z) for z in sorted(common, key=lambda z: (-room[z], z)))]


def _plan_order(
    problem: AllocationProblem,
    ops: Sequence[Operation],
    cands: dict[str, list[Capability]],
    windows: dict[str, tuple[int, int]],
    free_before: dict[str, list[int]],
    time_first: bool,
) -> list[Placement] | None:
    keys = {c.key for op in ops for c in cands[op.key]}
    free = {k: list(free_before[k]) for k in keys}
    finish: dict[str, int] = {}
    used: dict[str, list[Capability]] = {}
    plan: list[Placement] = []
    for op in ops:

        def cost(c: Capability, op: Operation = op) -> float:
            return c.unit_cost + risk_cents(c, problem.risk_weight) / 100 + c.setup_cost / op.quantity

        if time_first:

            def alone(c: Capability, op: Operation = op) -> tuple[int, int]:
                # (weeks short of finishing alone or the finish week, units left): who would finish first
                first = _start(op, [c], finish, used)
                made = _fill(op, [c], free, first, windows[op.key][1], op.quantity, True)[c.key]
                left = op.quantity - sum(made.values())
                return (max(made, default=problem.weeks) if left == 0 else problem.weeks, left)

            ranked = sorted(cands[op.key], key=lambda c: (*alone(c), cost(c), c.key))
        else:
            ranked = sorted(cands[op.key], key=lambda c: (cost(c), c.key))
        placed = _place(problem, op, ranked, free, finish, used, windows[op.key][1], time_first)
        if placed is None:
            return None
        chosen, placements = placed
        for p in placements:
            free[p.capability][p.week] -= p.quantity
        used[op.key] = chosen
        finish[op.key] = max(p.week for p in placements)
        plan.extend(placements)
    return plan


def _start(
    op: Operation, chosen: Sequence[Capability], finish: dict[str, int], used: dict[str, list[Capability]]
) -> int:
    start = max(c.lead_weeks for c in chosen)
    for before in op.after:
        lag = max(transport_weeks(b.region, c.region) for b in used[before] for c in chosen)
        start = max(start, finish[before] + 1 + lag)
    return start


def _place(
    problem: AllocationProblem,
    op: Operation,
    ranked: Sequence[Capability],
    free: dict[str, list[int]],
    finish: dict[str, int],
    used: dict[str, list[Capability]],
    last: int,
    week_major: bool,
) -> tuple[list[Capability], list[Placement]] | None:
    """Add suppliers in ranked order until the quantity fits: each fills its weeks in turn (cheapest first), or
    all fill week by week together (earliest finish)."""
    chosen: list[Capability] = []
    best: tuple[list[Capability], list[Placement]] | None = None
    cap = op.quantity if problem.max_share is None else max_share_units(problem.max_share, op.quantity)
    for candidate in ranked:
        if len(chosen) == op.max_suppliers:
            return best
        trial = [*chosen, candidate]
        start = _start(op, trial, finish, used)
        if start > last:
            continue
        made = _fill(op, trial, free, start, last, cap, week_major)
        keep = [c for c in trial if made.get(c.key) and sum(made[c.key].values()) >= _lot(op, c)]
        if candidate not in keep:
            continue
        chosen = keep
        if keep != trial:
            made = _fill(op, keep, free, start, last, cap, week_major)
        placed = sum(q for weeks in made.values() for q in weeks.values())
        if placed == op.quantity and all(sum(made[c.key].values()) >= _lot(op, c) for c in keep):
            plan = [Placement(op.key, c, w, q) for c, weeks in made.items() for w, q in sorted(weeks.items()) if q]
            if not week_major:
                return chosen, plan
            # Earliest finish: one more supplier may finish sooner, up to the limit.
            if best is None or max(p.week for p in plan) < max(p.week for p in best[1]):
                best = (list(chosen), plan)
    return best


def _lot(op: Operation, c: Capability) -> int:
    """The least a supplier makes of a step: its minimum lot, unless the step or its limit there is smaller."""
    return min(c.min_lot, op.quantity, op.most(c.key, op.quantity))


def _fill(
    op: Operation,
    suppliers: Sequence[Capability],
    free: dict[str, list[int]],
    start: int,
    last: int,
    cap: int,
    week_major: bool,
) -> dict[str, dict[int, int]]:
    left = op.quantity
    made: dict[str, dict[int, int]] = {c.key: {} for c in suppliers}
    slots = (
        [(w, c) for w in range(start, last + 1) for c in suppliers]
        if week_major
        else [(w, c) for c in suppliers for w in range(start, last + 1)]
    )
    for week, c in slots:
        if left == 0:
            break
        most = min(cap, op.most(c.key, cap))
        free_there = free[c.key][week] if week < len(free[c.key]) else 0
        room = min(left, op.most_in(c.key, week, free_there), most - sum(made[c.key].values()))
        if room > 0:
            made[c.key][week] = room
            left -= room
    return made
