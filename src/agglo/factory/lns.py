"""Large neighbourhood search over whole orders, for plans too big for one CP-SAT model. Pure: no Django.

From a valid plan, repeatedly free one order and the order that shares the most capabilities with it, keep
everyone else's placements (their capacity is taken), and let CP-SAT re-plan the freed orders from their
current placements; keep the result when it is cheaper. Costs are additive over orders, and capacity is the only
rule that couples orders, so a result that still fits the capacity left by the others keeps the plan valid.
Orders are visited in shuffled sweeps; neighbourhoods are solved two at a time on separate threads (CP-SAT
releases the interpreter lock), each re-checked against the capacity of the moment before it is applied.
Small neighbourhoods over each operation's few cheapest capabilities take the easy gains quickly but then stall
in a plan where every pair of orders is settled and those capabilities are full; later `phases` free part of the
operations of more orders (the rest keep their placements), over more capabilities, to move on from there.
"""

from __future__ import annotations

import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from agglo.factory.allocation import AllocationProblem, Placement, evaluate, newcomer_units
from agglo.factory.solver import AllocationResult, solve


@dataclass(frozen=True)
class Neighbourhood:
    """One search step: free `orders` orders and let CP-SAT re-plan them for `seconds`, each operation over its
    `candidates` cheapest capabilities (None: all) plus those it uses now. With `free_share` below 1, each of
    their operations is freed with that chance and the others keep their placements: part of more orders."""

    orders: int = 2
    seconds: float = 0.4
    candidates: int | None = 5
    free_share: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.free_share <= 1:
            raise ValueError(f"free_share: must be above 0 and at most 1, not {self.free_share}")


@dataclass(frozen=True)
class SearchResult:
    placements: tuple[Placement, ...]
    cost: int
    steps_per_phase: tuple[int, ...]
    improved: int
    seconds: float

    @property
    def steps(self) -> int:
        return sum(self.steps_per_phase)


class _State:
    """The current plan by order, and the capacity it uses per (capability, week)."""

    def __init__(self, problem: AllocationProblem, plan: Sequence[Placement]) -> None:
        self.problem = problem
        self.capacity = {c.key: c.capacity for c in problem.capabilities}
        self.newcomer = {c.key for c in problem.capabilities if c.newcomer}
        self.op_order = {op.key: op.order for op in problem.operations}
        self.ops_of: dict[str, list[str]] = defaultdict(list)
        for op in problem.operations:
            self.ops_of[op.order].append(op.key)
        self.current: dict[str, list[Placement]] = defaultdict(list)
        self.used: dict[tuple[str, int], int] = defaultdict(int)
        self.users: dict[str, set[str]] = defaultdict(set)
        for p in plan:
            self._add(self.op_order[p.operation], p)

    def _add(self, order: str, p: Placement) -> None:
        self.current[order].append(p)
        self.used[p.capability, p.week] += p.quantity
        self.users[p.capability].add(order)

    def subproblem(self, chosen: Sequence[str]) -> tuple[AllocationProblem, list[Placement]]:
        """The chosen orders against what the others leave free, and their current placements as a hint."""
        own: dict[tuple[str, int], int] = defaultdict(int)
        hint = [p for o in chosen for p in self.current[o]]
        for p in hint:
            own[p.capability, p.week] += p.quantity
        capabilities = tuple(
            replace(
                c,
                capacity=tuple(
                    max(0, v - self.used.get((c.key, w), 0) + own.get((c.key, w), 0)) for w, v in enumerate(c.capacity)
                ),
            )
            for c in self.problem.capabilities
        )
        wanted = {k for o in chosen for k in self.ops_of[o]}
        operations = tuple(op for op in self.problem.operations if op.key in wanted)
        share = 0.0
        if self.problem.newcomer_share > 0:
            total = sum(op.quantity for op in self.problem.operations)
            outside = sum(q for (c, _w), q in self.used.items() if c in self.newcomer) - sum(
                p.quantity for p in hint if p.capability in self.newcomer
            )
            inside = sum(op.quantity for op in operations)
            need = newcomer_units(self.problem.newcomer_share, total) - outside
            share = min(1.0, max(0, need) / inside) if inside else 0.0
        keep = set(chosen)
        sub = replace(
            self.problem,
            operations=operations,
            capabilities=capabilities,
            orders=tuple(o for o in self.problem.orders if o.key in keep),
            previous=tuple(p for p in self.problem.previous if p.operation in wanted),
            fixed=tuple(p for p in self.problem.fixed if p.operation in wanted),
            newcomer_share=share,
        )
        return sub, hint

    def apply(self, chosen: Sequence[str], placements: Sequence[Placement]) -> bool:
        """Replace the chosen orders' placements if the new ones fit the capacity left now."""
        old: dict[tuple[str, int], int] = defaultdict(int)
        new: dict[tuple[str, int], int] = defaultdict(int)
        for o in chosen:
            for p in self.current[o]:
                old[p.capability, p.week] += p.quantity
        for p in placements:
            new[p.capability, p.week] += p.quantity
        for (c, w), q in new.items():
            if self.used.get((c, w), 0) - old.get((c, w), 0) + q > self.capacity[c][w]:
                return False
        for o in chosen:
            for p in self.current[o]:
                self.used[p.capability, p.week] -= p.quantity
                self.users[p.capability].discard(o)
            self.current[o] = []
        for p in placements:
            self._add(self.op_order[p.operation], p)
        return True

    def partners(self, order: str, rng: random.Random, busy: set[str], count: int) -> list[str]:
        """The free orders sharing the most capabilities with `order`, most first."""
        shared: dict[str, int] = defaultdict(int)
        for p in self.current[order]:
            for other in self.users[p.capability]:
                if other != order and other not in busy:
                    shared[other] += 1
        return sorted(shared, key=lambda o: (-shared[o], rng.random()))[:count]


