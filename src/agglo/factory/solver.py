"""The virtual factory's allocation solver: CP-SAT over weekly buckets. Pure: no Django.

Variables: x[o,c,w] units of operation o made by capability c in week w (only inside the operation's static
window and the capability's free weeks), y[o,c] whether c serves o, a[o,w] whether o is worked in week w,
S[o] ≤ every worked week ≤ E[o], u[o,z] whether o uses a supplier in transport zone z, and lag[e,k] whether the
route edge e needs at least k extra weeks of transport. Every successor starts after E[pred] + 1 + Σ lag.
Objective: production + expected failure cost (risk) + setups + lateness + changes to accepted work.
"""

from __future__ import annotations

import math
import os
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from agglo.factory.allocation import (
    AllocationProblem,
    Capability,
    Costs,
    OrderTerms,
    Placement,
    accepted_before,
    candidates,
    evaluate,
    fen,
    fixed_units,
    ineligibility,
    max_share_units,
    newcomer_units,
    risk_cents,
    shift_penalty,
    static_windows,
    week_room,
)
from agglo.factory.lots import evened
from agglo.factory.milp import run_mip
from agglo.factory.transport import zone_of, zone_weeks


@dataclass(frozen=True)
class AllocationResult:
    status: str  # optimal | feasible | infeasible | invalid | unknown
    placements: tuple[Placement, ...]
    objective: int | None
    bound: float | None
    seconds: float
    first_feasible_s: float | None = None
    costs: Costs | None = None
    model_size: dict[str, int] = field(default_factory=dict)

    @property
    def gap_pct(self) -> float | None:
        """Distance to the best bound, in percent of the objective."""
        if self.objective is None or self.bound is None:
            return None
        return 100.0 * (self.objective - self.bound) / max(abs(self.objective), 1)


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    def __init__(self, start: float) -> None:
        super().__init__()
        self.start = start
        self.first: float | None = None

    def on_solution_callback(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.start


STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
    # a model CP-SAT refuses (its 64-bit objective would overflow on such quantities and prices): no time helps
    cp_model.MODEL_INVALID: "invalid",
}


def solve(
    problem: AllocationProblem,
    *,
    time_limit: float = 30.0,
    hint: Sequence[Placement] = (),
    workers: int | None = None,
    seed: int = 0,
    candidate_limit: int | None = None,
    keep: Collection[str] = (),
    engine: str = "cp-sat",
    clock: Callable[[], float] = time.perf_counter,
) -> AllocationResult:
    """Best plan found within `time_limit` seconds, with CP-SAT's bound; a hint (a valid plan) speeds the start.

    `engine="highs"` solves the same model as a MIP with HiGHS (see `milp`), which proves small and medium
    models' optima much sooner; CP-SAT is the default because it needs no linearisation and scales its search.

    `candidate_limit` narrows the model to each operation's cheapest capabilities (plus those the hint uses); the
    bound is then the narrowed model's bound. Operations in `keep` stay exactly as the hint places them (the
    rest of the model still sees them), so a search can free part of several orders."""
    start = clock()
    built = build(problem, hint=hint, candidate_limit=candidate_limit, keep=keep)
    if built is None:
        return _without_plan("infeasible", start, clock)
    if engine == "highs":
        return _solve_highs(problem, built, time_limit=time_limit, start=start, clock=clock, threads=workers)
    model, x = built.model, built.x
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (clock() - start))
    solver.parameters.num_workers = workers or os.cpu_count() or 1
    solver.parameters.random_seed = seed
    watch = _FirstSolution(start)
    code = solver.solve(model, watch)
    status = STATUS.get(code, "unknown")
    size = {"variables": len(model.proto.variables), "constraints": len(model.proto.constraints)}
    if status not in ("optimal", "feasible"):
        kept = (
            _hint_kept(problem, hint, solver.best_objective_bound, start, clock, size) if status == "unknown" else None
        )
        return kept or _without_plan(status, start, clock, size)
    placements = evened(
        problem,
        [Placement(o, c, w, solver.value(var)) for (o, c, w), var in sorted(x.items()) if solver.value(var) > 0],
    )
    costs, _errors = evaluate(problem, placements)
    return AllocationResult(
        status,
        placements,
        round(solver.objective_value / 100),
        solver.best_objective_bound / 100,
        clock() - start,
        watch.first,
        costs,
        size,
    )


