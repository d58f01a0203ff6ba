from __future__ import annotations

from typing import Any

import pytest

from agglo.access.models import Membership
from tests.conftest import user


@pytest.fixture
def member_of(make_org: Any):
    """member_of(username, role="admin", **org fields) -> (user, organization) for another member organization."""

    def make(username: str, role: str = "admin", **org: Any):
        organization = make_org(**org)
        u = user(username)
        Membership.objects.create(user=u, organization=organization, role=role)
        return u, organization

    return make


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
