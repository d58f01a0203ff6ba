"""The allocation problem of a virtual factory, and how a plan is costed and checked. Pure: no Django.

Time is in weekly buckets 0 … weeks-1 from the plan's first week. An operation's quantity is in its process's
capacity unit, so it draws directly on a capability's weekly free capacity. Money is in yuan to the fen; the
solver, the budget and its checks count it in whole fen (`fen`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from agglo.factory.transport import province_of, transport_weeks


@dataclass(frozen=True)
class Capability:
    """One factory's ability to run one process, with its free capacity week by week."""

    key: str
    factory: str
    process: str
    capacity: tuple[int, ...]
    unit_cost: float  # yuan, to the fen (the solver works in whole fen)
    setup_cost: float = 0
    min_lot: int = 1
    quality: int = 1  # grade: 1 basic, 2 standard, 3 high
    certifications: frozenset[str] = frozenset()
    lead_weeks: int = 0  # the earliest week it can start
    region: str = ""
    risk: float = 0.0  # 0..1: chance of failing the job, from credit and the scorecard
    newcomer: bool = False  # on probation: may receive the reserved newcomer share
    # weeks closed to new work (gone by, past a required certificate, the process no longer offered): `capacity`
    # there is only the order's own work kept; room freed elsewhere cannot reach them
    closed: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Operation:
    """One step of an order's route: a quantity of one process, after its predecessors."""

    key: str
    order: str
    process: str
    quantity: int
    after: tuple[str, ...] = ()
    min_quality: int = 0
    certifications: frozenset[str] = frozenset()
    max_suppliers: int = 3
    regions_only: frozenset[str] = frozenset()  # province codes; empty = anywhere
    regions_excluded: frozenset[str] = frozenset()
    declined_by: frozenset[str] = frozenset()  # capabilities that declined or withdrew from this operation
    # (capability, units): a factory that turned down part of this step but accepted the rest keeps at most that
    limits: tuple[tuple[str, int], ...] = ()

    def most(self, capability: str, default: int) -> int:
        """The most `capability` may make of this step under `limits` (else `default`)."""
        return dict(self.limits).get(capability, default)

    # (capability, week): a factory that reported its part late takes no work on this step before that week
    not_before: tuple[tuple[str, int], ...] = ()
    # (capability, week, units): the most a factory makes of this step in that week: what it accepted there, where
    # it declined the week or its counter-offer there was taken or refused; that plus the counter's quantity, where
    # its counter-offer is open or was set aside by a re-plan
    week_limits: tuple[tuple[str, int, int], ...] = ()

    def most_in(self, capability: str, week: int, default: int) -> int:
        """The most `capability` may make of this step in `week` under `week_limits` (else `default`)."""
        for c, w, units in self.week_limits:
            if c == capability and w == week:
                return min(units, default)
        return default


@dataclass(frozen=True)
class OrderTerms:
    key: str
    due_week: int  # the week by whose end the last operation must be finished
    late_penalty: float  # yuan per week late, to the fen
    budget: float | None = None  # yuan


@dataclass(frozen=True)
class Placement:
    """`quantity` of `operation` made by `capability` in `week`."""

    operation: str
    capability: str
    week: int
    quantity: int


@dataclass(frozen=True)
class AllocationProblem:
    weeks: int
    operations: tuple[Operation, ...]
    capabilities: tuple[Capability, ...]
    orders: tuple[OrderTerms, ...]
    risk_weight: float = 1.0  # expected cost of a failure, as a share of the work's value
    max_share: float | None = None  # cap on one factory's share of an operation
    newcomer_share: float = 0.0  # share of all quantity reserved for newcomers on probation
    previous: tuple[Placement, ...] = ()  # accepted work: moving it costs per unit (`change_cost`)
    change_penalty: int = 0
    # Open offers: among plans of equal cost the solver keeps them (a fen a unit moved, not money: the plan's costs
    # leave it out), so that "plan again" does not re-make work a factory may be answering.
    offered: tuple[Placement, ...] = ()
    # Work delivered or under way: every plan keeps it where it is, whatever the rules now say of its factory.
    fixed: tuple[Placement, ...] = ()


@dataclass(frozen=True)
class Costs:
    production: int
    setup: int
    risk: int
    lateness: int
    change: int

    @property
    def total(self) -> int:
        return self.production + self.setup + self.risk + self.lateness + self.change


