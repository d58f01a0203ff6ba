"""Bring a plan's work forward where that costs nothing. Pure: no Django.

The objective has no term for when work is done within the due week: production, setups and risk are the same in
any week, and lateness counts only weeks past it. So among plans of equal cost the solver may put a step in the due
week while the weeks before it stand free (review 56 L6), and a delay then makes the order late. A buyer, and a
planner, would have the work done as early as it can be. Moving a factory's whole weekly piece of a step to an
earlier week where it has room keeps every cost and every rule; steps go in route order, so that a step brought
forward lets the next one start earlier too."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from agglo.factory.allocation import AllocationProblem, Placement, evaluate, topological, week_room
from agglo.factory.transport import transport_weeks


def forward(problem: AllocationProblem, placements: Sequence[Placement], first: int = 0) -> tuple[Placement, ...]:
    """The plan with each factory's weekly pieces of a step moved, whole, to the earliest week (from `first`, the
    first week open to new work) where its capacity, its week limits and the step's predecessors allow. Work
    accepted, under way or on offer stays where it is: a factory may be answering or making it. The plan as given if
    the moved one would cost anything more or break a rule it kept (a safeguard: neither should happen)."""
    caps = {c.key: c for c in problem.capabilities}
    kept = {(p.operation, p.capability) for p in (*problem.previous, *problem.fixed, *problem.offered)}
    pieces: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    load: dict[tuple[str, int], int] = defaultdict(int)
    for p in placements:
        pieces[p.operation, p.capability][p.week] = pieces[p.operation, p.capability].get(p.week, 0) + p.quantity
        load[p.capability, p.week] += p.quantity
    used: dict[str, list[str]] = defaultdict(list)  # an operation's capabilities
    for o, c in pieces:
        used[o].append(c)
    ends: dict[str, int] = {}
    for op in topological(problem.operations):
        start = first
        for before in op.after:
            if used[before] and used[op.key]:
                lag = max(transport_weeks(caps[b].region, caps[a].region) for b in used[before] for a in used[op.key])
                start = max(start, ends[before] + 1 + lag)
        for c in used[op.key]:
            weeks, cap = pieces[op.key, c], caps[c]
            if (op.key, c) in kept:
                continue
            low = max(start, cap.lead_weeks, dict(op.not_before).get(c, 0))
            for week in sorted(weeks):
                units = weeks[week]
                to = next(
                    (
                        w
                        for w in range(low, week)
                        if min(cap.capacity[w] - load[c, w], week_room(op, cap, w) - weeks.get(w, 0)) >= units
                    ),
                    None,
                )
                if to is None:
                    continue
                del weeks[week]
                weeks[to] = weeks.get(to, 0) + units
                load[c, week] -= units
                load[c, to] += units
        ends[op.key] = max((w for c in used[op.key] for w in pieces[op.key, c]), default=0)
    moved = tuple(
        Placement(o, c, w, q) for (o, c), weeks in sorted(pieces.items()) for w, q in sorted(weeks.items()) if q > 0
    )
    (costs, errors), (costs_before, errors_before) = evaluate(problem, moved), evaluate(problem, placements)
    if costs.total > costs_before.total or not set(errors) <= set(errors_before):
        return tuple(placements)
    return moved