def _solve_highs(
    problem: AllocationProblem,
    built: Built,
    *,
    time_limit: float,
    start: float,
    clock: Callable[[], float],
    threads: int | None,
) -> AllocationResult:
    size = {"variables": len(built.model.proto.variables), "constraints": len(built.model.proto.constraints)}
    outcome = run_mip(built.model.proto, time_limit=max(0.1, time_limit - (clock() - start)), threads=threads)
    if outcome.values is None:
        return _without_plan(outcome.status, start, clock, size)
    placements = evened(
        problem,
        [
            Placement(o, c, w, round(outcome.values[var.index]))
            for (o, c, w), var in sorted(built.x.items())
            if round(outcome.values[var.index]) > 0
        ],
    )
    costs, _errors = evaluate(problem, placements)
    return AllocationResult(
        outcome.status,
        placements,
        round(outcome.objective / 100),
        outcome.bound / 100 if outcome.bound is not None else None,
        clock() - start,
        outcome.first_s,
        costs,
        size,
    )


@dataclass
class Built:
    """The CP-SAT model of a problem and its decision variables (objective in fen)."""

    model: cp_model.CpModel
    x: dict[tuple[str, str, int], cp_model.IntVar]


def build(
    problem: AllocationProblem,
    *,
    hint: Sequence[Placement] = (),
    candidate_limit: int | None = None,
    keep: Collection[str] = (),
) -> Built | None:
    """The model, or None when some operation cannot be placed at all (no window, no capable factory)."""
    model = cp_model.CpModel()
    weeks = problem.weeks
    windows = static_windows(problem)
    cands = candidates(problem)
    if candidate_limit is not None:
        cands = _cheapest(problem, cands, [*hint, *problem.fixed], candidate_limit)
    caps = {c.key: c for c in problem.capabilities}
    held_by: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)  # fixed units by operation, capability, week
    held_at: dict[tuple[str, int], int] = defaultdict(int)  # … by operation and week
    fixed_load: dict[tuple[str, int], int] = defaultdict(int)  # … by capability and week
    for (o_key, c_key, w), q in fixed_units(problem).items():
        held_by[o_key, c_key][w] = q
        held_at[o_key, w] += q
        fixed_load[c_key, w] += q
    with_fixed = {o_key for o_key, _w in held_at}
    kept = accepted_before(problem)
    x: dict[tuple[str, str, int], cp_model.IntVar] = {}
    y: dict[tuple[str, str], cp_model.IntVar] = {}
    a: dict[tuple[str, int], cp_model.IntVar] = {}
    s: dict[str, cp_model.IntVar] = {}
    e: dict[str, cp_model.IntVar] = {}
    u: dict[tuple[str, str], cp_model.IntVar] = {}
    by_cap_week: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    objective: list[cp_model.LinearExprT] = []
    newcomer_terms: list[cp_model.IntVar] = []
    order_cost: dict[str, list[cp_model.LinearExprT]] = defaultdict(list)
    for op in problem.operations:
        first, last = windows[op.key]
        if first > last:
            return None
        has_fixed = op.key in with_fixed
        # With work under way, S only bounds the new work, which may follow a late predecessor whatever the fixed
        # work's weeks; so it is not tied below E and may lie past the window.
        s[op.key] = model.new_int_var(first, max(last, weeks) if has_fixed else last, f"S{op.key}")
        e[op.key] = model.new_int_var(first, last, f"E{op.key}")
        if not has_fixed:
            model.add(s[op.key] <= e[op.key])
        per_week: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        share = op.quantity if problem.max_share is None else max_share_units(problem.max_share, op.quantity)
        users: list[cp_model.IntVar] = []
        behind = dict(op.not_before)
        for c in cands[op.key]:
            held = held_by.get((op.key, c.key), {})
            most = min(share, op.most(c.key, share))
            lot = min(c.min_lot, op.quantity, sum(held.values()) or op.quantity, most)
            if ineligibility(op, c) is not None:
                room = dict(held)  # it may no longer serve this step: it keeps its work under way, takes none
            else:
                begin, late_from = max(first, c.lead_weeks), behind.get(c.key, 0)
                room = {w: min(week_room(op, c, w), most) for w in range(max(begin, late_from), last + 1)}
                # a factory that reported one part late may keep its other accepted work before that week
                room |= {
                    w: min(q, week_room(op, c, w), most)
                    for w, q in kept.get((op.key, c.key), {}).items()
                    if begin <= w < min(late_from, last + 1)
                }
                room = {w: max(room.get(w, 0), held.get(w, 0)) for w in set(room) | set(held)}
            room = {w: top for w, top in room.items() if top > 0}
            if not held and (not room or sum(room.values()) < lot):
                continue
            used = model.new_bool_var(f"y{op.key}|{c.key}")
            y[op.key, c.key] = used
            users.append(used)
            made = []
            for w in sorted(room):
                top = room[w]
                var = model.new_int_var(held.get(w, 0), top, f"x{op.key}|{c.key}|{w}")
                # Disaggregated link (each week, not only the total): a much tighter LP bound for the setups.
                model.add(var <= top * used)
                x[op.key, c.key, w] = var
                made.append(var)
                per_week[w].append(var)
                by_cap_week[c.key, w].append(var)
            total = sum(made)
            model.add(total <= most * used)
            model.add(total >= lot * used)
            # The objective is in fen (1/100 yuan) so that the expected failure cost of cheap units counts.
            unit = fen(c.unit_cost) + risk_cents(c, problem.risk_weight)
            objective.append(unit * total + fen(c.setup_cost) * used)
            order_cost[op.order].append(fen(c.unit_cost) * total + fen(c.setup_cost) * used)
            if c.newcomer:
                newcomer_terms.extend(made)
            zone = zone_of(c.region)
            if (op.key, zone) not in u:
                u[op.key, zone] = model.new_bool_var(f"u{op.key}|{zone}")
            model.add_implication(used, u[op.key, zone])
        if not users:
            return None
        model.add(sum(users) <= op.max_suppliers)
        model.add(sum(v for vs in per_week.values() for v in vs) == op.quantity)
        for w, vs in per_week.items():
            active = model.new_bool_var(f"a{op.key}|{w}")
            a[op.key, w] = active
            model.add(sum(vs) <= op.quantity * active)
            model.add(e[op.key] >= w).only_enforce_if(active)
            fresh = active
            if held_at.get((op.key, w)):  # only new work in this week waits for the predecessors
                fresh = model.new_bool_var(f"n{op.key}|{w}")
                model.add(sum(vs) - held_at[op.key, w] <= op.quantity * fresh)
            model.add(s[op.key] <= w).only_enforce_if(fresh)
    for (c_key, w), vs in by_cap_week.items():
        model.add(sum(vs) <= max(_room(caps[c_key], w, None), fixed_load.get((c_key, w), 0)))
    lag_vars = _route(model, problem, s, e, u)
    late_vars: dict[str, cp_model.IntVar] = {}
    for order in problem.orders:
        late = model.new_int_var(0, weeks, f"late{order.key}")
        late_vars[order.key] = late
        for op in problem.operations:
            if op.order == order.key:
                model.add(late >= e[op.key] - order.due_week)
        objective.append(_late_weight(problem, order, cands) * late)
        if order.budget is not None:
            model.add(sum(order_cost[order.key]) <= fen(order.budget))
    if problem.newcomer_share > 0:
        total_units = sum(op.quantity for op in problem.operations)
        model.add(sum(newcomer_terms) >= newcomer_units(problem.newcomer_share, total_units))
    moved: dict[tuple[str, str, int], tuple[cp_model.IntVar, int]] = {}
    given: dict[tuple[str, str], tuple[cp_model.IntVar, int]] = {}
    if problem.previous and problem.change_penalty:
        # as `allocation.change_cost`: a week-shift pays a little, work taken from its factory the rest
        shift = shift_penalty(problem.change_penalty)
        moved = _not_made_again(model, x, problem.previous, "moved")
        objective += [100 * shift * var for var, _q in moved.values()]
        given = _taken_from(model, x, problem.previous)
        objective += [100 * (problem.change_penalty - shift) * var for var, _q in given.values()]
    # a fen for each unit of an open offer the plan does not make again
    objective += [var for var, _q in _not_made_again(model, x, problem.offered, "reoffered").values()]
    model.minimize(sum(objective))
    hinted: dict[tuple[str, str, int], int] = defaultdict(int)
    for p in hint:
        hinted[p.operation, p.capability, p.week] += p.quantity
    if keep:
        _keep(model, hinted, x, set(keep))
    if hint:
        _hint(model, problem, hinted, x, y, a, s, e, u, lag_vars, late_vars)
        for key, (var, quantity) in moved.items():
            model.add_hint(var, max(0, quantity - hinted.get(key, 0)))
        by_pair: dict[tuple[str, str], int] = defaultdict(int)
        for (op_key, cap_key, _w), q in hinted.items():
            by_pair[op_key, cap_key] += q
        for pair, (var, quantity) in given.items():
            model.add_hint(var, max(0, quantity - by_pair[pair]))
    return Built(model, x)