def week_room(operation: Operation, capability: Capability, week: int) -> int:
    """What a capability's free capacity lets it make of an operation in a week, within the step's week limits."""
    free = capability.capacity[week] if 0 <= week < len(capability.capacity) else 0
    return operation.most_in(capability.key, week, free)


def ineligibility(operation: Operation, capability: Capability) -> str | None:
    """Why a capability cannot serve an operation (a rule name), or None when it can."""
    if capability.process != operation.process:
        return "process"
    if capability.key in operation.declined_by:
        return "declined"
    if capability.quality < operation.min_quality:
        return "quality"
    if not operation.certifications <= capability.certifications:
        return "certification"
    where = province_of(capability.region)
    if operation.regions_only and where not in operation.regions_only:
        return "region"
    if where in operation.regions_excluded:
        return "region"
    return None


def candidates(problem: AllocationProblem) -> dict[str, list[Capability]]:
    """The capabilities that may serve each operation: the eligible ones, and any that holds fixed work on it."""
    by_process: dict[str, list[Capability]] = defaultdict(list)
    for capability in problem.capabilities:
        by_process[capability.process].append(capability)
    holding = {(p.operation, p.capability) for p in problem.fixed}
    return {
        op.key: [
            c for c in by_process.get(op.process, []) if ineligibility(op, c) is None or (op.key, c.key) in holding
        ]
        for op in problem.operations
    }


def fixed_units(problem: AllocationProblem) -> dict[tuple[str, str, int], int]:
    """Fixed work by operation, capability and week."""
    units: dict[tuple[str, str, int], int] = defaultdict(int)
    for p in problem.fixed:
        units[p.operation, p.capability, p.week] += p.quantity
    return units


def accepted_before(problem: AllocationProblem) -> dict[tuple[str, str], dict[int, int]]:
    """Accepted work (`previous`) by operation and capability, week by week: what a factory that reported another
    part of the step late may keep in the weeks before its delay."""
    units: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    for p in problem.previous:
        units[p.operation, p.capability][p.week] = units[p.operation, p.capability].get(p.week, 0) + p.quantity
    return units


def fen(yuan: float) -> int:
    """A sum of money in whole fen, the unit the solver's objective and the budget are counted in."""
    return round(100 * yuan)


def risk_cents(capability: Capability, risk_weight: float) -> int:
    """Expected cost of failure per unit: the unit's value × risk × weight, in fen (hundredths of a yuan), so
    that cheap units still carry their risk."""
    return round(100 * capability.unit_cost * capability.risk * risk_weight)


def topological(operations: Iterable[Operation]) -> list[Operation]:
    """Operations with every predecessor before it; ValueError names an operation in a cycle or a missing one."""
    ops = {op.key: op for op in operations}
    for op in ops.values():
        for before in op.after:
            if before not in ops:
                raise ValueError(f"operation {op.key} follows {before}, which is not in the problem")
    done: list[Operation] = []
    state: dict[str, int] = {}

    def visit(key: str) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            raise ValueError(f"operation {key} is part of a cycle of predecessors")
        state[key] = 1
        for before in ops[key].after:
            visit(before)
        state[key] = 2
        done.append(ops[key])

    for key in ops:
        visit(key)
    return done


def untimed(problem: AllocationProblem) -> AllocationProblem:
    """The same problem without its timing: no operation waits for another, and every order is due in the last
    week. A relaxation: every plan of `problem` is a plan of this one at no more cost."""
    return replace(
        problem,
        operations=tuple(replace(op, after=()) for op in problem.operations),
        orders=tuple(replace(order, due_week=problem.weeks - 1) for order in problem.orders),
    )


def static_windows(problem: AllocationProblem) -> dict[str, tuple[int, int]]:
    """For each operation, the earliest week it could start and the latest it could end, from the route alone
    (widened to take in its fixed work, which is where it is whatever the route says)."""
    ordered = topological(problem.operations)
    cands = candidates(problem)
    earliest: dict[str, int] = {}
    for op in ordered:
        lead = min((c.lead_weeks for c in cands[op.key]), default=0)
        earliest[op.key] = max([lead, *(earliest[b] + 1 for b in op.after)])
    tail: dict[str, int] = {op.key: 0 for op in ordered}
    for op in reversed(ordered):
        for before in op.after:
            tail[before] = max(tail[before], tail[op.key] + 1)
    windows = {op.key: (earliest[op.key], problem.weeks - 1 - tail[op.key]) for op in ordered}
    for p in problem.fixed:
        if p.operation in windows:
            first, last = windows[p.operation]
            windows[p.operation] = (min(first, p.week), max(last, p.week))
    return windows


