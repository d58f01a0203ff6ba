"""Virtual-factory benchmark, first part: the solver core against the published GAP optima.

`gap_optimal_share`: share of the 60 OR-Library problems gap1–gap12 whose minimum-cost optimum (optima.csv,
`opt_min`) the solver reaches and proves, each with a 10 s limit; `gap_max_s` the slowest of them.
`gapabcd_mean_gap_pct` / `gapabcd_max_gap_pct`: for the 24 problems gapa–gapd (Chu & Beasley), the solver's
objective above `best_known_min`, in percent, after `--gap-time-limit` seconds each (default 60).
The data are ../shared/data/gap (see its SOURCE.md); AGGLO_GAP_DATA points elsewhere.

The platform-sized case (agglo.factory.synthetic: about 2,000 operations in whole orders × 300 factories × 12
weeks, seeded) is planned by the greedy allocator (`baseline`), then improved by large neighbourhood search
(agglo.factory.lns: CP-SAT re-plans two orders at a time against the capacity the others leave, over each
operation's 5 cheapest capabilities, 10 in the second half), all within
`--synthetic-time-limit` seconds (default 120), which also includes computing the lower bound
(agglo.factory.bound, a HiGHS linear programme). `synthetic_first_feasible_s` is the time to the first valid plan
(the greedy's); `synthetic_gap_pct` is the final plan's distance to that bound; `synthetic_cost` is the plan's
production + setups + risk + lateness, recomputed by `allocation.evaluate`, which also checks every rule
(`synthetic_violations`). `synthetic_untimed_greedy_cost`, computed after the limit, is the cost of the
greedy's plan for the same case without its timing (`allocation.untimed`: no precedence, every order due in
the last week): it shows how much of the gap is timing, which the bound does not see.
"""

from __future__ import annotations

import csv
import os
import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track

from agglo.factory.allocation import evaluate, untimed
from agglo.factory.bound import lower_bound
from agglo.factory.gap import GapFormatError, check_assignment, parse_gap, solve_gap
from agglo.factory.greedy import GreedyStuck, greedy_plan
from agglo.factory.lns import Neighbourhood, improve
from agglo.factory.synthetic import synthetic_case

SMALL_LIMIT_S = 10.0
# The search's two halves. First: two orders per step, each operation's 5 cheapest capabilities (plus those in
# use), 0.4 s of CP-SAT. Of the settings tried for 60 s from the greedy plan (12/0.6, 8/0.4, 6/0.3, 8/0.25, 4/0.2,
# 5/0.4, 3/0.4 with 2 orders; 5/0.3 with 1; 5/0.4 with 3; 5/0.6 with 4), 5/0.4 with 2 orders came out cheapest:
# small, quickly proven steps. After them the 5 cheapest are mostly full and every pair of orders is settled, so
# the second half frees half the operations of 6 orders over 10 capabilities for 0.5 s: part of more orders, as
# CP-SAT's own random-variable neighbourhoods do. At the plateau this saved about four times as much per minute as
# whole pairs over 10 (the previous second half), and more than 4 orders at 0.7, 8 at 0.5, 10 at 0.3 or 12 at
# 0.25 (informal trials at 01a5149, not kept).
PHASES = (
    Neighbourhood(orders=2, seconds=0.4, candidates=5),
    Neighbourhood(orders=6, seconds=0.5, candidates=10, free_share=0.5),
)


def data_dir() -> Path:
    """AGGLO_GAP_DATA, else `shared/data/gap` beside the repository, else the shared folder of this machine."""
    if os.environ.get("AGGLO_GAP_DATA"):
        return Path(os.environ["AGGLO_GAP_DATA"])
    beside = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "gap"
    return beside if beside.exists() else Path("/work/shared/data/gap")


def run(gap_time_limit: float, synthetic_time_limit: float, err: Console, *, gap: bool = True) -> dict[str, Any]:
    result = run_gap(gap_time_limit, err) if gap else {"metrics": {}, "instances": []}
    synthetic, baseline = run_synthetic(synthetic_time_limit, err)
    result["metrics"].update(synthetic)
    result["baseline"] = baseline
    result["ratio"] = {
        "synthetic_cost": round(synthetic["synthetic_cost"] / baseline["synthetic_cost"], 4)
        if synthetic.get("synthetic_cost") and baseline.get("synthetic_cost")
        else None
    }
    return result


