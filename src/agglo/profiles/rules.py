"""Cross-field rules for facts: what makes a statement, rating, IP asset or case record plausible.

Errors block the write; warnings are kept beside the fact and listed in the owner's data-quality panel.
Pure: the caller passes today's date and the organization's founding year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from agglo.profiles.fields import Problem

# Assets must equal liabilities + equity within 1 % of total assets (rounding, minority interests), at least ¥1.
BALANCE_TOLERANCE = Decimal("0.01")
# A year-on-year revenue change beyond this factor is more often a unit slip (yuan vs 10k yuan) than real.
GROWTH_SUSPECT_FACTOR = Decimal(10)

_CN_APPLICATION = re.compile(r"^(?:ZL|CN)?\s*(\d{4})([12389])(\d{7})\.?([0-9X])$")
_IP_TYPE_DIGITS = {"invention_patent": "18", "utility_model": "29", "design": "3"}


def _dates(values: Mapping[str, Any], today: dt.date, out: list[Problem]) -> None:
    as_of, valid_until = values.get("as_of"), values.get("valid_until")
    if as_of is not None and as_of > today:
        out.append(Problem("as_of", "date_in_future"))
    if as_of is not None and valid_until is not None and valid_until <= as_of:
        out.append(Problem("valid_until", "after_as_of"))


def statement_problems(
    values: Mapping[str, Any],
    *,
    today: dt.date,
    founded_year: int | None = None,
    previous_revenue: Decimal | None = None,
) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings) of one financial statement's typed values."""
    errors: list[Problem] = []
    warnings: list[Problem] = []
    year = values.get("year")
    if year is not None:
        if year >= today.year:  # an annual statement of a year not yet over would decide eligibility on guesses
            errors.append(Problem("year", "year_not_ended", {"year": today.year - 1}))
        if founded_year and year < founded_year:
            errors.append(Problem("year", "before_founding", {"founded": founded_year}))
        as_of = values.get("as_of")
        if as_of is not None and as_of < dt.date(year, 1, 1):
            errors.append(Problem("as_of", "before_fiscal_year", {"year": year}))
    _dates(values, today, errors)
    assets, liabilities, equity = values.get("total_assets"), values.get("total_liabilities"), values.get("equity")
    if assets is not None and liabilities is not None and equity is not None:
        tolerance = max(assets * BALANCE_TOLERANCE, Decimal(1))
        if abs(assets - liabilities - equity) > tolerance:
            errors.append(
                Problem(
                    "total_assets",
                    "balance",
                    {"assets": assets, "sum": liabilities + equity, "tolerance": tolerance.quantize(Decimal("0.01"))},
                )
            )
    for part, whole in (("current_assets", "total_assets"), ("current_liabilities", "total_liabilities")):
        if values.get(part) is not None and values.get(whole) is not None and values[part] > values[whole]:
            errors.append(Problem(part, "exceeds", {"other": whole}))
    headcount, rd_headcount = values.get("headcount"), values.get("rd_headcount")
    if headcount is not None and rd_headcount is not None and rd_headcount > headcount:
        errors.append(Problem("rd_headcount", "exceeds", {"other": "headcount"}))
    revenue = values.get("revenue")
    if revenue is not None:
        for name in ("rd_expense", "net_profit"):
            value = values.get(name)
            if value is not None and value > revenue:
                warnings.append(Problem(name, "exceeds_revenue"))
        if liabilities is not None and assets and liabilities > assets:
            warnings.append(Problem("total_liabilities", "insolvent"))
        growth = growth_warning(revenue, previous_revenue)
        if growth is not None:
            warnings.append(growth)
    return errors, warnings


def growth_warning(revenue: Decimal | None, previous_revenue: Decimal | None) -> Problem | None:
    """A warning when revenue moved more than tenfold from the year before (a unit slip more often than not)."""
    if not previous_revenue or not revenue:
        return None
    if revenue > previous_revenue * GROWTH_SUSPECT_FACTOR or revenue * GROWTH_SUSPECT_FACTOR < previous_revenue:
        return Problem("revenue", "growth_suspect", {"previous": previous_revenue})
    return None


def rating_problems(values: Mapping[str, Any], *, today: dt.date) -> list[Problem]:
    errors: list[Problem] = []
    _dates(values, today, errors)
    if values.get("rating_body") == "agency" and not values.get("agency_name"):
        errors.append(Problem("agency_name", "required_for_agency"))
    return errors


def cn_application_check(twelve_digits: str) -> str:
    """Check character of a Chinese patent application number (CNIPA): digits weighted 2..9,2..5, mod 11."""
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    remainder = sum(int(d) * w for d, w in zip(twelve_digits, weights, strict=True)) % 11
    return "X" if remainder == 10 else str(remainder)


def normalize_ip_number(kind: str, number: str) -> str:
    """Upper-case, without inner spaces; Chinese patent numbers as ZL + 12 digits + . + check."""
    compact = re.sub(r"\s+", "", number).upper()
    match = _CN_APPLICATION.match(compact) if kind in _IP_TYPE_DIGITS else None
    if match:
        year, type_digit, serial, check = match.groups()
        return f"ZL{year}{type_digit}{serial}.{check}"
    return compact


def ip_problems(values: Mapping[str, Any], *, today: dt.date) -> list[Problem]:
    errors: list[Problem] = []
    _dates(values, today, errors)
    kind, number = values.get("kind"), values.get("number") or ""
    match = _CN_APPLICATION.match(number) if kind in _IP_TYPE_DIGITS else None
    if match:
        year, type_digit, serial, check = match.groups()
        if cn_application_check(year + type_digit + serial) != check:
            errors.append(
                Problem("number", "check_digit", {"expected": cn_application_check(year + type_digit + serial)})
            )
        if type_digit not in _IP_TYPE_DIGITS[str(kind)]:
            errors.append(Problem("number", "ip_type_digit", {"digit": type_digit}))
    filed, granted, expires = values.get("filed_on"), values.get("granted_on"), values.get("expires_on")
    if filed and filed > today:
        errors.append(Problem("filed_on", "date_in_future"))
    if filed and granted and granted < filed:
        errors.append(Problem("granted_on", "before", {"other": "filed_on"}))
    if expires and (granted or filed) and expires < (granted or filed):
        errors.append(Problem("expires_on", "before", {"other": "granted_on" if granted else "filed_on"}))
    if values.get("status") == "granted" and not granted:
        errors.append(Problem("granted_on", "required_when_granted"))
    return errors


# a patent number of another office: its country or office code, then digits ("US10123456B2", "EP 3 456 789")
_FOREIGN_PATENT = re.compile(r"^[A-Z]{2}\s*\d[\d\s]*[A-Z]?\d?$")


def ip_warnings(values: Mapping[str, Any]) -> list[Problem]:
    """A patent number in no form we know: saved, but its owner is asked to look again."""
    kind, number = values.get("kind"), str(values.get("number") or "")
    if kind not in _IP_TYPE_DIGITS or not number:
        return []
    if _CN_APPLICATION.match(number) or _FOREIGN_PATENT.match(number):
        return []
    return [Problem("number", "patent_form")]


def case_problems(values: Mapping[str, Any], *, today: dt.date) -> list[Problem]:
    errors: list[Problem] = []
    _dates(values, today, errors)
    started, ended = values.get("started_on"), values.get("ended_on")
    if started and started > today:
        errors.append(Problem("started_on", "date_in_future"))
    if started and ended and ended < started:
        errors.append(Problem("ended_on", "before", {"other": "started_on"}))
    return errors
