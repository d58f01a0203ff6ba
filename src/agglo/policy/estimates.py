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
MAX_AMOUNT = Decimal(10**14)  # written out, so that "between 0 and 100,000,000,000,000" reads as a number
# The calculators' reasons (policy.calculators.CalculatorError), in the user's language.
REASONS = {
    "must not be negative": gettext_lazy("Must not be negative."),
    "must be at least 1": gettext_lazy("Must be at least 1."),
    "cannot exceed the total staff": gettext_lazy("Cannot exceed the total staff."),
    "the rules followed here apply from 2023": gettext_lazy("The rules followed here apply from 2023."),
}


# why a firm falls short (policy.calculators.WHY), in the reader's language
WHY_WORDS = {
    "staff": gettext_lazy("Total staff of %(staff)s, more than %(max)s."),
    "revenue": gettext_lazy("Annual sales revenue above 200 million yuan."),
    "assets": gettext_lazy("Total assets above 200 million yuan."),
    "score": gettext_lazy("A total score of %(score)s, below %(pass_score)s."),
    "tech_staff": gettext_lazy("The technical staff indicator scores 0 (technical staff below 10%% of all staff)."),
    "industry": gettext_lazy(
        "This industry may not claim the additional deduction of R&D expenses (Cai Shui [2015] No. 119)."
    ),
}
# the industries that may not claim the deduction, as the form names them
INDUSTRY_NAMES = {
    "accommodation_catering": gettext_lazy("Accommodation and catering"),
    # 财税〔2015〕119号 第四条 excludes 娱乐业 only, not culture or sports (policy review 58 L2)
    "entertainment": gettext_lazy("Entertainment"),
    "leasing_business_services": gettext_lazy("Leasing and business services"),
    "real_estate": gettext_lazy("Real estate"),
    "tobacco": gettext_lazy("Tobacco manufacturing"),
    "wholesale_retail": gettext_lazy("Wholesale and retail"),
}
# the largest staff or IP count taken: beyond it a figure is a typing error, not a firm
MAX_COUNT = 10_000_000


def _words(code: str, figures: Any = ()) -> str:
    return str(WHY_WORDS[code]) % {k: f"{v:,}" for k, v in dict(figures).items()}


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true", "on", "yes")


def _read(
    data: Mapping[str, Any],
    errors: dict[str, list[str]],
    name: str,
    parse: Callable[[str], Any],
    high: Any = MAX_AMOUNT,
) -> Any:
    raw = data.get(name)
    if raw in (None, ""):
        errors[name] = [_("Required.")]
        return None
    try:
        value = parse(str(raw).strip().replace(",", ""))
    except (ValueError, InvalidOperation):
        errors[name] = [_("Must be a whole number.") if parse is int else _("Must be a number.")]
        return None
    if isinstance(value, Decimal) and not value.is_finite():  # NaN would not even compare
        errors[name] = [_("Must be a number.")]
        return None
    if value < 0 or value > high:
        errors[name] = [_("Must be between 0 and %(high)s.") % {"high": f"{high:,}"}]
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
    values: dict[str, Any] = {name: _read(data, errors, name, int, MAX_COUNT) for name in TECH_SME_COUNTS}
    values |= {name: _read(data, errors, name, Decimal) for name in TECH_SME_AMOUNTS}
    values |= {name: _flag(data.get(name)) for name in TECH_SME_FLAGS}
    inputs = _checked(errors, lambda: TechSmeInputs(**values))
    result = asdict(calculators.tech_sme_evaluation(inputs))
    result["reasons"] = [_words(code, figures) for code, figures in result.pop("why")]
    return result


def rd_deduction(data: Mapping[str, Any]) -> dict[str, Any]:
    """The estimated additional deduction of R&D expenses for one tax year, with its rates and source."""
    errors: dict[str, list[str]] = {}
    expensed = _read(data, errors, "expensed", Decimal)
    amortisation = _read({"amortisation": data.get("amortisation") or "0"}, errors, "amortisation", Decimal)
    year = _read(data, errors, "year", int, 2100)
    if year is not None and year < 2023:  # said with the other fields' errors, not after they are fixed
        errors["year"] = [str(REASONS["the rules followed here apply from 2023"])]
    industry = str(data.get("industry") or "")
    if industry not in INDUSTRIES:
        names = ", ".join(str(INDUSTRY_NAMES[i]) for i in sorted(INDUSTRY_NAMES))
        errors["industry"] = [_("Choose one of: %(choices)s.") % {"choices": names}]
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
    out = asdict(result)
    why = out.pop("why")
    out["reason"] = _words(why) if why else ""
    return out