def run_synthetic(time_limit: float, err: Console) -> tuple[dict[str, Any], dict[str, Any]]:
    """Greedy, then the bound, then large neighbourhood search from the greedy plan, within `time_limit`."""
    case = synthetic_case()
    problem = case.problem
    err.print(
        f"synthetic: {len(problem.operations)} operations in {case.orders} orders, "
        f"{len({c.factory for c in problem.capabilities})} factories, {problem.weeks} weeks; "
        f"limit {time_limit:g} s"
    )
    start = time.perf_counter()
    plan = greedy_plan(problem)
    greedy_s = time.perf_counter() - start
    greedy_costs, greedy_errors = evaluate(problem, plan)
    bound = lower_bound(problem, time_limit=max(1.0, time_limit - greedy_s - 10))
    left = time_limit - (time.perf_counter() - start)
    search = improve(
        problem,
        plan,
        time_limit=max(0.0, left),
        phases=PHASES,
    )
    costs, errors = evaluate(problem, search.placements)
    seconds = time.perf_counter() - start
    # Outside the limit, to read the gap: the greedy on the case without its timing. The bound sits near this
    # relaxation's cost, so it sees next to nothing of what precedence and due dates cost.
    relaxed = untimed(problem)
    try:
        untimed_cost: int | None = evaluate(relaxed, greedy_plan(relaxed))[0].total
    except GreedyStuck:
        untimed_cost = None
    gap = 100.0 * (costs.total - bound.value) / costs.total if bound.value is not None else None
    metrics = {
        "synthetic_operations": len(problem.operations),
        "synthetic_orders": case.orders,
        "synthetic_factories": len({c.factory for c in problem.capabilities}),
        "synthetic_weeks": problem.weeks,
        # The greedy plan is valid: it is the pipeline's first feasible plan.
        "synthetic_first_feasible_s": round(greedy_s, 3),
        "synthetic_gap_pct": round(gap, 3) if gap is not None else None,
        "synthetic_bound": round(bound.value, 1) if bound.value is not None else None,
        "synthetic_bound_s": round(bound.seconds, 3),
        "synthetic_cost": costs.total,
        "synthetic_cost_parts": vars(costs),
        "synthetic_violations": len(errors),
        "synthetic_time_limit_s": time_limit,
        "synthetic_seconds": round(seconds, 3),
        "synthetic_untimed_greedy_cost": untimed_cost,
        "synthetic_search_steps": search.steps,
        "synthetic_search_improved": search.improved,
        "synthetic_search_phases": [
            {**vars(phase), "steps": steps} for phase, steps in zip(PHASES, search.steps_per_phase, strict=True)
        ],
    }
    baseline = {
        "synthetic_cost": greedy_costs.total,
        "synthetic_cost_parts": vars(greedy_costs),
        "synthetic_violations": len(greedy_errors),
        "greedy_s": round(greedy_s, 3),
    }
    return metrics, baseline


OPTIMA_COLUMNS = ("file", "opt_min", "best_known_min")


def _optima(folder: Path) -> list[dict[str, str]]:
    """optima.csv's rows, each with the columns the benchmark reads and its figure a whole number."""
    with (folder / "optima.csv").open(encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in OPTIMA_COLUMNS if c not in (reader.fieldnames or [])]
        rows = list(reader)
    if missing:
        raise GapFormatError(f"optima.csv: no column {', '.join(missing)}")
    for number, row in enumerate(rows, start=2):
        figure = row["opt_min"] if row["file"].startswith("cattrysse1994/") else row["best_known_min"]
        if not (figure or "").strip().lstrip("-").isdigit():
            raise GapFormatError(f"optima.csv row {number}: {row['file']} has no whole-number optimum ({figure!r})")
    return rows


def run_gap(gap_time_limit: float, err: Console) -> dict[str, Any]:
    folder = data_dir()
    rows = _optima(folder)
    small = [r for r in rows if r["file"].startswith("cattrysse1994/")]
    large = [r for r in rows if r["file"].startswith("chu1997/")]
    if not small or not large:
        raise GapFormatError("optima.csv lists no cattrysse1994/ (gap1–gap12) or no chu1997/ (gapa–gapd) problems")
    instances: list[dict[str, Any]] = []
    for row in track(small, description="gap1–gap12", console=err, transient=True):
        problem = parse_gap((folder / row["file"]).read_text(encoding="utf-8"))
        result = solve_gap(problem, time_limit=SMALL_LIMIT_S)
        value = check_assignment(problem, result.assignment)
        instances.append(
            {
                "file": row["file"],
                "objective": value,
                "opt_min": int(row["opt_min"]),
                "optimal": result.status == "optimal" and value == int(row["opt_min"]),
                "seconds": round(result.seconds, 3),
            }
        )
    err.print(f"gapa–gapd: {len(large)} problems × {gap_time_limit:g} s")
    for row in track(large, description="gapa–gapd", console=err, transient=True):
        problem = parse_gap((folder / row["file"]).read_text(encoding="utf-8"))
        result = solve_gap(problem, time_limit=gap_time_limit)
        value = check_assignment(problem, result.assignment) if result.assignment else None
        best = int(row["best_known_min"])
        instances.append(
            {
                "file": row["file"],
                "objective": value,
                "bound": result.bound,
                "best_known_min": best,
                "gap_pct": round(100 * (value - best) / best, 3) if value is not None else None,
                "seconds": round(result.seconds, 3),
            }
        )
    solved = [i for i in instances if "opt_min" in i]
    gaps = [i["gap_pct"] for i in instances if "best_known_min" in i]
    return {
        "metrics": {
            "gap_optimal_share": round(sum(i["optimal"] for i in solved) / len(solved), 4),
            "gap_max_s": max(i["seconds"] for i in solved),
            "gap_mean_s": round(statistics.fmean(i["seconds"] for i in solved), 3),
            "gapabcd_mean_gap_pct": round(statistics.fmean(g for g in gaps if g is not None), 3)
            if all(g is not None for g in gaps)
            else None,
            "gapabcd_max_gap_pct": max(gaps) if all(g is not None for g in gaps) else None,
            "gapabcd_time_limit_s": gap_time_limit,
        },
        "instances": instances,
    }
