"""The allocation model as a mixed-integer programme for HiGHS. Pure: no Django.

One model serves both solvers: the CP-SAT model (`solver.build`) is read back from its proto — linear
constraints (enforcement literals become big-M terms from the variables' bounds), `bool_or` / `bool_and`
implications, integer domains as bounds, and the objective — and handed to HiGHS as a MIP. The model is mostly
linear (quantities, capacities, setups), where HiGHS's LP-based branch and bound proves some optima that CP-SAT
needs seconds for; GAP's portfolio (`gap.py`) uses it the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from agglo.factory.highs import quiet_highs

INF = highspy.kHighsInf
KINDS = ("linear", "bool_or", "bool_and", "at_most_one", "exactly_one")


def _literal(ref: int) -> tuple[int, float, float]:
    """A literal as (variable, coefficient, constant): ref ≥ 0 is the variable, else its negation 1 − x."""
    return (ref, 1.0, 0.0) if ref >= 0 else (-ref - 1, -1.0, 1.0)


@dataclass(frozen=True)
class MipOutcome:
    status: str  # optimal | feasible | infeasible | unknown
    values: list[float] | None
    objective: float
    bound: float | None
    first_s: float | None


def run_mip(proto: Any, *, time_limit: float, threads: int | None = None) -> MipOutcome:
    """Solve the model as a MIP, starting from its solution hint when it has one."""
    start = time.perf_counter()
    h, scale, offset, _rows = to_highs(proto, integral=True, time_limit=time_limit, threads=threads)
    hint = proto.solution_hint
    if len(hint.vars):
        h.setSolution(
            len(hint.vars), np.array(list(hint.vars), dtype=np.int32), np.array(list(hint.values), dtype=float)
        )
    h.run()
    model_status = h.getModelStatus()
    info = h.getInfo()
    seconds = time.perf_counter() - start
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if model_status == highspy.HighsModelStatus.kInfeasible:
        return MipOutcome("infeasible", None, 0.0, None, None)
    if not has_solution:
        return MipOutcome("unknown", None, 0.0, None, None)
    values = list(h.getSolution().col_value)
    status = "optimal" if model_status == highspy.HighsModelStatus.kOptimal else "feasible"
    return MipOutcome(
        status,
        values,
        scale * (info.objective_function_value + offset),
        scale * (info.mip_dual_bound + offset),
        seconds if not len(hint.vars) else 0.0,
    )


def to_highs(
    proto: Any, *, integral: bool, time_limit: float, threads: int | None = None
) -> tuple[highspy.Highs, float, float, int]:
    """A HiGHS instance holding the model; with the objective's scale and offset, and the number of rows."""
    n = len(proto.variables)
    lower = np.array([v.domain[0] for v in proto.variables], dtype=float)
    # (the proto wrapper does not index from the end: domain[-1] is not the last element)
    upper = np.array([v.domain[len(v.domain) - 1] for v in proto.variables], dtype=float)
    starts, index, value, row_lo, row_hi = [0], [], [], [], []

    def add_row(terms: dict[int, float], lo: float, hi: float) -> None:
        for var, coef in terms.items():
            if coef:
                index.append(var)
                value.append(coef)
        starts.append(len(index))
        row_lo.append(lo)
        row_hi.append(hi)

    for ct in proto.constraints:
        kind = next((k for k in KINDS if getattr(ct, f"has_{k}")()), "other")
        enforcement = [_literal(r) for r in ct.enforcement_literal]
        if kind == "linear":
            terms: dict[int, float] = {}
            constant = 0.0
            for ref, coef in zip(ct.linear.vars, ct.linear.coeffs, strict=True):
                var, sign, const = _literal(ref)
                terms[var] = terms.get(var, 0.0) + coef * sign
                constant += coef * const
            domain = ct.linear.domain
            lo, hi = domain[0] - constant, domain[len(domain) - 1] - constant
            low_act = sum(min(c * lower[v], c * upper[v]) for v, c in terms.items())
            high_act = sum(max(c * lower[v], c * upper[v]) for v, c in terms.items())
            if not enforcement:
                add_row(terms, lo if lo > -1e18 else -INF, hi if hi < 1e18 else INF)
                continue
            # enforced only when every enforcement literal is 1: relax by big-M × (number of literals at 0)
            for bound, slack in ((hi, high_act - hi), (lo, low_act - lo)):
                if abs(bound) > 1e18 or (slack <= 0 if bound == hi else slack >= 0):
                    continue
                row = dict(terms)
                shift = 0.0
                for var, sign, const in enforcement:
                    # Σ(1 − lit) = Σ(1 − const − sign·x)
                    row[var] = row.get(var, 0.0) + slack * sign
                    shift += slack * (1 - const)
                if bound == hi:
                    add_row(row, -INF, hi + shift)
                else:
                    add_row(row, lo + shift, INF)
        elif kind in ("bool_or", "bool_and"):
            literals = [_literal(r) for r in (ct.bool_or.literals if kind == "bool_or" else ct.bool_and.literals)]
            groups = [literals] if kind == "bool_or" else [[lit] for lit in literals]
            for group in groups:
                # Σ lit ≥ 1 − Σ(1 − enforcement)
                row = {}
                rhs = 1.0 - len(enforcement)
                for var, sign, const in group:
                    row[var] = row.get(var, 0.0) + sign
                    rhs -= const
                for var, sign, const in enforcement:
                    row[var] = row.get(var, 0.0) - sign
                    rhs -= const
                add_row(row, rhs, INF)
        elif kind in ("at_most_one", "exactly_one"):
            literals = [_literal(r) for r in getattr(ct, kind).literals]
            row = {}
            constant = 0.0
            for var, sign, const in literals:
                row[var] = row.get(var, 0.0) + sign
                constant += const
            add_row(row, 1 - constant if kind == "exactly_one" else -INF, 1 - constant)
        else:
            raise ValueError(f"constraint kind {kind!r} has no linear relaxation here")
    cost = np.zeros(n)
    for ref, coef in zip(proto.objective.vars, proto.objective.coeffs, strict=True):
        var, sign, const = _literal(ref)
        cost[var] += coef * sign
    offset = proto.objective.offset + sum(
        coef * _literal(ref)[2] for ref, coef in zip(proto.objective.vars, proto.objective.coeffs, strict=True)
    )
    scale = proto.objective.scaling_factor or 1.0
    h = quiet_highs(time_limit=time_limit, threads=threads)
    h.addVars(n, lower, upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    h.addRows(
        len(row_lo),
        np.array(row_lo, dtype=float),
        np.array(row_hi, dtype=float),
        len(index),
        np.array(starts[:-1], dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value, dtype=float),
    )
    if integral:
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger))
    return h, scale, offset, len(row_lo)
