"""Virtual-factory benchmark, first part: the solver core against the published GAP optima.

`gap_optimal_share`: share of the 60 OR-Library problems gap1–gap12 whose minimum-cost optimum (optima.csv,
`opt_min`) the solver reaches and proves, each with a 10 s limit; `gap_max_s` the slowest of them.
`gapabcd_mean_gap_pct` / `gapabcd_max_gap_pct`: for the 24 problems gapa–gapd (Chu & Beasley), the solver's
objective above `best_known_min`, in percent, after `--gap-time-limit` seconds each (default 60).
The data are ../shared/data/gap (see its SOURCE.md); AGGLO_GAP_DATA points elsewhere.
"""

from __future__ import annotations

import csv
import os
import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track

from agglo.factory.gap import check_assignment, parse_gap, solve_gap

SMALL_LIMIT_S = 10.0


def data_dir() -> Path:
    """AGGLO_GAP_DATA, else `shared/data/gap` beside the repository, else the shared folder of this machine."""
    if os.environ.get("AGGLO_GAP_DATA"):
        return Path(os.environ["AGGLO_GAP_DATA"])
    beside = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "gap"
    return beside if beside.exists() else Path("/work/shared/data/gap")


def run(gap_time_limit: float, err: Console) -> dict[str, Any]:
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
        # The platform-sized synthetic allocation case (2,000 operations × 300 factories × 12 weeks) and its
        # greedy baseline come with the allocation solver; not built yet.
        "synthetic": None,
        "baseline": None,
        "instances": instances,
    }