def _not_made_again(
    model: cp_model.CpModel, x: dict[tuple[str, str, int], cp_model.IntVar], placements: Iterable[Placement], name: str
) -> dict[tuple[str, str, int], tuple[cp_model.IntVar, int]]:
    """For each (operation, capability, week) of `placements`, the units of it the plan does not make there again
    (accepted work moved, or an open offer not repeated), with the quantity it had."""
    before: dict[tuple[str, str, int], int] = defaultdict(int)
    for p in placements:
        before[p.operation, p.capability, p.week] += p.quantity
    short = {}
    for key, quantity in before.items():
        same = x.get(key)
        var = model.new_int_var(0, quantity, f"{name}{key}")
        model.add(var >= quantity - (same if same is not None else 0))
        short[key] = (var, quantity)
    return short


def _taken_from(
    model: cp_model.CpModel, x: dict[tuple[str, str, int], cp_model.IntVar], placements: Iterable[Placement]
) -> dict[tuple[str, str], tuple[cp_model.IntVar, int]]:
    """For each (operation, capability) of accepted work, the units of it the plan gives that factory in no week,
    with the quantity it had."""
    before: dict[tuple[str, str], int] = defaultdict(int)
    for p in placements:
        before[p.operation, p.capability] += p.quantity
    weeks: dict[tuple[str, str], list[cp_model.IntVar]] = defaultdict(list)
    for (o, c, _w), var in x.items():
        if (o, c) in before:
            weeks[o, c].append(var)
    taken = {}
    for (o, c), quantity in before.items():
        var = model.new_int_var(0, quantity, f"taken{o}|{c}")
        model.add(var >= quantity - sum(weeks[o, c]))
        taken[o, c] = (var, quantity)
    return taken


