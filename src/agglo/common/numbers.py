"""Numbers as readers read them, in either language: thousands grouped with commas (the Chinese locale's own format
groups nothing), fen shown only where there are any."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def grouped(value: Any) -> str:
    """20000000 → "20,000,000"; 1234.5 → "1,234.50"; nothing → ""; what is no number, as it is."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number:,.2f}"
