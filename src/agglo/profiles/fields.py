"""Field specifications of the professional database and the coercion of raw input into typed values.

One spec per fact kind drives the API, the forms, CSV/XLSX import and export alike, so a value is judged by the
same rule whatever path it came in by. Pure: no Django; problems are reported as (field, rule, params) and worded
by the caller in the user's language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from decimal import Decimal, InvalidOperation
from typing import Any

from agglo.profiles.tabular import day_missing, day_written

# Amounts are CNY yuan with two decimals, up to 10^16: room for any SME and most groups.
AMOUNT_MAX = Decimal("9999999999999999.99")
_THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Problem:
    """A rule one value broke: `rule` is a stable code, `params` fill in the worded message."""

    field: str
    rule: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)


class ProblemError(ValueError):
    def __init__(self, rule: str, **params: Any) -> None:
        super().__init__(rule)
        self.rule = rule
        self.params = params


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # "text" | "int" | "decimal" | "date" | "choice"
    required: bool = False
    min: Decimal | int | None = None
    max: Decimal | int | None = None
    max_length: int = 0
    choices: tuple[str, ...] = ()


# full-width digits, point, minus, plus and comma as typed on a Chinese keyboard, and the no-break space some
# spreadsheets group thousands with; not every form NFKC folds (10² is no 102: recheck 58)
HALF_WIDTH = str.maketrans("０１２３４５６７８９．－＋，", "0123456789.-+,", "\u00a0\u202f")


def _typed(raw: str) -> str:
    """A number as typed, read as half-width (data review 58 L3)."""
    return raw if raw.isascii() else raw.translate(HALF_WIDTH)


def _decimal(raw: Any) -> Decimal:
    # The common case, a plain number as text, costs one Decimal() and one quantize(): imports do this a lot.
    if isinstance(raw, str):
        raw = _typed(raw)
        if "_" in raw:  # Decimal("1_0") is 10: no figure anyone writes
            raise ProblemError("not_a_number")
        try:
            value = Decimal(raw)
        except InvalidOperation:
            text = raw.strip()
            if not _THOUSANDS.match(text):
                raise ProblemError("not_a_number") from None
            value = Decimal(text.replace(",", ""))
    elif isinstance(raw, bool):
        raise ProblemError("not_a_number")
    elif isinstance(raw, float):
        # a workbook's number, at a spreadsheet's own precision (15 significant digits): =2876.74*10000 is stored
        # as 28767399.999999996, shown and meant as 28,767,400.00 (data review 58 M2)
        value = Decimal(format(raw, ".15g"))
    else:
        try:
            value = Decimal(raw)
        except (InvalidOperation, TypeError, ValueError):
            raise ProblemError("not_a_number") from None
    if not value.is_finite():
        raise ProblemError("not_a_number")
    try:
        cents = value.quantize(_CENT)
    except InvalidOperation:  # more digits than the context holds
        raise ProblemError("too_large", max=str(AMOUNT_MAX)) from None
    if cents != value:
        raise ProblemError("decimal_places", places=2)
    if abs(cents) > AMOUNT_MAX:
        raise ProblemError("too_large", max=str(AMOUNT_MAX))
    return cents


INT_MAX = 10**12 - 1  # an integer field without its own limit


def _int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ProblemError("not_an_integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    # a long one is still a whole number: its field's limits say what is wrong with it
    if isinstance(raw, str) and re.fullmatch(r"\s*-?[0-9]{1,40}\s*", raw := _typed(raw)):
        return int(raw)
    raise ProblemError("not_an_integer")


def _date(raw: Any) -> dt.date:
    day = day_written(raw)
    if day is None:
        # a day the calendar has not (2027-02-29, 2027-W53) is named as such: it is written as a date should be
        if (missing := day_missing(raw)) is not None:
            rule, params = missing
            raise ProblemError(rule, **params)
        raise ProblemError("not_a_date")
    return day


def coerce(spec: FieldSpec, raw: Any) -> Any:
    """The typed value of `raw` under `spec`; None for an empty optional value. Raises ProblemError."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if spec.required:
            raise ProblemError("required")
        return "" if spec.type in ("text", "choice") else None
    if spec.type == "text":
        if not isinstance(raw, (str, int)) or isinstance(raw, bool):
            raise ProblemError("not_text")
        value: Any = str(raw).strip()
        if spec.max_length and len(value) > spec.max_length:
            raise ProblemError("max_length", max=spec.max_length, n=len(value))
        return value
    if spec.type == "choice":
        value = str(raw).strip()
        if value not in spec.choices:
            raise ProblemError("choice", choices=", ".join(spec.choices))
        return value
    if spec.type == "date":
        return _date(raw)
    value = _int(raw) if spec.type == "int" else _decimal(raw)
    if spec.type == "int" and spec.max is None and abs(value) > INT_MAX:  # what the database column holds
        raise ProblemError("too_large", max=f"{INT_MAX:,}")
    if spec.min is not None and value < spec.min:
        raise ProblemError("min", min=spec.min)
    if spec.max is not None and value > spec.max:
        raise ProblemError("max", max=spec.max)
    return value


