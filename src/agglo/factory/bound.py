"""A lower bound on the cost of any plan, from a linear programme without the week-by-week detail, solved by
HiGHS. Pure: no Django.

The relaxation keeps, per operation and capable factory, the quantity q and a fractional setup y: the quantity is
made in full, q ≤ its largest possible amount × y (so at least one setup is paid per operation), q ≥ minimum lot
× y, at most the supplier limit of setups, the share cap, budgets and the newcomer share. Week by week capacity
becomes two families of valid cuts per capability and week t: operations that must end by t fit in the free
capacity of weeks ≤ t, and those that cannot start before t fit in weeks ≥ t. Lateness is counted as 0. Every plan
of the full model satisfies all of this, so the optimum is a bound for all of them — the one the benchmark's gap
is measured against. It is far smaller than the time-indexed model's relaxation (q, not x per week).
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass

import highspy
import numpy as np

from agglo.factory.allocation import (
    AllocationProblem,
    candidates,
    max_share_units,
    newcomer_units,
    risk_cents,
    static_windows,
    week_room,
)
from agglo.factory.highs import quiet_highs

INF = highspy.kHighsInf


@dataclass(frozen=True)
class Bound:
    status: str
    value: float | None  # yuan
    seconds: float
    columns: int
    rows: int


def lower_bound(problem: AllocationProblem, *, time_limit: float = 60.0) -> Bound:
    """Solve the relaxation; `value` is None unless HiGHS proved its optimum."""
    start = time.perf_counter()
    windows = static_windows(problem)
    cands = candidates(problem)
    cost: list[float] = []
    upper: list[float] = []
    q_of: dict[tuple[str, str], int] = {}
    y_of: dict[tuple[str, str], int] = {}
    rows: list[tuple[dict[int, float], float, float]] = []
    first_week: dict[tuple[str, str], int] = {}
    for op in problem.operations:
        first, last = windows[op.key]
        share = op.quantity if problem.max_share is None else max_share_units(problem.max_share, op.quantity)
        demand: dict[int, float] = {}
        setups: dict[int, float] = {}
        for c in cands[op.key]:
            begin = max(first, c.lead_weeks)
            room = sum(week_room(op, c, w) for w in range(begin, last + 1))
            top = min(share, room, op.most(c.key, share))
            lot = min(c.min_lot, op.quantity, top)
            if top < lot or top <= 0:
                continue
            q = len(cost)
            cost.append(c.unit_cost + risk_cents(c, problem.risk_weight) / 100)
            upper.append(top)
            y = len(cost)
            cost.append(c.setup_cost)
            upper.append(1.0)
            q_of[op.key, c.key], y_of[op.key, c.key] = q, y
            first_week[op.key, c.key] = begin
            rows.append(({q: 1.0, y: -float(top)}, -INF, 0.0))
            rows.append(({q: 1.0, y: -float(lot)}, 0.0, INF))
            demand[q] = 1.0
            setups[y] = 1.0
        if not demand:
            return Bound("infeasible", None, time.perf_counter() - start, 0, 0)
        rows.append((demand, float(op.quantity), float(op.quantity)))
        rows.append((setups, -INF, float(op.max_suppliers)))
    ends = {op.key: windows[op.key][1] for op in problem.operations}
    by_cap: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (o, c_key), q in q_of.items():
        by_cap[c_key].append((o, q))
    caps = {c.key: c for c in problem.capabilities}
    for c_key, items in by_cap.items():
        capacity = caps[c_key].capacity
        for t in range(problem.weeks):
            done_by = {q: 1.0 for o, q in items if ends[o] <= t}
            if done_by:
                rows.append((done_by, -INF, float(sum(capacity[: t + 1]))))
            later = {q: 1.0 for o, q in items if first_week[o, c_key] >= t}
            if later and t > 0:
                rows.append((later, -INF, float(sum(capacity[t:]))))
    if problem.newcomer_share > 0:
        total = sum(op.quantity for op in problem.operations)
        newcomers = {q: 1.0 for (_o, c_key), q in q_of.items() if caps[c_key].newcomer}
        rows.append((newcomers, float(newcomer_units(problem.newcomer_share, total)), INF))
    op_order = {op.key: op.order for op in problem.operations}
    for order in problem.orders:
        if order.budget is not None:
            spend: dict[int, float] = {}
            for (o, c_key), q in q_of.items():
                if op_order[o] == order.key:
                    spend[q] = float(caps[c_key].unit_cost)
                    spend[y_of[o, c_key]] = float(caps[c_key].setup_cost)
            rows.append((spend, -INF, float(order.budget)))
    h = quiet_highs(time_limit=time_limit)
    n = len(cost)
    h.addVars(n, np.zeros(n), np.array(upper, dtype=np.float64))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), np.array(cost, dtype=np.float64))
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    for terms, _lo, _hi in rows:
        starts.append(len(index))
        index.extend(terms)
        value.extend(terms.values())
    h.addRows(
        len(rows),
        np.array([r[1] for r in rows], dtype=np.float64),
        np.array([r[2] for r in rows], dtype=np.float64),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=np.float64),
    )
    h.run()
    seconds = time.perf_counter() - start
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return Bound(h.modelStatusToString(h.getModelStatus()).lower(), None, seconds, n, len(rows))
    return Bound("optimal", h.getInfo().objective_function_value, seconds, n, len(rows))