def _late_weight(problem: AllocationProblem, order: OrderTerms, cands: dict[str, list[Capability]]) -> int:
    """What a week late weighs in the objective, in fen. With a penalty, the penalty. Without one the buyer named
    no price for lateness, so the due week is a goal before cost: a week late outweighs the dearest plan the
    order's candidates allow, moving all its accepted work included (it is not money, and the plan's costs show
    no lateness)."""
    if fen(order.late_penalty) > 0:
        return fen(order.late_penalty)
    ops = {op.key for op in problem.operations if op.order == order.key}
    dearest = 100 * problem.change_penalty * sum(p.quantity for p in problem.previous if p.operation in ops)
    dearest += sum(p.quantity for p in problem.offered if p.operation in ops)  # the open offers' tie-break
    for op in problem.operations:
        if op.order == order.key and cands.get(op.key):
            unit = max(fen(c.unit_cost) + risk_cents(c, problem.risk_weight) for c in cands[op.key])
            setup = max(fen(c.setup_cost) for c in cands[op.key])
            dearest += op.quantity * unit + op.max_suppliers * setup
    return min(dearest + 1, 10**12)


def _room(c: Capability, week: int, share: int | None) -> int:
    """A capability's free capacity in a week (none outside its calendar), at most `share`."""
    free = c.capacity[week] if 0 <= week < len(c.capacity) else 0
    return free if share is None else min(free, share)


def _keep(
    model: cp_model.CpModel,
    made: dict[tuple[str, str, int], int],
    x: dict[tuple[str, str, int], cp_model.IntVar],
    keep: set[str],
) -> None:
    """Fix the kept operations' quantities to the hint's (`made`: units by operation, capability and week). An
    operation the hint places outside the model's variables (it is then not a valid plan) is left free rather than
    made infeasible."""
    fixable = keep - {key[0] for key in made if key[0] in keep and key not in x}
    for key, var in x.items():
        if key[0] in fixable:
            model.add(var == made.get(key, 0))


def _cheapest(
    problem: AllocationProblem, cands: dict[str, list[Capability]], hint: Sequence[Placement], limit: int
) -> dict[str, list[Capability]]:
    """Each operation's `limit` cheapest capabilities, plus those the hint uses (so the hint stays a plan)."""
    hinted: dict[str, set[str]] = defaultdict(set)
    for p in hint:
        hinted[p.operation].add(p.capability)

    def price(c: Capability) -> tuple[int, str]:
        return (fen(c.unit_cost) + risk_cents(c, problem.risk_weight), c.key)

    return {
        key: [c for i, c in enumerate(sorted(options, key=price)) if i < limit or c.key in hinted[key]]
        for key, options in cands.items()
    }