def evaluate(problem: AllocationProblem, placements: Iterable[Placement]) -> tuple[Costs, list[str]]:
    """Cost a plan and list every rule it breaks (an empty list: the plan is valid)."""
    placements = list(placements)
    ops = {op.key: op for op in problem.operations}
    caps = {c.key: c for c in problem.capabilities}
    errors: list[str] = []
    made: dict[str, int] = defaultdict(int)
    per_pair: dict[tuple[str, str], int] = defaultdict(int)
    load: dict[tuple[str, int], int] = defaultdict(int)
    weeks_of: dict[str, list[int]] = defaultdict(list)
    placed: dict[tuple[str, str, int], int] = defaultdict(int)
    production = risk = 0
    fixed = fixed_units(problem)
    kept = accepted_before(problem)
    fixed_pair: dict[tuple[str, str], int] = defaultdict(int)
    for (o, c, _w), q in fixed.items():
        fixed_pair[o, c] += q
    for p in placements:
        op, cap = ops.get(p.operation), caps.get(p.capability)
        if op is None or cap is None or p.quantity <= 0:
            errors.append(f"placement {p} names an unknown operation or capability, or no quantity")
            continue
        held = fixed.get((p.operation, p.capability, p.week), 0)
        late_from = dict(op.not_before).get(cap.key, 0)
        keeps = p.week < late_from and p.quantity <= kept.get((op.key, cap.key), {}).get(p.week, 0)
        if not (max(cap.lead_weeks, late_from) <= p.week < problem.weeks) and not held and not keeps:
            errors.append(f"{cap.key} works on {op.key} in week {p.week}, outside its weeks")
        made[op.key] += p.quantity
        placed[op.key, cap.key, p.week] += p.quantity
        per_pair[op.key, cap.key] += p.quantity
        load[cap.key, p.week] += p.quantity
        weeks_of[op.key].append(p.week)
        production += fen(cap.unit_cost) * p.quantity  # in fen, as risk
        risk += risk_cents(cap, problem.risk_weight) * p.quantity
    for (o, c, w), q in placed.items():
        reason = ineligibility(ops[o], caps[c])
        if reason and q > fixed.get((o, c, w), 0):  # a factory that may no longer serve keeps only its fixed work
            errors.append(f"{c} may not serve {o}: {reason}")
    for op in problem.operations:
        if made[op.key] != op.quantity:
            errors.append(f"{op.key}: {made[op.key]} of {op.quantity} placed")
        suppliers = [c for (o, c) in per_pair if o == op.key]
        if len(suppliers) > op.max_suppliers:
            errors.append(f"{op.key}: {len(suppliers)} suppliers, at most {op.max_suppliers}")
        for c in suppliers:
            quantity = per_pair[op.key, c]
            if quantity < min(caps[c].min_lot, op.quantity, fixed_pair[op.key, c] or op.quantity):
                errors.append(f"{op.key} at {c}: {quantity} below the minimum lot {caps[c].min_lot}")
            if problem.max_share is not None and quantity > max_share_units(problem.max_share, op.quantity):
                errors.append(f"{op.key} at {c}: {quantity} above the share cap")
            if quantity > op.most(c, quantity):
                errors.append(f"{op.key} at {c}: {quantity} above the {op.most(c, quantity)} it may keep")
    for (o, c, w), q in fixed.items():
        if placed[o, c, w] < q:
            errors.append(f"{o} at {c} week {w}: fixed work of {q} not kept")
    for (o, c, w), q in placed.items():
        if q > max(ops[o].most_in(c, w, q), fixed.get((o, c, w), 0)):
            errors.append(f"{o} at {c} week {w}: {q} above the {ops[o].most_in(c, w, q)} it may make that week")
    for (c, w), used in load.items():
        if c in caps and w < len(caps[c].capacity) and used > caps[c].capacity[w]:
            errors.append(f"{c} week {w}: {used} above capacity {caps[c].capacity[w]}")
    # Only new work waits for the predecessors: work under way is where it is.
    fresh_weeks: dict[str, list[int]] = defaultdict(list)
    for (o, c, w), q in placed.items():
        if q > fixed.get((o, c, w), 0):
            fresh_weeks[o].append(w)
    for op in problem.operations:
        for before in op.after:
            if not fresh_weeks[op.key] or not weeks_of[before]:
                continue
            lag = max(
                transport_weeks(caps[b].region, caps[a].region)
                for (o1, b) in per_pair
                if o1 == before
                for (o2, a) in per_pair
                if o2 == op.key
            )
            if min(fresh_weeks[op.key]) < max(weeks_of[before]) + 1 + lag:
                errors.append(f"{op.key} starts before {before} is finished and delivered ({lag} weeks transport)")
    if problem.newcomer_share > 0:
        total = sum(op.quantity for op in problem.operations)
        newcomers = sum(p.quantity for p in placements if p.capability in caps and caps[p.capability].newcomer)
        if newcomers < newcomer_units(problem.newcomer_share, total):
            errors.append(f"newcomers received {newcomers} units, below the reserved share")
    setup = sum(fen(caps[c].setup_cost) for (_, c) in per_pair if c in caps)
    lateness = 0
    for order in problem.orders:
        ends = [max(weeks_of[op.key]) for op in problem.operations if op.order == order.key and weeks_of[op.key]]
        if ends:
            lateness += max(0, max(ends) - order.due_week) * fen(order.late_penalty)  # in fen, as production
    change = change_cost(problem, placements)
    return Costs(round(production / 100), round(setup / 100), round(risk / 100), round(lateness / 100), change), errors


