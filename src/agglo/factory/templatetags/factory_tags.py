"""Template helpers of the virtual factory's pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from agglo.access import policy

register = template.Library()


@register.simple_tag
def factory_roles(user: Any) -> dict[str, bool]:
    """Which of the factory's pages the user may use, so that the menu offers no page that would refuse them."""
    member = bool(policy.active_organization_ids(user))
    return {
        "member": member,
        "in_a_firm": bool(policy.organization_ids(user)),  # its job board and calendar, even while suspended
        "scorecards": member or policy.sees_all_organizations(user),
    }


@register.filter
def money(value: Any) -> str:
    """¥ with thousands separators: whole yuan as such, amounts with fen to the fen (¥18,916, ¥2.52)."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if amount == amount.to_integral_value():
        return f"¥{int(amount):,}"
    return f"¥{amount:,.2f}"