def _route(
    model: cp_model.CpModel,
    problem: AllocationProblem,
    s: dict[str, cp_model.IntVar],
    e: dict[str, cp_model.IntVar],
    u: dict[tuple[str, str], cp_model.IntVar],
) -> dict[tuple[str, str, int], cp_model.IntVar]:
    """Precedence plus transport: lag[b,o,k] is forced on when b and o use zones k or more weeks apart."""
    zones: dict[str, list[str]] = defaultdict(list)
    for o_key, zone in u:
        zones[o_key].append(zone)
    lags: dict[tuple[str, str, int], cp_model.IntVar] = {}
    for op in problem.operations:
        for before in op.after:
            pairs = [(z1, z2, zone_weeks(z1, z2)) for z1 in zones[before] for z2 in zones[op.key]]
            levels = []
            for k in range(1, max((w for *_z, w in pairs), default=0) + 1):
                lag = model.new_bool_var(f"lag{before}>{op.key}|{k}")
                lags[before, op.key, k] = lag
                levels.append(lag)
                for z1, z2, w in pairs:
                    if w >= k:
                        model.add(u[before, z1] + u[op.key, z2] <= 1 + lag)
            model.add(s[op.key] >= e[before] + 1 + sum(levels))
    return lags


def _hint(
    model: cp_model.CpModel,
    problem: AllocationProblem,
    made: dict[tuple[str, str, int], int],
    x: dict[tuple[str, str, int], cp_model.IntVar],
    y: dict[tuple[str, str], cp_model.IntVar],
    a: dict[tuple[str, int], cp_model.IntVar],
    s: dict[str, cp_model.IntVar],
    e: dict[str, cp_model.IntVar],
    u: dict[tuple[str, str], cp_model.IntVar],
    lags: dict[tuple[str, str, int], cp_model.IntVar],
    late: dict[str, cp_model.IntVar],
) -> None:
    """Give CP-SAT a complete starting point from a valid plan, `made` (units by operation, capability and week):
    every variable, so it need not search for one."""
    regions = {c.key: c.region for c in problem.capabilities}
    weeks_of: dict[str, list[int]] = defaultdict(list)
    zones_of: dict[str, set[str]] = defaultdict(set)
    for o_key, c_key, w in made:
        weeks_of[o_key].append(w)
        zones_of[o_key].add(zone_of(regions[c_key]))
    for key, var in x.items():
        model.add_hint(var, made.get(key, 0))
    served = {(o, c) for (o, c, _w) in made}
    for pair, var in y.items():
        model.add_hint(var, pair in served)
    for (o, w), var in a.items():
        model.add_hint(var, w in weeks_of[o])
    for o, var in s.items():
        model.add_hint(var, min(weeks_of[o]) if weeks_of[o] else var.proto.domain[0])
    for o, var in e.items():
        model.add_hint(var, max(weeks_of[o]) if weeks_of[o] else var.proto.domain[0])
    for (o, z), var in u.items():
        model.add_hint(var, z in zones_of[o])
    for (b, o, k), var in lags.items():
        needed = max((zone_weeks(z1, z2) for z1 in zones_of[b] for z2 in zones_of[o]), default=0)
        model.add_hint(var, needed >= k)
    ends: dict[str, int] = defaultdict(int)
    for op in problem.operations:
        if weeks_of[op.key]:
            ends[op.order] = max(ends[op.order], max(weeks_of[op.key]))
    for order in problem.orders:
        model.add_hint(late[order.key], max(0, ends[order.key] - order.due_week))


def _hint_kept(
    problem: AllocationProblem,
    hint: Sequence[Placement],
    bound_fen: float,
    start: float,
    clock: Callable[[], float],
    size: dict[str, int],
) -> AllocationResult | None:
    """The hint as the plan, when the time ran out before CP-SAT found one of its own (a large platform's model can
    take the whole limit to load): a valid plan is a plan, and the best known. None if the hint breaks a rule."""
    if not hint:
        return None
    placements = evened(problem, list(hint))
    costs, errors = evaluate(problem, placements)
    if errors:
        return None
    # CP-SAT's bound before its search began is 0, true and of no use: shown as none
    bound = bound_fen / 100 if math.isfinite(bound_fen) and 0 < bound_fen / 100 <= costs.total else None
    return AllocationResult("feasible", tuple(placements), costs.total, bound, clock() - start, None, costs, size)


def _without_plan(
    status: str, start: float, clock: Callable[[], float], size: dict[str, int] | None = None
) -> AllocationResult:
    return AllocationResult(status, (), None, None, clock() - start, None, None, size or {})
