"""Even out a plan's weekly pieces at one factory. Pure: no Django.

The solver counts a factory's minimum lot against its whole share of a step, so a share it makes over two weeks
may come out as 99 + 1: the same cost as 50 + 50, and as valid, but a one-unit offer for the factory to answer,
make and ship. Moving units between the weeks a factory already works on a step changes no cost, no week worked
and no precedence; only the weeks' room limits it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from agglo.factory.allocation import AllocationProblem, Placement, week_room


def evened(problem: AllocationProblem, placements: Sequence[Placement]) -> tuple[Placement, ...]:
    """The plan with each factory's pieces of a step raised to its minimum lot where the weeks' room allows,
    taking units from its largest piece of that step. Accepted work and work under way stay as they are."""
    caps = {c.key: c for c in problem.capabilities}
    ops = {op.key: op for op in problem.operations}
    kept = {(p.operation, p.capability) for p in (*problem.previous, *problem.fixed)}
    used: dict[tuple[str, int], int] = defaultdict(int)
    pieces: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for p in placements:
        used[p.capability, p.week] += p.quantity
        pieces[p.operation, p.capability][p.week] = pieces[p.operation, p.capability].get(p.week, 0) + p.quantity
    for (op_key, c_key), weeks in pieces.items():
        c, op = caps.get(c_key), ops.get(op_key)
        if len(weeks) < 2 or (op_key, c_key) in kept or c is None or op is None:
            continue
        lot = c.min_lot
        while True:
            small = min(weeks, key=lambda w: (weeks[w], w))
            large = max(weeks, key=lambda w: (weeks[w], -w))
            room = min(c.capacity[small] - used[c_key, small], week_room(op, c, small) - weeks[small])
            step = min(lot - weeks[small], weeks[large] - lot, room)
            if small == large or step <= 0:
                break
            weeks[small] += step
            weeks[large] -= step
            used[c_key, small] += step
            used[c_key, large] -= step
    return tuple(
        Placement(o, c, w, q) for (o, c), weeks in sorted(pieces.items()) for w, q in sorted(weeks.items()) if q > 0
    )
