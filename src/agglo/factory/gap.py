"""The Generalized Assignment Problem (GAP): give each job to one agent, within each agent's capacity, at least
cost (or most profit). It is the textbook form of the virtual factory's allocation, and the solver core is
checked against its published optima (OR-Library gap1–gap12, gapa–gapd). Pure: no Django.

File format (OR-Library, one problem per file): `m n`, then the m×n costs, the m×n resource uses, the m
capacities, all whitespace-separated integers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model


class GapFormatError(ValueError):
    """The text is not a GAP problem; the message says where and why."""


@dataclass(frozen=True)
class GapProblem:
    cost: tuple[tuple[int, ...], ...]  # [agent][job]
    weight: tuple[tuple[int, ...], ...]  # [agent][job]
    capacity: tuple[int, ...]  # [agent]

    @property
    def agents(self) -> int:
        return len(self.capacity)

    @property
    def jobs(self) -> int:
        return len(self.cost[0]) if self.cost else 0


@dataclass(frozen=True)
class GapResult:
    status: str  # optimal | feasible | infeasible | unknown
    objective: int | None
    bound: float | None
    assignment: tuple[int, ...]  # agent (0-based) of each job; empty without a solution
    seconds: float


def parse_gap(text: str) -> GapProblem:
    """Read one problem; GapFormatError names the number that is wrong."""
    tokens = text.split()
    values: list[int] = []
    for position, token in enumerate(tokens, start=1):
        try:
            values.append(int(token))
        except ValueError:
            raise GapFormatError(f"number {position} ({token[:20]!r}) is not an integer") from None
    if len(values) < 2:
        raise GapFormatError("the file must start with the number of agents and the number of jobs")
    m, n = values[0], values[1]
    if m < 1 or n < 1:
        raise GapFormatError(f"agents and jobs must be at least 1, got m={m}, n={n}")
    expected = 2 + 2 * m * n + m
    if len(values) != expected:
        raise GapFormatError(
            f"expected {expected} numbers for m={m} agents and n={n} jobs (2 + 2·m·n + m), found {len(values)}"
        )
    body = values[2:]
    cost = tuple(tuple(body[i * n : (i + 1) * n]) for i in range(m))
    weight = tuple(tuple(body[m * n + i * n : m * n + (i + 1) * n]) for i in range(m))
    capacity = tuple(body[2 * m * n :])
    if any(w < 0 for row in weight for w in row) or any(b < 0 for b in capacity):
        raise GapFormatError("resource uses and capacities must not be negative")
    return GapProblem(cost, weight, capacity)


STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
}


def solve_gap(
    problem: GapProblem, *, maximize: bool = False, time_limit: float = 10.0, workers: int | None = None
) -> GapResult:
    """Solve with CP-SAT within `time_limit` seconds; the bound is the solver's proven best possible objective."""
    start = time.perf_counter()
    model = cp_model.CpModel()
    m, n = problem.agents, problem.jobs
    # A job that does not fit an agent at all never goes there: fewer variables.
    x = {
        (i, j): model.new_bool_var(f"x{i}_{j}")
        for i in range(m)
        for j in range(n)
        if problem.weight[i][j] <= problem.capacity[i]
    }
    for j in range(n):
        options = [x[i, j] for i in range(m) if (i, j) in x]
        if not options:
            return GapResult("infeasible", None, None, (), time.perf_counter() - start)
        model.add_exactly_one(options)
    for i in range(m):
        model.add(sum(problem.weight[i][j] * x[i, j] for j in range(n) if (i, j) in x) <= problem.capacity[i])
    objective = sum(problem.cost[i][j] * var for (i, j), var in x.items())
    if maximize:
        model.maximize(objective)
    else:
        model.minimize(objective)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    # One worker per core: on small machines more workers only share the same cores (measured on gap1–gap12).
    solver.parameters.num_workers = workers or os.cpu_count() or 1
    code = solver.solve(model)
    seconds = time.perf_counter() - start
    status = STATUS.get(code, "unknown")
    if status not in ("optimal", "feasible"):
        return GapResult(status, None, None, (), seconds)
    assignment = tuple(next(i for i in range(m) if (i, j) in x and solver.value(x[i, j])) for j in range(n))
    return GapResult(status, round(solver.objective_value), solver.best_objective_bound, assignment, seconds)


def check_assignment(problem: GapProblem, assignment: Sequence[int]) -> int:
    """The objective of an assignment after checking it: one agent per job, capacities kept (ValueError if not)."""
    if len(assignment) != problem.jobs:
        raise ValueError(f"{len(assignment)} jobs assigned, the problem has {problem.jobs}")
    load = [0] * problem.agents
    for j, i in enumerate(assignment):
        if not 0 <= i < problem.agents:
            raise ValueError(f"job {j} goes to agent {i}, which does not exist")
        load[i] += problem.weight[i][j]
    over = [i for i in range(problem.agents) if load[i] > problem.capacity[i]]
    if over:
        raise ValueError(f"agents over capacity: {over}")
    return sum(problem.cost[i][j] for j, i in enumerate(assignment))
