"""What a benefit pays each member by the policy's formula (按…给予补助，最高不超过…): a rate of one of the member's
figures, capped. Pure: facts in, amounts out."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# the figures a grant may be reckoned on: money (the rate is a percentage of it) or counts (yuan per unit)
MONEY_BASES = ("rd_expense", "revenue", "total_assets")
COUNT_BASES = ("headcount", "ip_invention", "ip_total")
BASES = MONEY_BASES + COUNT_BASES
FEN = Decimal("0.01")


def basis_value(basis: str, facts: Mapping[str, Any]) -> Decimal | None:
    """The member's figure for `basis`, or None when it has none (R&D expense: revenue × R&D intensity, a share of
    1 as the facts keep it, of the latest statement)."""
    if basis == "rd_expense":
        revenue, intensity = facts.get("revenue"), facts.get("rd_intensity")
        if revenue is None or intensity is None:
            return None
        return Decimal(str(revenue)) * Decimal(str(intensity))
    value = facts.get(basis)
    return None if value is None or isinstance(value, bool) else Decimal(str(value))


def grant_for(basis: str, rate: Decimal, cap: Decimal | None, facts: Mapping[str, Any]) -> Decimal | None:
    """What the formula grants a member with these facts, to the fen: the rate (percent of a money figure, or yuan
    per unit of a count) times its figure, at most `cap`; None when it has no figure or the sum comes to nothing."""
    value = basis_value(basis, facts)
    if value is None or value <= 0:
        return None
    amount = value * rate / 100 if basis in MONEY_BASES else value * rate
    if cap is not None:
        amount = min(amount, cap)
    amount = amount.quantize(FEN, rounding=ROUND_HALF_UP)
    return amount if amount > 0 else None


# the field group each basis is drawn from, where its owner may keep it from others (`facts.FACT_GROUPS`;
# R&D expenses are revenue × R&D intensity)
BASIS_GROUPS = dict.fromkeys(("rd_expense", "revenue", "total_assets", "headcount"), "financials")


def withheld_basis(basis: str) -> str | None:
    """The field group a formula's basis is drawn from when its owner may withhold it: a grant reckoned on it
    tells its figure to whoever knows the formula and the sum (review 96), so the sum is shown only to those who
    may see the group, and sealed on the public log."""
    return BASIS_GROUPS.get(basis) if basis else None
