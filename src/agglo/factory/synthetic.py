"""A platform-sized allocation case for the benchmark: seeded, documented, no Django.

Orders are assembled products: 2–4 parts, each a short chain of processes (machining → surface treatment,
PCB → SMT, moulding, casting, sheet metal, 3D printing), then final assembly after every part, then testing.
Factories sit mostly in the eastern and southern provinces, run one or two processes each, and have weekly
capacity of which 0–40 % is already booked. Each process's total capacity over the horizon is set to
`capacity_ratio` × its demand, so the case is feasible but contended. Costs differ by process, by factory
(±), and rise with the quality grade; setups are 50–150 units' worth; risk (chance of failure) falls with grade.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace

from agglo.factory.allocation import AllocationProblem, Capability, Operation, OrderTerms, candidates

# process → base unit cost (yuan per capacity unit)
PROCESSES = {
    "cnc": 14,
    "moulding": 4,
    "sheet_metal": 9,
    "casting": 11,
    "printing3d": 30,
    "pcb": 6,
    "smt": 8,
    "surface": 3,
    "assembly": 10,
    "testing": 5,
}
PART_ROUTES = (
    ("cnc", "surface"),
    ("moulding",),
    ("pcb", "smt"),
    ("casting", "cnc"),
    ("sheet_metal", "surface"),
    ("printing3d",),
    ("cnc",),
)
# (province, weight): where factories are
PROVINCES = (
    ("440000", 22),
    ("320000", 18),
    ("330000", 14),
    ("310000", 8),
    ("370000", 7),
    ("350000", 5),
    ("340000", 4),
    ("420000", 4),
    ("510000", 4),
    ("500000", 3),
    ("410000", 3),
    ("430000", 3),
    ("110000", 2),
    ("120000", 2),
    ("210000", 2),
    ("610000", 1),
)
CERTS = (("ISO9001", 0.8), ("IATF16949", 0.2), ("ISO13485", 0.1))


@dataclass(frozen=True)
class SyntheticCase:
    problem: AllocationProblem
    orders: int


def synthetic_case(
    *, operations: int = 2000, factories: int = 300, weeks: int = 12, seed: int = 7, capacity_ratio: float = 2.5
) -> SyntheticCase:
    """About `operations` operations in whole orders, over `factories` factories and `weeks` weeks."""
    rng = random.Random(seed)
    ops: list[Operation] = []
    orders: list[OrderTerms] = []
    n = 0
    while len(ops) < operations:
        n += 1
        order = f"O{n}"
        parts = rng.randint(2, 4)
        quantity = rng.randint(20, 120) * 10
        min_quality = rng.choice((0, 1, 1, 2, 2, 3))
        certs = frozenset({"ISO9001"} if rng.random() < 0.3 else set()) | (
            {"IATF16949"} if rng.random() < 0.05 else set()
        )
        only = frozenset({"440000", "450000", "460000"}) if rng.random() < 0.05 else frozenset()
        excluded = frozenset({"510000", "500000"}) if rng.random() < 0.05 else frozenset()
        max_suppliers = rng.choice((2, 3, 3))
        ends = []
        for part in range(parts):
            route = rng.choice(PART_ROUTES)
            before: tuple[str, ...] = ()
            for step, process in enumerate(route):
                key = f"{order}.{part}.{step}"
                ops.append(
                    Operation(key, order, process, quantity, before, min_quality, certs, max_suppliers, only, excluded)
                )
                before = (key,)
            ends.append(before[0])
        ops.append(
            Operation(
                f"{order}.A",
                order,
                "assembly",
                quantity,
                tuple(ends),
                min_quality,
                certs,
                max_suppliers,
                only,
                excluded,
            )
        )
        ops.append(
            Operation(
                f"{order}.T",
                order,
                "testing",
                quantity,
                (f"{order}.A",),
                min_quality,
                certs,
                max_suppliers,
                only,
                excluded,
            )
        )
        depth = 4
        value = quantity * sum(PROCESSES[o.process] for o in ops if o.order == order)
        orders.append(OrderTerms(order, min(weeks - 1, depth + rng.randint(2, 7)), max(1, value * 3 // 100)))
    demand: dict[str, int] = defaultdict(int)
    for op in ops:
        demand[op.process] += op.quantity
    caps_raw = []
    provinces, weights = zip(*PROVINCES, strict=True)
    names = list(PROCESSES)
    for f in range(factories):
        region = rng.choices(provinces, weights)[0]
        certs = frozenset(c for c, p in CERTS if rng.random() < p)
        newcomer = rng.random() < 0.1
        for process in rng.sample(names, rng.choice((1, 1, 2, 2, 3))):
            quality = rng.choice((1, 2, 2, 3))
            booked = [rng.uniform(0.0, 0.4) for _ in range(weeks)]
            caps_raw.append(
                (
                    f,
                    region,
                    certs,
                    newcomer,
                    process,
                    quality,
                    booked,
                    rng.uniform(0.5, 1.5),
                    rng.uniform(0.85, 1.25),
                    rng.randint(0, 2) if rng.random() < 0.3 else 0,
                )
            )
    share: dict[str, float] = defaultdict(float)
    for raw in caps_raw:
        share[raw[4]] += raw[7] * sum(1 - b for b in raw[6])
    capabilities = []
    for i, (f, region, certs, newcomer, process, quality, booked, size, factor, lead) in enumerate(caps_raw):
        # weekly nominal capacity so that the process's free capacity sums to capacity_ratio × demand
        nominal = capacity_ratio * demand[process] * size / max(share[process], 1e-9)
        unit = max(1, round(PROCESSES[process] * factor * (1 + 0.15 * (quality - 1))))
        capabilities.append(
            Capability(
                key=f"F{f}.{process}.{i}",
                factory=f"F{f}",
                process=process,
                capacity=tuple(int(nominal * (1 - b)) // 10 * 10 for b in booked),
                unit_cost=unit,
                setup_cost=unit * rng.randint(50, 150),
                min_lot=rng.choice((10, 50, 100)),
                quality=quality,
                certifications=certs,
                lead_weeks=lead,
                region=region,
                risk=round(rng.uniform(0.0, 0.12) / quality, 3),
                newcomer=newcomer,
            )
        )
    problem = AllocationProblem(weeks, tuple(ops), tuple(capabilities), tuple(orders))
    return SyntheticCase(_relaxed(problem), len(orders))


def _relaxed(problem: AllocationProblem, least: int = 4) -> AllocationProblem:
    """Drop region rules, then certifications, then quality demands of an order whose operation has fewer than
    `least` eligible capabilities: the case should be hard, not impossible."""
    ops = list(problem.operations)
    for relax in ("regions", "certifications", "quality"):
        cands = candidates(replace(problem, operations=tuple(ops)))
        short = {op.order for op in ops if len(cands[op.key]) < least}
        for i, op in enumerate(ops):
            if op.order in short:
                if relax == "regions":
                    ops[i] = replace(op, regions_only=frozenset(), regions_excluded=frozenset())
                elif relax == "certifications":
                    ops[i] = replace(op, certifications=frozenset())
                else:
                    ops[i] = replace(op, min_quality=0)
    return replace(problem, operations=tuple(ops))
