"""A factory's chance of failing a job, from its credit grade and its delivery record. Pure: no Django.

Credit grades map to rough default rates (AAA 1 % … C 40 %; none: 5 %). The record counts once the factory has
delivered or withdrawn accepted work (the scorecard counts a withdrawal as not on time): half its late share plus
its defect rate. With both, the two are averaged, weighting the record more as
it grows (full weight from 10 delivered jobs), so a newcomer is judged mostly on credit.
"""

from __future__ import annotations

GRADE_RISK = {"AAA": 0.01, "AA": 0.02, "A": 0.03, "BBB": 0.05, "BB": 0.08, "B": 0.12, "CCC": 0.2, "CC": 0.3, "C": 0.4}
UNRATED = 0.05
FULL_RECORD = 10


def failure_risk(grade: str | None, jobs: int, on_time_rate: float | None, defect_rate: float | None) -> float:
    """A probability in [0, 1]."""
    credit = GRADE_RISK.get(grade or "", UNRATED)
    if jobs <= 0:
        return credit
    record = min(1.0, 0.5 * (1 - (on_time_rate if on_time_rate is not None else 1.0)) + (defect_rate or 0.0))
    weight = min(1.0, jobs / FULL_RECORD)
    return (1 - weight) * credit + weight * record  # rounded only where shown or published (page, API)
