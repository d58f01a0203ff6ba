"""The Generalized Assignment Problem (GAP): give each job to one agent, within each agent's capacity, at least
cost (or most profit). It is the textbook form of the virtual factory's allocation, and the solver core is
checked against its published optima (OR-Library gap1–gap12, gapa–gapd). Pure: no Django.

File format (OR-Library, one problem per file): `m n`, then the m×n costs, the m×n resource uses, the m
capacities, all whitespace-separated integers.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from agglo.factory.milp import run_mip

LARGEST = 10**9  # any cost, use or capacity; sums over thousands of jobs stay far inside 64 bits


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
        # Plain digits only (int() would also take "1_0"), and within what the solvers' integers hold.
        if not re.fullmatch(r"[+-]?\d{1,10}", token):
            raise GapFormatError(
                f"number {position} ({token[:20]!r}) is not a whole number written in at most 10 plain digits"
            )
        values.append(int(token))
        if abs(values[-1]) > LARGEST:
            raise GapFormatError(f"number {position} ({token}) is above {LARGEST} in size")
    if len(values) < 2:
        raise GapFormatError("the file must start with the number of agents and the number of jobs")
    m, n = values[0], values[1]
    if m < 1 or n < 1:
        raise GapFormatError(f"agents and jobs must be at least 1, got m={m}, n={n}")
    expected = 2 + 2 * m * n + m
    if len(values) != expected:
        if (problems := _collection(values)) is not None:
            raise GapFormatError(
                f"this is an OR-Library collection of {problems} problems (it starts with their count); "
                "give one problem per file"
            )
        raise GapFormatError(
            f"expected {expected} numbers for m={m} agents and n={n} jobs (2 + 2·m·n + m), found {len(values)}"
        )
    # resource uses, then capacities: none negative (numbers are counted from 1, as the errors above count them)
    first = 2 + m * n
    negative = next((i for i in range(first, expected) if values[i] < 0), None)
    if negative is not None:
        what = "a capacity" if negative >= first + m * n else "a resource use"
        raise GapFormatError(f"number {negative + 1} ({values[negative]}) is {what}, which must not be negative")
    body = values[2:]
    cost = tuple(tuple(body[i * n : (i + 1) * n]) for i in range(m))
    weight = tuple(tuple(body[m * n + i * n : m * n + (i + 1) * n]) for i in range(m))
    capacity = tuple(body[2 * m * n :])
    return GapProblem(cost, weight, capacity)


def _collection(values: list[int]) -> int | None:
    """How many problems `values` holds if it is a whole OR-Library file (a count, then the problems one after
    another), else None."""
    count, at = values[0], 1
    for _ in range(max(count, 0)):
        if at + 1 >= len(values) or values[at] < 1 or values[at + 1] < 1:
            return None
        at += 2 + 2 * values[at] * values[at + 1] + values[at]
    return count if count > 1 and at == len(values) else None


STATUS = {
    cp_model.OPTIMAL: "optimal",
    cp_model.FEASIBLE: "feasible",
    cp_model.INFEASIBLE: "infeasible",
}


def solve_gap(
    problem: GapProblem, *, maximize: bool = False, time_limit: float = 10.0, workers: int | None = None
) -> GapResult:
    """Solve within `time_limit` seconds; the bound is the best objective proven possible.

    A small portfolio on one model: CP-SAT first (a tenth of the time, at least 2 s — enough for gap1–gap12);
    if it has not proven optimality, HiGHS (LP-based branch and bound, see `milp`) continues from CP-SAT's best
    for half of what is left, `agent_search` improves the better of the two until the last tenth (at most 5 s),
    and CP-SAT finishes from its result. On the type-d problems HiGHS's bound and the agent search close gaps
    CP-SAT alone leaves open (docs/benchmarks.md)."""
    start = time.perf_counter()
    built = _gap_model(problem, maximize)
    if built is None:
        return GapResult("infeasible", None, None, (), time.perf_counter() - start)
    model, x = built

    def better(a: int, b: int) -> bool:
        return a > b if maximize else a < b

    best = _cp_phase(model, x, problem, min(time_limit, max(2.0, 0.1 * time_limit)), workers)
    if best.status in ("optimal", "infeasible") or time_limit - (time.perf_counter() - start) < 1.0:
        return _timed(best, start)
    bounds = [best.bound] if best.bound is not None else []
    if best.assignment:
        _hint_assignment(model, x, best.assignment)
    outcome = run_mip(model.proto, time_limit=0.5 * (time_limit - (time.perf_counter() - start)), threads=workers)
    if outcome.bound is not None:
        bounds.append(outcome.bound)
    if outcome.values is not None:
        assignment = tuple(
            next(i for i in range(problem.agents) if (i, j) in x and outcome.values[x[i, j].index] > 0.5)
            for j in range(problem.jobs)
        )
        value = round(outcome.objective)
        if best.objective is None or better(value, best.objective):
            best = GapResult("feasible", value, None, assignment, 0.0)
    # Neighbourhood search on the best assignment, keeping a last stretch for CP-SAT to finish from it.
    finish = min(5.0, 0.1 * time_limit)
    if best.assignment and time_limit - (time.perf_counter() - start) > finish + 1.0:
        searched = agent_search(problem, best.assignment, maximize=maximize, until=start + time_limit - finish)
        value = check_assignment(problem, searched)
        if best.objective is None or better(value, best.objective):
            best = GapResult("feasible", value, None, searched, 0.0)
    if best.assignment:
        _hint_assignment(model, x, best.assignment)
    left = time_limit - (time.perf_counter() - start)
    if left > 0.5:
        final = _cp_phase(model, x, problem, left, workers)
        if final.bound is not None:
            bounds.append(final.bound)
        if final.objective is not None and (best.objective is None or not better(best.objective, final.objective)):
            best = final
    bound = (min(bounds) if maximize else max(bounds)) if bounds else None
    proven = best.objective is not None and bound is not None and abs(best.objective - bound) < 0.5
    return GapResult(
        "optimal" if proven else best.status, best.objective, bound, best.assignment, time.perf_counter() - start
    )


def agent_search(
    problem: GapProblem, assignment: Sequence[int], *, maximize: bool = False, until: float
) -> tuple[int, ...]:
    """Improve a feasible assignment until `time.perf_counter()` reaches `until`: again and again take 2–5 random
    agents with all their jobs and reassign those jobs among them optimally (the same model, on that corner of the
    problem). Moves that chain jobs across several agents — what one-job shifts and swaps cannot reach on tight
    problems — are inside one step. The result is feasible and never worse."""
    rng = random.Random(0)
    current = list(assignment)
    while time.perf_counter() < until:
        agents = rng.sample(range(problem.agents), min(problem.agents, rng.randint(2, 5)))
        jobs = [j for j in range(problem.jobs) if current[j] in agents]
        corner = GapProblem(
            tuple(tuple(problem.cost[i][j] for j in jobs) for i in agents),
            tuple(tuple(problem.weight[i][j] for j in jobs) for i in agents),
            tuple(problem.capacity[i] for i in agents),
        )
        built = _gap_model(corner, maximize) if jobs else None
        if built is None:
            continue
        model, x = built
        _hint_assignment(model, x, [agents.index(current[j]) for j in jobs])
        limit = max(0.01, min(0.5, until - time.perf_counter()))
        result = _cp_phase(model, x, corner, limit, workers=1)
        before = sum(problem.cost[current[j]][j] for j in jobs)
        if result.objective is not None and (result.objective > before if maximize else result.objective < before):
            for k, j in enumerate(jobs):
                current[j] = agents[result.assignment[k]]
    return tuple(current)


def _gap_model(problem: GapProblem, maximize: bool) -> tuple[cp_model.CpModel, dict[tuple[int, int], Any]] | None:
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
            return None
        model.add_exactly_one(options)
    for i in range(m):
        model.add(sum(problem.weight[i][j] * x[i, j] for j in range(n) if (i, j) in x) <= problem.capacity[i])
    objective = sum(problem.cost[i][j] * var for (i, j), var in x.items())
    if maximize:
        model.maximize(objective)
    else:
        model.minimize(objective)
    return model, x


def _hint_assignment(model: cp_model.CpModel, x: dict[tuple[int, int], Any], assignment: Sequence[int]) -> None:
    model.clear_hints()  # type: ignore[no-untyped-call]
    for (i, j), var in x.items():
        model.add_hint(var, assignment[j] == i)


def _cp_phase(
    model: cp_model.CpModel, x: dict[tuple[int, int], Any], problem: GapProblem, limit: float, workers: int | None
) -> GapResult:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = limit
    # One worker per core: on small machines more workers only share the same cores (measured on gap1–gap12).
    solver.parameters.num_workers = workers or os.cpu_count() or 1
    code = solver.solve(model)
    status = STATUS.get(code, "unknown")
    if status not in ("optimal", "feasible"):
        return GapResult(status, None, None, (), 0.0)
    assignment = tuple(
        next(i for i in range(problem.agents) if (i, j) in x and solver.value(x[i, j])) for j in range(problem.jobs)
    )
    return GapResult(status, round(solver.objective_value), solver.best_objective_bound, assignment, 0.0)


def _timed(result: GapResult, start: float) -> GapResult:
    return GapResult(result.status, result.objective, result.bound, result.assignment, time.perf_counter() - start)


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