def coerce_all(
    specs: Mapping[str, FieldSpec], data: Mapping[str, Any], *, partial: bool = False
) -> tuple[dict[str, Any], list[Problem]]:
    """Coerce every field of `data` named in `specs`; with `partial`, absent fields are left out, not required."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, spec in specs.items():
        if partial and name not in data:
            continue
        try:
            values[name] = coerce(spec, data.get(name))
        except ProblemError as exc:
            problems.append(Problem(name, exc.rule, exc.params))
    return values, problems


def unknown_fields(specs: Mapping[str, FieldSpec], data: Mapping[str, Any]) -> list[Problem]:
    return [Problem(name, "unknown_field") for name in data if name not in specs]


# --- the fact kinds ----------------------------------------------------------------------------------------

SOURCES = ("self_declared", "operator_verified", "bank_verified", "audited", "imported")
VERIFIED_SOURCES = frozenset({"operator_verified", "bank_verified"})  # checked by others: "audited" is the owner's mark
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C")
RATING_BODIES = ("platform", "agency")
IP_KINDS = ("invention_patent", "utility_model", "design", "software_copyright", "trademark")
IP_STATUSES = ("pending", "granted", "expired", "invalid", "transferred")
CAPABILITY_KINDS = ("technology", "process", "equipment", "lab_service", "certification")
CASE_KINDS = ("joint_rnd", "co_investment", "researcher_exchange", "alliance", "outsourcing")
INPUT_KINDS = ("cash", "staff", "equipment", "ip", "data", "other")


def _amount(name: str, *, required: bool = False, signed: bool = False) -> FieldSpec:
    return FieldSpec(name, "decimal", required=required, min=None if signed else Decimal(0))


# Provenance and freshness, common to every fact; the source itself is set by the services, not by input.
COMMON = {
    "as_of": FieldSpec("as_of", "date"),
    "valid_until": FieldSpec("valid_until", "date"),
    "source_note": FieldSpec("source_note", "text", max_length=200),
}

FINANCIALS = {
    "year": FieldSpec("year", "int", required=True, min=1949, max=2100),
    "revenue": _amount("revenue", required=True),
    "total_assets": _amount("total_assets", required=True),
    "total_liabilities": _amount("total_liabilities", required=True),
    "equity": _amount("equity", required=True, signed=True),
    "net_profit": _amount("net_profit", signed=True),
    "operating_cash_flow": _amount("operating_cash_flow", signed=True),
    "rd_expense": _amount("rd_expense"),
    "headcount": FieldSpec("headcount", "int", min=0, max=10_000_000),
    "rd_headcount": FieldSpec("rd_headcount", "int", min=0, max=10_000_000),
    "current_assets": _amount("current_assets"),
    "current_liabilities": _amount("current_liabilities"),
    "retained_earnings": _amount("retained_earnings", signed=True),
    "ebit": _amount("ebit", signed=True),
    **COMMON,
}

RATINGS = {
    "grade": FieldSpec("grade", "choice", required=True, choices=GRADES),
    "score": FieldSpec("score", "decimal", min=Decimal(0), max=Decimal(100)),
    "rating_body": FieldSpec("rating_body", "choice", required=True, choices=RATING_BODIES),
    "agency_name": FieldSpec("agency_name", "text", max_length=120),
    "method_version": FieldSpec("method_version", "text", required=True, max_length=40),
    "as_of": FieldSpec("as_of", "date", required=True),
    "valid_until": FieldSpec("valid_until", "date", required=True),
    "source_note": COMMON["source_note"],
}

IP_ASSETS = {
    "kind": FieldSpec("kind", "choice", required=True, choices=IP_KINDS),
    "number": FieldSpec("number", "text", required=True, max_length=60),
    "title": FieldSpec("title", "text", required=True, max_length=300),
    "status": FieldSpec("status", "choice", required=True, choices=IP_STATUSES),
    "filed_on": FieldSpec("filed_on", "date"),
    "granted_on": FieldSpec("granted_on", "date"),
    "expires_on": FieldSpec("expires_on", "date"),
    **COMMON,
}

CAPABILITIES = {
    "term": FieldSpec("term", "text", required=True, max_length=60),
    "detail": FieldSpec("detail", "text", max_length=1000),
    "certificate_no": FieldSpec("certificate_no", "text", max_length=80),
    **COMMON,
}

CASES = {
    "title": FieldSpec("title", "text", required=True, max_length=200),
    "kind": FieldSpec("kind", "choice", required=True, choices=CASE_KINDS),
    "started_on": FieldSpec("started_on", "date", required=True),
    "ended_on": FieldSpec("ended_on", "date"),
    "description": FieldSpec("description", "text", max_length=4000),
    "visibility": FieldSpec("visibility", "choice", choices=("public", "members", "partners", "private")),
    "outcome_patents": FieldSpec("outcome_patents", "int", min=0, max=100_000),
    "outcome_products": FieldSpec("outcome_products", "int", min=0, max=100_000),
    "outcome_revenue": _amount("outcome_revenue"),
    "outcome_cost_saved": _amount("outcome_cost_saved"),
    **COMMON,
}

PARTICIPANTS = {
    "organization": FieldSpec("organization", "int", required=True, min=1),
    "role": FieldSpec("role", "choice", required=True, choices=("lead", "partner")),
    "input_kind": FieldSpec("input_kind", "choice", required=True, choices=INPUT_KINDS),
    "input_amount": _amount("input_amount"),
    "input_note": FieldSpec("input_note", "text", max_length=300),
}

CASE_RATING = {
    "rated": FieldSpec("rated", "int", required=True, min=1),
    "score": FieldSpec("score", "int", required=True, min=1, max=5),
    "comment": FieldSpec("comment", "text", max_length=1000),
}

# The kinds held per organization as dated facts with provenance, by their name in URLs, imports and exports.
# Columns an export adds for people to read; an import of the same file ignores them.
INFO_COLUMNS = ("organization", "source")
