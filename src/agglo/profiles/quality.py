"""The per-organization data-quality score shown to the owner, with what to fix to raise it. Pure.

score = 40 % completeness + 30 % freshness + 30 % verification, each part in [0, 1], shown as 0–100.

- completeness: the share of expected items present — the profile's basic fields, a financial statement for last
  year, a credit rating, at least one capability, at least one IP asset (firms and research bodies only).
- freshness: the share of facts still within their validity (all facts fresh when there are none yet scores 0,
  so an empty profile does not look fresh).
- verification: the share of facts an operator or a bank verified (an "audited" mark is the owner's own).

Each fix names what to do and how many points it would add, largest first.
"""

from __future__ import annotations

from dataclasses import dataclass

WEIGHTS = {"completeness": 0.4, "freshness": 0.3, "verification": 0.3}


@dataclass(frozen=True)
class QualityInput:
    basic_fields_filled: int
    basic_fields_total: int
    has_last_year_statement: bool
    has_valid_rating: bool
    capability_count: int
    ip_count: int
    expects_ip: bool
    facts_total: int
    facts_stale: int
    facts_verified: int
    basic_missing: tuple[str, ...] = ()  # the basic fields still empty, by name


@dataclass(frozen=True)
class Fix:
    code: str
    points: float
    count: int = 0
    missing: tuple[str, ...] = ()  # which basic fields are empty, for "basic_fields"


@dataclass(frozen=True)
class QualityScore:
    score: float
    completeness: float
    freshness: float
    verification: float
    fixes: tuple[Fix, ...]


def _items(q: QualityInput) -> list[tuple[str, float, float]]:
    """(code, achieved, possible) for every completeness item; basic fields count as one item in parts."""
    basic = q.basic_fields_filled / q.basic_fields_total if q.basic_fields_total else 1.0
    items = [
        ("basic_fields", basic, 1.0),
        ("last_year_statement", float(q.has_last_year_statement), 1.0),
        ("rating", float(q.has_valid_rating), 1.0),
        ("capabilities", float(q.capability_count > 0), 1.0),
    ]
    if q.expects_ip:
        items.append(("ip", float(q.ip_count > 0), 1.0))
    return items


def score(q: QualityInput) -> QualityScore:
    items = _items(q)
    possible = sum(p for _, _, p in items)
    completeness = sum(a for _, a, _ in items) / possible
    fresh = q.facts_total - q.facts_stale
    freshness = fresh / q.facts_total if q.facts_total else 0.0
    verification = q.facts_verified / q.facts_total if q.facts_total else 0.0
    total = (
        WEIGHTS["completeness"] * completeness
        + WEIGHTS["freshness"] * freshness
        + WEIGHTS["verification"] * verification
    )
    fixes = [
        Fix(
            code,
            round(100 * WEIGHTS["completeness"] * (p - a) / possible, 1),
            missing=q.basic_missing if code == "basic_fields" else (),
        )
        for code, a, p in items
        if a < p
    ]
    if q.facts_stale:
        fixes.append(Fix("stale", round(100 * WEIGHTS["freshness"] * q.facts_stale / q.facts_total, 1), q.facts_stale))
    unverified = q.facts_total - q.facts_verified
    if unverified:
        fixes.append(
            Fix("unverified", round(100 * WEIGHTS["verification"] * unverified / q.facts_total, 1), unverified)
        )
    fixes.sort(key=lambda f: (-f.points, f.code))
    return QualityScore(
        score=round(100 * total, 1),
        completeness=round(completeness, 3),
        freshness=round(freshness, 3),
        verification=round(verification, 3),
        fixes=tuple(fixes),
    )
