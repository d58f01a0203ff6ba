"""Template helpers of the virtual factory's pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from agglo.access import policy
from agglo.factory.wording import fact_label, money, status_text

register = template.Library()


@register.simple_tag
def factory_roles(user: Any) -> dict[str, bool]:
    """Which of the factory's pages the user may use, so that the menu offers no page that would refuse them."""
    member = bool(policy.active_organization_ids(user))
    return {
        "member": member,
        "in_a_firm": bool(policy.organization_ids(user)),  # its job board and calendar, even while suspended
        # kept at the members' level: members in good standing, government officers, operators, auditors
        "scorecards": policy.sees_member_level(user),
        "disputes": policy.is_operator(user),  # the operators rule on disputes referred to the platform
    }


@register.filter
def qty(n: Any, process: Any) -> str:
    """A count with its process's unit, singular for one: "1 unit", "3 units", "20,000 机时"."""
    return f"{n:,} {process.unit_for(n)}" if isinstance(n, int) else f"{n} {process.unit_for(n)}"


@register.filter
def unit_for(process: Any, n: Any) -> Any:
    """The process's unit after the count n (for a translated sentence that places the count itself)."""
    return process.unit_for(n)


register.filter("money", money)
register.filter("status_text", status_text)
register.filter("fact_label", fact_label)


@register.simple_tag
def kept(failed: dict[str, Any], allocation: Any, action: str, field: str) -> str:
    """What was typed in a job board form that came back with errors, for that row's form only."""
    if failed and failed.get("pk") == allocation.pk and failed.get("action") == action:
        return str(failed.get(field, ""))
    return ""


@register.simple_tag
def described(failed: dict[str, Any], allocation: Any, action: str = "", field: str = "") -> str:
    """Ties a row's inputs to the errors shown above them (`row-errors-<id>`), when a form of that row came back
    with errors: a screen reader then reads them again on the field, not only once when they appear. Given the
    input's form and field, only the field in error is tied and marked invalid (of a form whose error names none
    of its fields, all of that form's are tied), so the row's other forms are not."""
    pk = getattr(allocation, "pk", None)
    if not failed or pk is None or failed.get("pk") != pk:
        return ""
    if not action:
        return format_html(' aria-describedby="row-errors-{}"', pk)
    if failed.get("action") != action:
        return ""
    bad = set(failed.get("fields", ()))
    if field in bad:
        return format_html(' aria-describedby="row-errors-{}" aria-invalid="true"', pk)
    return "" if bad & set(failed.get("inputs", ())) else format_html(' aria-describedby="row-errors-{}"', pk)