def improve(
    problem: AllocationProblem,
    plan: Sequence[Placement],
    *,
    time_limit: float,
    phases: Sequence[Neighbourhood] = (Neighbourhood(),),
    seed: int = 0,
    threads: int | None = None,
    engine: str = "cp-sat",
    clock: Callable[[], float] = time.perf_counter,
) -> SearchResult:
    """Improve `plan` (valid) within `time_limit` seconds; the result is valid and never costs more.

    The time is split evenly among `phases`, taken in turn."""
    if not phases:
        raise ValueError("phases: give at least one neighbourhood")
    start = clock()
    rng = random.Random(seed)
    state = _State(problem, plan)
    orders = sorted(state.ops_of)
    # The newcomer share couples all orders: solve one neighbourhood at a time then.
    lanes = 1 if problem.newcomer_share > 0 else max(1, threads or os.cpu_count() or 1)
    sweep: list[str] = []
    improved = 0
    per_phase = [0] * len(phases)
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        while True:
            elapsed = clock() - start
            index = min(len(phases) - 1, int(elapsed * len(phases) / time_limit)) if time_limit > 0 else 0
            phase = phases[index]
            if elapsed >= time_limit - phase.seconds - 0.3:
                break
            jobs = []
            busy: set[str] = set()
            for _ in range(lanes):
                if not sweep:
                    sweep = list(orders)
                    rng.shuffle(sweep)
                first = sweep.pop()
                if first in busy:
                    continue
                busy.add(first)
                chosen = [first, *state.partners(first, rng, busy, phase.orders - 1)]
                busy.update(chosen)
                sub, hint = state.subproblem(chosen)
                before = evaluate(sub, hint)[0].total
                job = pool.submit(
                    _solve,
                    sub,
                    hint,
                    phase,
                    _kept(sub, phase.free_share, rng),
                    rng.randrange(1 << 30),
                    1 if lanes > 1 else None,
                    engine,
                )
                jobs.append((chosen, sub, before, job))
            for chosen, sub, before, job in jobs:
                result = job.result()
                per_phase[index] += 1
                if result.costs is None or result.costs.total >= before:
                    continue
                if not evaluate(sub, result.placements)[1] and state.apply(chosen, result.placements):
                    improved += 1
    placements = tuple(p for o in orders for p in state.current[o])
    cost = evaluate(problem, placements)[0].total
    return SearchResult(placements, cost, tuple(per_phase), improved, clock() - start)


def _kept(sub: AllocationProblem, free_share: float, rng: random.Random) -> frozenset[str]:
    """The operations that keep their placements in this step: each with chance 1 − `free_share`, never all."""
    if free_share >= 1:
        return frozenset()
    keys = [op.key for op in sub.operations]
    kept = {k for k in keys if rng.random() >= free_share}
    if len(kept) == len(keys):
        kept.discard(rng.choice(keys))
    return frozenset(kept)


def _solve(
    sub: AllocationProblem,
    hint: list[Placement],
    phase: Neighbourhood,
    keep: frozenset[str],
    seed: int,
    workers: int | None,
    engine: str,
) -> AllocationResult:
    return solve(
        sub,
        time_limit=phase.seconds,
        hint=hint,
        candidate_limit=phase.candidates,
        keep=keep,
        seed=seed,
        workers=workers,
        engine=engine,
    )
