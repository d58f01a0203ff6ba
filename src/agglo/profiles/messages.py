"""The words for rule codes of profiles.fields and profiles.rules, in the user's language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _lazy

from agglo.profiles.fields import Problem

RULES = {
    "required": _lazy("This field is required."),
    "not_a_number": _lazy("Must be a number."),
    "not_an_integer": _lazy("Must be a whole number."),
    "not_a_date": _lazy("Must be a date written YYYY-MM-DD."),
    "not_text": _lazy("Must be text."),
    "too_large": _lazy("At most %(max)s."),
    "decimal_places": _lazy("At most %(places)s decimal places."),
    "min": _lazy("Must be at least %(min)s."),
    "max": _lazy("Must be at most %(max)s."),
    "max_length": _lazy("At most %(max)s characters (has %(n)s)."),
    "choice": _lazy("Choose one of: %(choices)s."),
    "unknown_field": _lazy("Unknown field."),
    "unknown_column": _lazy("Unknown column."),
    "date_in_future": _lazy("Cannot be in the future."),
    "after_as_of": _lazy("Must be after the as-of date."),
    "year_in_future": _lazy("The fiscal year cannot be after %(year)s."),
    "before_founding": _lazy("Before the organization was founded (%(founded)s)."),
    "before_fiscal_year": _lazy("Cannot be before fiscal year %(year)s began."),
    "balance": _lazy(
        "Total assets (%(assets)s) must equal total liabilities plus equity (%(sum)s) within %(tolerance)s."
    ),
    "exceeds": _lazy("Cannot exceed %(other)s."),
    "exceeds_revenue": _lazy("Larger than revenue: please check."),
    "insolvent": _lazy("Liabilities exceed assets: please check."),
    "growth_suspect": _lazy(
        "More than ten times, or under a tenth of, the previous year's revenue (%(previous)s): check the unit (yuan)."
    ),
    "required_for_agency": _lazy("Name the rating agency."),
    "check_digit": _lazy("The check character does not match the number: expected %(expected)s."),
    "ip_type_digit": _lazy("Type digit %(digit)s does not fit this kind of IP."),
    "before": _lazy("Cannot be before %(other)s."),
    "required_when_granted": _lazy("A granted right needs its grant date."),
    "unknown_term": _lazy("Not in the capability catalogue."),
    "held_elsewhere": _lazy("Also recorded by another organization: co-owned, or a typo?"),
    "duplicate": _lazy("Already recorded: %(key)s."),
    "duplicate_in_file": _lazy("Same record as row %(row)s."),
    "unknown_organization": _lazy("No organization with this code."),
    "not_yours": _lazy("You may not import data for this organization."),
    "extra_cells": _lazy("%(n)s cells beyond the last column."),
}

FIELD_LABELS = {
    "year": _lazy("fiscal year"),
    "revenue": _lazy("revenue"),
    "total_assets": _lazy("total assets"),
    "total_liabilities": _lazy("total liabilities"),
    "equity": _lazy("equity"),
    "net_profit": _lazy("net profit"),
    "operating_cash_flow": _lazy("operating cash flow"),
    "rd_expense": _lazy("R&D expense"),
    "headcount": _lazy("headcount"),
    "rd_headcount": _lazy("R&D headcount"),
    "current_assets": _lazy("current assets"),
    "current_liabilities": _lazy("current liabilities"),
    "retained_earnings": _lazy("retained earnings"),
    "ebit": _lazy("EBIT"),
    "as_of": _lazy("as of"),
    "valid_until": _lazy("valid until"),
    "source_note": _lazy("source detail"),
    "grade": _lazy("grade"),
    "score": _lazy("score"),
    "rating_body": _lazy("rating body"),
    "agency_name": _lazy("agency"),
    "method_version": _lazy("method version"),
    "kind": _lazy("kind"),
    "number": _lazy("number"),
    "title": _lazy("title"),
    "status": _lazy("status"),
    "filed_on": _lazy("filed on"),
    "granted_on": _lazy("granted on"),
    "expires_on": _lazy("expires on"),
    "term": _lazy("capability"),
    "detail": _lazy("detail"),
    "certificate_no": _lazy("certificate number"),
    "started_on": _lazy("started on"),
    "ended_on": _lazy("ended on"),
    "description": _lazy("description"),
    "visibility": _lazy("visible to"),
    "outcome_patents": _lazy("patents"),
    "outcome_products": _lazy("products"),
    "outcome_revenue": _lazy("revenue from outcomes"),
    "outcome_cost_saved": _lazy("cost saved"),
    "organization": _lazy("organization"),
    "role": _lazy("role"),
    "input_kind": _lazy("input"),
    "input_amount": _lazy("input value"),
    "input_note": _lazy("input detail"),
    "rated": _lazy("rated organization"),
    "comment": _lazy("comment"),
    "uscc": _lazy("unified social credit code"),
}


def label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


def word(problem: Problem) -> str:
    params: dict[str, Any] = dict(problem.params)
    if "other" in params:
        params["other"] = label(str(params["other"]))
    template = RULES.get(problem.rule)
    if template is None:
        return problem.rule
    try:
        return str(template) % params if params else str(template)
    except (KeyError, TypeError, ValueError):
        return str(template)


def errors_of(problems: Iterable[Problem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.field, []).append(word(p))
    return out


def warning_dicts(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """Warnings as stored on a fact: the rule code and plain parameters, worded when shown."""
    return [{"field": p.field, "rule": p.rule, "params": {k: str(v) for k, v in p.params.items()}} for p in problems]


def word_stored(warning: dict[str, Any]) -> str:
    return word(Problem(warning.get("field", ""), warning.get("rule", ""), warning.get("params") or {}))
