from __future__ import annotations

from typing import Any


def statement(year: int = 2025, **over: Any) -> dict[str, Any]:
    data = {
        "year": year,
        "revenue": "12000000",
        "total_assets": "20000000",
        "total_liabilities": "8000000",
        "equity": "12000000",
        "net_profit": "1500000",
        "rd_expense": "1800000",
        "headcount": 80,
        "rd_headcount": 30,
        "current_assets": "9000000",
        "current_liabilities": "5000000",
        "retained_earnings": "3000000",
        "ebit": "2000000",
    }
    data.update(over)
    return data
