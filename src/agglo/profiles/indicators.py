"""Indicators derived from an organization's financial statements. Pure: plain values in, plain values out.

Formulas (every ratio is a plain fraction, None when an input is missing or the denominator is zero):

- R&D intensity        = R&D expense / revenue
- debt ratio           = total liabilities / total assets
- revenue growth       = (revenue_t - revenue_{t-1}) / |revenue_{t-1}|, only when year t-1 is on record
- net margin           = net profit / revenue
- R&D staff share      = R&D headcount / headcount
- Altman Z''-score     = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4 (Altman 1995, the variant for non-manufacturers
  and emerging markets, without the sales/assets term that varies by industry), where
  X1 = working capital / total assets = (current assets - current liabilities) / total assets,
  X2 = retained earnings / total assets, X3 = EBIT / total assets, X4 = book equity / total liabilities.
  Zones: above 2.6 safe, 1.1 to 2.6 grey, below 1.1 distress.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

Z_SAFE_ABOVE = Decimal("2.6")
Z_DISTRESS_BELOW = Decimal("1.1")
_PLACES = Decimal("0.0001")


class ZZone(StrEnum):
    SAFE = "safe"
    GREY = "grey"
    DISTRESS = "distress"


@dataclass(frozen=True)
class StatementFigures:
    """The figures of one fiscal year that the indicators use; None where not reported."""

    year: int
    revenue: Decimal | None = None
    total_assets: Decimal | None = None
    total_liabilities: Decimal | None = None
    equity: Decimal | None = None
    net_profit: Decimal | None = None
    rd_expense: Decimal | None = None
    headcount: int | None = None
    rd_headcount: int | None = None
    current_assets: Decimal | None = None
    current_liabilities: Decimal | None = None
    retained_earnings: Decimal | None = None
    ebit: Decimal | None = None


@dataclass(frozen=True)
class Indicators:
    year: int
    rd_intensity: Decimal | None
    debt_ratio: Decimal | None
    revenue_growth: Decimal | None
    net_margin: Decimal | None
    rd_staff_share: Decimal | None
    z_score: Decimal | None
    z_zone: ZZone | None


def ratio(numerator: Decimal | int | None, denominator: Decimal | int | None) -> Decimal | None:
    """numerator / denominator to four places, or None when either is missing or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(_PLACES)


def altman_z2(x1: Decimal, x2: Decimal, x3: Decimal, x4: Decimal) -> Decimal:
    """Altman's Z''-score from its four ratios, given as fractions (0.25, not 25 %)."""
    return (Decimal("6.56") * x1 + Decimal("3.26") * x2 + Decimal("6.72") * x3 + Decimal("1.05") * x4).quantize(_PLACES)


def z_zone(z: Decimal) -> ZZone:
    if z > Z_SAFE_ABOVE:
        return ZZone.SAFE
    if z < Z_DISTRESS_BELOW:
        return ZZone.DISTRESS
    return ZZone.GREY


def z_score_of(s: StatementFigures) -> Decimal | None:
    """Z'' of one statement, or None when a figure it needs is missing or total assets / liabilities are zero."""
    needed = (s.current_assets, s.current_liabilities, s.retained_earnings, s.ebit, s.equity)
    if any(v is None for v in needed) or not s.total_assets or not s.total_liabilities:
        return None
    assert s.current_assets is not None and s.current_liabilities is not None  # for the type checker
    assert s.retained_earnings is not None and s.ebit is not None and s.equity is not None
    ta, tl = s.total_assets, s.total_liabilities
    return altman_z2(
        (s.current_assets - s.current_liabilities) / ta, s.retained_earnings / ta, s.ebit / ta, s.equity / tl
    )


def indicators(statements: Sequence[StatementFigures]) -> list[Indicators]:
    """Indicators for each statement, oldest year first; growth compares with the previous calendar year only."""
    by_year = {s.year: s for s in statements}
    out = []
    for year in sorted(by_year):
        s = by_year[year]
        previous = by_year.get(year - 1)
        growth = None
        if previous is not None and previous.revenue and s.revenue is not None:
            growth = ratio(s.revenue - previous.revenue, abs(previous.revenue))
        z = z_score_of(s)
        out.append(
            Indicators(
                year=year,
                rd_intensity=ratio(s.rd_expense, s.revenue),
                debt_ratio=ratio(s.total_liabilities, s.total_assets),
                revenue_growth=growth,
                net_margin=ratio(s.net_profit, s.revenue),
                rd_staff_share=ratio(s.rd_headcount, s.headcount),
                z_score=z,
                z_zone=z_zone(z) if z is not None else None,
            )
        )
    return out
