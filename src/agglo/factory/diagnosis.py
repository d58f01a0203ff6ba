"""Why an allocation problem has no plan, found by cheap checks, operation by operation. Pure: no Django.

Each finding names the operation, the rule and the numbers; the service turns it into a sentence.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from agglo.factory.allocation import (
    AllocationProblem,
    Capability,
    Operation,
    fen,
    ineligibility,
    max_share_units,
    static_windows,
    week_room,
)


@dataclass(frozen=True)
class Finding:
    operation: str  # operation key, or "" for the whole problem
    rule: str  # process | quality | certification | region | declined | ineligible (several of these) | route
    #   | capacity | turned_down (capable factories keep only what they accepted) | suppliers | budget | together
    #   | too_large (the solver cannot count its quantities and prices)
    detail: dict[str, int | str] = field(default_factory=dict)


def diagnose(problem: AllocationProblem) -> list[Finding]:
    """Every reason found; an empty list means each operation fits on its own (the conflict is between them)."""
    try:
        windows = static_windows(problem)
    except ValueError as error:
        return [Finding("", "route", {"reason": str(error)})]
    findings: list[Finding] = []
    for op in problem.operations:
        first, last = windows[op.key]
        same = [c for c in problem.capabilities if c.process == op.process]
        eligible = [c for c in same if ineligibility(op, c) is None]
        if not same:
            findings.append(Finding(op.key, "process", {"process": op.process}))
            continue
        if not eligible:
            reasons = Counter(ineligibility(op, c) or "process" for c in same)
            # certifications no factory of the process holds at all: what to look for, before any count
            unheld = ", ".join(sorted(x for x in op.certifications if not any(x in c.certifications for c in same)))
            if len(reasons) == 1:
                why: dict[str, int | str] = {"process": op.process, "factories": len(same)}
                if "certification" in reasons:  # which ones, so that the buyer knows what to look for
                    why["certifications"] = unheld or ", ".join(sorted(op.certifications))
                    why["each_held"] = 0 if unheld else 1  # each is held somewhere, only not all by one
                findings.append(Finding(op.key, next(iter(reasons)), why))
            else:  # say every reason: "no factory reaches the grade" is untrue when some that do declined
                findings.append(
                    Finding(
                        op.key,
                        "ineligible",
                        {"factories": len(same), **reasons, **({"unheld": unheld} if unheld else {})},
                    )
                )
            continue
        if first > last:
            findings.append(Finding(op.key, "route", {"first": first, "last": last, "weeks": problem.weeks}))
            continue
        share = op.quantity if problem.max_share is None else max_share_units(problem.max_share, op.quantity)
        # factories holding work delivered or under way stay suppliers of the step whatever the rules now say of
        # them: they take up places under the supplier limit before any other factory does
        fixed = Counter[str]()
        for p in problem.fixed:
            if p.operation == op.key:
                fixed[p.capability] += p.quantity
        forced = [max(fixed[c.key], _room(op, c, share, first, last)) for c in same if c.key in fixed]
        others = sorted((_room(op, c, share, first, last) for c in eligible if c.key not in fixed), reverse=True)
        room = sorted(forced + others, reverse=True)
        reachable = sum(forced) + sum(others[: max(0, op.max_suppliers - len(forced))])
        detail: dict[str, int | str] = {"first": first, "last": last, "needed": op.quantity}
        kept = dict(op.limits)  # factories that turned down the rest of the step keep what they accepted
        limited = [c for c in eligible if c.key in kept]
        freed = sum(min(share, _room_in(op, c, first, last)) - min(share, kept[c.key]) for c in limited)
        if sum(room) < op.quantity and limited and sum(room) + freed >= op.quantity:
            # the room is there, but the factories that have it turned down the rest of the step
            why_not = Counter(str(ineligibility(op, c)) for c in same if ineligibility(op, c) is not None)
            units = sum(min(share, kept[c.key]) for c in limited)
            findings.append(Finding(op.key, "turned_down", {"limited": len(limited), "kept": units, **why_not}))
        elif sum(room) < op.quantity:
            findings.append(Finding(op.key, "capacity", {**detail, "available": sum(room)}))
        elif reachable < op.quantity:
            limit = {"available": reachable, "limit": op.max_suppliers, "holding": len(forced)}
            findings.append(Finding(op.key, "suppliers", {**detail, **limit}))
    for order in problem.orders:
        if order.budget is not None:
            # each step pays at least its cheapest unit price throughout and one setup
            floor = 0  # in fen, as the solver counts the budget (floats make 3 × 1.10 more than 3.30)
            for op in (op for op in problem.operations if op.order == order.key):
                able = [c for c in problem.capabilities if ineligibility(op, c) is None]
                if able:
                    floor += op.quantity * min(fen(c.unit_cost) for c in able) + min(fen(c.setup_cost) for c in able)
            if floor > fen(order.budget):
                findings.append(Finding("", "budget", {"floor": f"{floor / 100:.2f}", "budget": f"{order.budget:.2f}"}))
    return findings


def _room(op: Operation, c: Capability, share: int, first: int, last: int) -> int:
    """What a capability may make of a step over its window: its free capacity, within the share cap and the
    step's limits on it."""
    return min(share, op.most(c.key, share), _room_in(op, c, first, last))


def _room_in(op: Operation, c: Capability, first: int, last: int) -> int:
    """A capability's free capacity for a step over its window (within the step's week limits)."""
    return sum(week_room(op, c, w) for w in range(max(first, c.lead_weeks), last + 1))


def step_weeks(problem: AllocationProblem) -> Finding:
    """The "together" finding with its figures: the weeks each step needs at least (its quantity over what its
    largest allowed suppliers make in their best week) and the longest chain of them in sequence, against the
    weeks the plan has (review 56 L2: the bare sentence named no step and no figure)."""
    needs: dict[str, int] = {}
    for op in problem.operations:
        best = sorted(
            (max(c.capacity, default=0) for c in problem.capabilities if ineligibility(op, c) is None), reverse=True
        )
        per_week = sum(best[: max(1, op.max_suppliers)])
        needs[op.key] = -(-op.quantity // per_week) if per_week else problem.weeks + 1
    chain: dict[str, int] = {}
    for op in problem.operations:  # listed after their predecessors
        chain[op.key] = needs[op.key] + max((chain.get(b, 0) for b in op.after), default=0)
    said = " ".join(f"{key}:{weeks}" for key, weeks in needs.items())
    return Finding("", "together", {"n": problem.weeks, "needs": said, "chain": max(chain.values(), default=0)})
