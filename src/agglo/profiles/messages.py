"""The words for rule codes of profiles.fields and profiles.rules, in the user's language."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy

from agglo.common.days import NOT_A_DATE
from agglo.profiles.fields import Problem
from agglo.profiles.tabular import ISO_WRITTEN, day_missing

RULES = {
    "required": gettext_lazy("This field is required."),
    "not_a_number": gettext_lazy("Must be a number, such as 1234.56 or 1,234.56."),
    "not_an_integer": gettext_lazy("Must be a whole number."),
    "not_a_date": gettext_lazy("Must be a date written year first, such as 2026-01-05 or 2026/1/5."),
    "no_such_day": gettext_lazy(
        "There is no day %(day)s: that month is shorter (29 February comes only in a leap year)."
    ),
    "no_such_week": gettext_lazy("%(year)s has no week %(week)s: its ISO weeks run from 1 to %(weeks)s."),
    "not_text": gettext_lazy("Must be text."),
    "too_large": gettext_lazy("At most %(max)s."),
    "decimal_places": gettext_lazy("At most %(places)s decimal places."),
    "min": gettext_lazy("Must be at least %(min)s."),
    "max": gettext_lazy("Must be at most %(max)s."),
    "max_length": gettext_lazy("At most %(max)s characters (has %(n)s)."),
    "choice": gettext_lazy("Choose one of: %(choices)s."),
    "unknown_field": gettext_lazy("Unknown field."),
    "unknown_column": gettext_lazy("Unknown column."),
    "date_in_future": gettext_lazy("Cannot be in the future."),
    "after_as_of": gettext_lazy("Must be after the as-of date."),
    "year_not_ended": gettext_lazy("Statements are for fiscal years that have ended: %(year)s at the latest."),
    "before_founding": gettext_lazy("Before the organization was founded (%(founded)s)."),
    "before_fiscal_year": gettext_lazy("Cannot be before fiscal year %(year)s began."),
    "balance": gettext_lazy(
        "Total assets (%(assets)s) must equal total liabilities plus equity (%(sum)s) within %(tolerance)s."
    ),
    "exceeds": gettext_lazy("Cannot exceed %(other)s."),
    "exceeds_revenue": gettext_lazy("Larger than revenue: please check."),
    "insolvent": gettext_lazy("Liabilities exceed assets: please check."),
    "growth_suspect": gettext_lazy(
        "More than ten times, or under a tenth of, the previous year's revenue (%(previous)s): check the unit (yuan)."
    ),
    "required_for_agency": gettext_lazy("Name the rating agency."),
    "check_digit": gettext_lazy("The check character does not match the number: expected %(expected)s."),
    "ip_type_digit": gettext_lazy("Type digit %(digit)s does not fit this kind of IP."),
    "before": gettext_lazy("Cannot be before %(other)s."),
    "required_when_granted": gettext_lazy("A granted right needs its grant date."),
    "unknown_term": gettext_lazy("Not in the capability catalogue."),
    "held_elsewhere": gettext_lazy("Also recorded by another organization: co-owned, or a typo?"),
    "patent_form": gettext_lazy(
        "Not in CNIPA's form (ZL, 12 digits, a dot and the check character), nor a country code and digits: "
        "please check."
    ),
    "duplicate": gettext_lazy("Already recorded: %(key)s."),
    "duplicate_in_file": gettext_lazy("Same record as row %(row)s."),
    "unknown_organization": gettext_lazy("No organization with this code."),
    "not_yours": gettext_lazy("You may not import data for this organization."),
    "uscc_missing": gettext_lazy("Give the organization's unified social credit code."),
    "uscc_invalid": gettext_lazy("Not a unified social credit code: 18 characters as GB 32100-2015 gives them."),
    "extra_cells": gettext_lazy("%(n)s cells beyond the last column."),
    "nul": gettext_lazy("Holds a NUL character, which cannot be stored; remove it."),
    "formula_unsaved": gettext_lazy(
        "A formula whose result the file does not hold: type the value, or open and save the file in Excel or WPS "
        "first."
    ),
    "merged": gettext_lazy(
        "Empty because cells %(range)s are merged: only the first, %(first)s, holds the value. Unmerge them and "
        "fill in every row."
    ),
}

FIELD_LABELS = {
    "year": gettext_lazy("fiscal year"),
    "revenue": gettext_lazy("revenue"),
    "total_assets": gettext_lazy("total assets"),
    "total_liabilities": gettext_lazy("total liabilities"),
    "equity": gettext_lazy("equity"),
    "net_profit": gettext_lazy("net profit"),
    "operating_cash_flow": gettext_lazy("operating cash flow"),
    "rd_expense": gettext_lazy("R&D expense"),
    "headcount": gettext_lazy("headcount"),
    "rd_headcount": gettext_lazy("R&D headcount"),
    "current_assets": gettext_lazy("current assets"),
    "current_liabilities": gettext_lazy("current liabilities"),
    "retained_earnings": gettext_lazy("retained earnings"),
    "ebit": gettext_lazy("EBIT"),
    "as_of": gettext_lazy("as of"),
    "valid_until": gettext_lazy("valid until"),
    "source_note": gettext_lazy("source detail"),
    "grade": gettext_lazy("grade"),
    "score": gettext_lazy("score"),
    "rating_body": gettext_lazy("rating body"),
    "agency_name": gettext_lazy("agency"),
    "method_version": gettext_lazy("method version"),
    "kind": gettext_lazy("kind"),
    "number": gettext_lazy("number"),
    "title": gettext_lazy("title"),
    "status": gettext_lazy("status"),
    "filed_on": gettext_lazy("filed on"),
    "granted_on": gettext_lazy("granted on"),
    "expires_on": gettext_lazy("expires on"),
    "term": gettext_lazy("capability"),
    "detail": gettext_lazy("detail"),
    "certificate_no": gettext_lazy("certificate number"),
    "started_on": gettext_lazy("started on"),
    "ended_on": gettext_lazy("ended on"),
    "description": gettext_lazy("description"),
    "visibility": gettext_lazy("visible to"),
    "outcome_patents": gettext_lazy("patents"),
    "outcome_products": gettext_lazy("products"),
    "outcome_revenue": gettext_lazy("revenue from outcomes"),
    "outcome_cost_saved": gettext_lazy("cost saved"),
    "organization": gettext_lazy("organization"),
    "role": gettext_lazy("role"),
    "input_kind": gettext_lazy("input"),
    "input_amount": gettext_lazy("input value"),
    "input_note": gettext_lazy("input detail"),
    "rated": gettext_lazy("rated organization"),
    "comment": gettext_lazy("comment"),
    "uscc": gettext_lazy("unified social credit code"),
    # Keys of history entries that are not fields.
    "statements": gettext_lazy("financial statements"),
    "ratings": gettext_lazy("credit ratings"),
    "ip": gettext_lazy("IP assets"),
    "capabilities": gettext_lazy("capabilities"),
    "facts": gettext_lazy("facts"),
    "recipients": gettext_lazy("recipients"),
    "files": gettext_lazy("files"),
    "source": gettext_lazy("source"),
    "verification_voided": gettext_lazy("verification voided"),
    "rater": gettext_lazy("rating organization"),
    # the virtual factory's events, which the organization's own history also lists
    "process": gettext_lazy("process"),
    "weekly_capacity": gettext_lazy("capacity per week"),
    "unit_cost": gettext_lazy("unit cost"),
    "setup_cost": gettext_lazy("setup cost"),
    "min_lot": gettext_lazy("minimum lot"),
    "quality_grade": gettext_lazy("quality grade"),
    "certifications": gettext_lazy("certifications"),
    "lead_weeks": gettext_lazy("lead time (weeks)"),
    "active": gettext_lazy("offered to new plans"),
    "week": gettext_lazy("week"),
    "capacity": gettext_lazy("capacity"),
    "quantity": gettext_lazy("quantity"),
    "counter": gettext_lazy("counter-offer"),
    "counter_offers": gettext_lazy("counter-offers"),
    "done": gettext_lazy("quantity done"),
    "defects": gettext_lazy("defects"),
    "defects_found": gettext_lazy("defects found"),
    "delivered_on": gettext_lazy("delivered on"),
    "note": gettext_lazy("note"),
    "reason": gettext_lazy("reason"),
    "reply": gettext_lazy("answer"),
    "settled": gettext_lazy("settled"),
    "whole_step": gettext_lazy("all weeks of this step"),
    "from": gettext_lazy("from"),
    "to": gettext_lazy("to"),
    "at": gettext_lazy("at"),
    "version": gettext_lazy("plan version"),
    "objective": gettext_lazy("objective"),
    "operations": gettext_lazy("steps"),
    "product": gettext_lazy("product"),
}


def label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


AMOUNT_PARAMS = frozenset({"assets", "sum", "tolerance", "previous"})  # the rules' parameters that are yuan


def word(problem: Problem) -> str:
    # amounts in yuan as the pages show them: 1,000,000.00, not 1000000.00
    params: dict[str, Any] = {
        k: f"{v:,.2f}" if k in AMOUNT_PARAMS and isinstance(v, Decimal) else v for k, v in problem.params.items()
    }
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


def missing_day(value: Any) -> str | None:
    """Why `value`, written as a day, names none (`tabular.day_missing`: 2027-02-29, 2027-W53), in the reader's
    language; None for anything else."""
    missing = day_missing(value)
    return word(Problem("", *missing)) if missing is not None else None


def date_fault(value: Any) -> str:
    """What is wrong with `value`, refused as a date: a day or ISO week the calendar has not (2027-02-29, 2027-W53),
    said so, else that it is no date."""
    written = isinstance(value, str) and ISO_WRITTEN.fullmatch(value.strip())
    return (missing_day(value.strip()) if written else None) or str(NOT_A_DATE)
