"""Virtual-factory benchmark, first part: the solver core against the published GAP optima.

`gap_optimal_share`: share of the 60 OR-Library problems gap1–gap12 whose minimum-cost optimum (optima.csv,
`opt_min`) the solver reaches and proves, each with a 10 s limit; `gap_max_s` the slowest of them.
`gapabcd_mean_gap_pct` / `gapabcd_max_gap_pct`: for the 24 problems gapa–gapd (Chu & Beasley), the solver's
objective above `best_known_min`, in percent, after `--gap-time-limit` seconds each (default 60).
The data are ../shared/data/gap (see its SOURCE.md); AGGLO_GAP_DATA points elsewhere.

The platform-sized case (agglo.factory.synthetic: about 2,000 operations in whole orders × 300 factories × 12
weeks, seeded) is planned twice: by the greedy allocator (`baseline`) and by the CP-SAT solver started from the
greedy plan, with `--synthetic-time-limit` seconds (default 120). `synthetic_first_feasible_s` counts from the
start of planning (greedy included) to the solver's first solution; `synthetic_gap_pct` is the distance to the
solver's own bound at the end; `synthetic_cost` is the plan's cost + setups + risk + lateness, recomputed from
the plan by `allocation.evaluate`, which also checks every rule (`synthetic_violations`).
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

from agglo.factory.allocation import evaluate
from agglo.factory.gap import check_assignment, parse_gap, solve_gap
from agglo.factory.greedy import greedy_plan
from agglo.factory.solver import solve
from agglo.factory.synthetic import synthetic_case

SMALL_LIMIT_S = 10.0
CANDIDATES = 10  # per operation, the cheapest eligible capabilities the solver considers (plus the greedy's)


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
    """Greedy, then the solver from the greedy plan, on the seeded platform-sized case."""
    case = synthetic_case()
    problem = case.problem
    err.print(
        f"synthetic: {len(problem.operations)} operations in {case.orders} orders, "
        f"{len({c.factory for c in problem.capabilities})} factories, {problem.weeks} weeks; "
        f"solver limit {time_limit:g} s"
    )
    start = time.perf_counter()
    plan = greedy_plan(problem)
    greedy_s = time.perf_counter() - start
    greedy_costs, greedy_errors = evaluate(problem, plan)
    result = solve(problem, time_limit=time_limit, hint=plan, candidate_limit=CANDIDATES, clock=time.perf_counter)
    costs, errors = evaluate(problem, result.placements) if result.placements else (None, ["no plan"])
    metrics = {
        "synthetic_operations": len(problem.operations),
        "synthetic_factories": len({c.factory for c in problem.capabilities}),
        "synthetic_weeks": problem.weeks,
        "synthetic_status": result.status,
        "synthetic_first_feasible_s": round(greedy_s + result.first_feasible_s, 3)
        if result.first_feasible_s is not None
        else None,
        "synthetic_gap_pct": round(result.gap_pct, 3) if result.gap_pct is not None else None,
        "synthetic_cost": costs.total if costs else None,
        "synthetic_cost_parts": vars(costs) if costs else None,
        "synthetic_violations": len(errors),
        "synthetic_time_limit_s": time_limit,
        "synthetic_seconds": round(greedy_s + result.seconds, 3),
        "synthetic_candidates_per_operation": CANDIDATES,
        "synthetic_model": result.model_size,
    }
    baseline = {
        "synthetic_cost": greedy_costs.total,
        "synthetic_cost_parts": vars(greedy_costs),
        "synthetic_violations": len(greedy_errors),
        "greedy_s": round(greedy_s, 3),
    }
    return metrics, baseline


def run_gap(gap_time_limit: float, err: Console) -> dict[str, Any]:
    folder = data_dir()
    rows = list(csv.DictReader((folder / "optima.csv").open(encoding="utf-8")))
    small = [r for r in rows if r["file"].startswith("cattrysse1994/")]
    large = [r for r in rows if r["file"].startswith("chu1997/")]
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
