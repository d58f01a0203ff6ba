"""The calculators' inputs from a form or a request body: each value checked, errors named by field, then the
published rules applied (policy.calculators). Also the figures a member's own records suggest as defaults."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.common.errors import ValidationFailed
from agglo.policy import calculators
from agglo.policy.calculators import CalculatorError, TechSmeInputs

TECH_SME_COUNTS = ("staff", "tech_staff", "ip_class_i", "ip_class_ii")
TECH_SME_AMOUNTS = ("revenue", "total_assets", "rd_expense", "total_cost")
TECH_SME_FLAGS = ("high_tech_enterprise", "national_award_top3", "provincial_rd_institution", "led_standard")
INDUSTRIES = ("", *sorted(calculators.EXCLUDED_INDUSTRIES))
MAX_AMOUNT = Decimal("1e14")
# The calculators' reasons (policy.calculators.CalculatorError), in the user's language.
REASONS = {
    "must not be negative": gettext_lazy("Must not be negative."),
    "must be at least 1": gettext_lazy("Must be at least 1."),
    "cannot exceed the total staff": gettext_lazy("Cannot exceed the total staff."),
    "the rules followed here apply from 2023": gettext_lazy("The rules followed here apply from 2023."),
}


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def _read(data: Mapping[str, Any], errors: dict[str, list[str]], name: str, parse: Callable[[str], Any]) -> Any:
    raw = data.get(name)
    if raw in (None, ""):
        errors[name] = [_("Required.")]
        return None
    try:
        value = parse(str(raw).strip().replace(",", ""))
    except (ValueError, InvalidOperation):
        errors[name] = [_("Must be a number.")]
        return None
    if value < 0 or value > MAX_AMOUNT:
        errors[name] = [_("Must be between 0 and 100,000,000,000,000.")]
        return None
    return value


def _checked(errors: dict[str, list[str]], build: Callable[[], Any]) -> Any:
    if errors:
        raise ValidationFailed(errors)
    try:
        return build()
    except CalculatorError as exc:
        reason = str(exc).split(": ", 1)[1]
        raise ValidationFailed({exc.field: [str(REASONS.get(reason, reason))]}) from None


def tech_sme(data: Mapping[str, Any]) -> dict[str, Any]:
    """The technology-based SME evaluation of the given figures, with its score by indicator and its source."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {name: _read(data, errors, name, int) for name in TECH_SME_COUNTS}
    values |= {name: _read(data, errors, name, Decimal) for name in TECH_SME_AMOUNTS}
    values |= {name: _flag(data.get(name)) for name in TECH_SME_FLAGS}
    inputs = _checked(errors, lambda: TechSmeInputs(**values))
    return asdict(calculators.tech_sme_evaluation(inputs))


def rd_deduction(data: Mapping[str, Any]) -> dict[str, Any]:
    """The estimated additional deduction of R&D expenses for one tax year, with its rates and source."""
    errors: dict[str, list[str]] = {}
    expensed = _read(data, errors, "expensed", Decimal)
    amortisation = _read({"amortisation": data.get("amortisation") or "0"}, errors, "amortisation", Decimal)
    year = _read(data, errors, "year", int)
    industry = str(data.get("industry") or "")
    if industry not in INDUSTRIES:
        errors["industry"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(i for i in INDUSTRIES if i)}]
    result = _checked(
        errors,
        lambda: calculators.rd_additional_deduction(
            expensed=expensed,
            amortisation=amortisation,
            industry=industry,
            ic_or_machine_tool=_flag(data.get("ic_or_machine_tool")),
            year=year,
        ),
    )
    return asdict(result)
