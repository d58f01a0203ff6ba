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


def posted_id(raw: Any) -> int | None:
    """A number a form or link posted (an id, a step): ASCII digits only and at most 11 of them, else None, since
    "²" and "①" pass str.isdigit() but not int(), and a longer number is no row's id."""
    text = str(raw or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None
