"""Numbers as readers read them, in either language: thousands grouped with commas (the Chinese locale's own format
groups nothing), fen shown only where there are any."""

from __future__ import annotations

import re
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


def whole_number(value: Any) -> int | None:
    """A whole number as given, or None: never a truncated fraction, a truth value or an infinity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, Decimal):
        return int(value) if value.is_finite() and value == value.to_integral_value() else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        try:
            return int(value)
        except ValueError:  # longer than Python converts: far out of any range anyway
            return None
    return None