def budget_spend(problem: AllocationProblem, placements: Sequence[Placement]) -> int:
    """What a plan spends of its budget, in fen: production, and one setup per factory on each step."""
    caps = {c.key: c for c in problem.capabilities}
    pairs = {(p.operation, p.capability) for p in placements}
    return sum(fen(caps[p.capability].unit_cost) * p.quantity for p in placements) + sum(
        fen(caps[c].setup_cost) for _o, c in pairs
    )


def _share_of(share: float, total: int) -> int:
    """The whole units of `total` within `share`, counted in ten-thousandths: shares are given to the hundredth,
    and 0.57 × 100 in floats is 56.999…, one unit short of the 57 meant."""
    return round(share * 10_000) * total // 10_000


def max_share_units(share: float, quantity: int) -> int:
    return max(1, _share_of(share, quantity))


def newcomer_units(share: float, total: int) -> int:
    return _share_of(share, total)


SHIFT_SHARE = 10  # a week-shift at the same factory costs a tenth of the change penalty: it keeps the member's work


def shift_penalty(change_penalty: int) -> int:
    """What moving a unit of accepted work to another week at the same factory costs, in yuan: far less than
    giving it to another factory, so that a repair that must move work shifts a member's part before it takes the
    part away (one member's delay should not cost another member its accepted work)."""
    return max(1, change_penalty // SHIFT_SHARE) if change_penalty > 0 else 0


def change_cost(problem: AllocationProblem, placements: Iterable[Placement]) -> int:
    """The penalty for changing accepted work, in yuan: every unit not made in its week and at its factory any
    more pays the shift penalty, and every unit its factory no longer makes at all the rest of the change penalty."""
    placements = list(placements)
    moved, lost = moved_units(problem.previous, placements), lost_units(problem.previous, placements)
    shift = shift_penalty(problem.change_penalty)
    return shift * moved + (problem.change_penalty - shift) * lost


def lost_units(previous: Iterable[Placement], placements: Iterable[Placement]) -> int:
    """Units of accepted work (by operation and capability) whose factory the new plan gives them in no week."""
    before: dict[tuple[str, str], int] = defaultdict(int)
    after: dict[tuple[str, str], int] = defaultdict(int)
    for p in previous:
        before[p.operation, p.capability] += p.quantity
    for p in placements:
        after[p.operation, p.capability] += p.quantity
    return sum(max(0, q - after[k]) for k, q in before.items())


def moved_units(previous: Iterable[Placement], placements: Iterable[Placement]) -> int:
    """Units of accepted work (by operation, capability and week) that a new plan takes away or moves."""
    before: dict[tuple[str, str, int], int] = defaultdict(int)
    after: dict[tuple[str, str, int], int] = defaultdict(int)
    for p in previous:
        before[p.operation, p.capability, p.week] += p.quantity
    for p in placements:
        after[p.operation, p.capability, p.week] += p.quantity
    return sum(max(0, q - after[k]) for k, q in before.items())
