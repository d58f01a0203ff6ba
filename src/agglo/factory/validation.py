"""Field checks shared by the factory's services: each adds a message under the field's name and returns the
cleaned value, so a service reports every bad field at once."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from agglo.common.days import iso_day
from agglo.common.numbers import whole_number
from agglo.factory.certificates import CERTIFICATIONS
from agglo.profiles.messages import date_fault

# a list typed as text: commas, also as a Chinese keyboard types them
LIST_SEPARATORS = r"[,，、]"


def whole(
    data: dict[str, Any], field: str, errors: dict[str, list[str]], *, low: int, high: int, default: Any = None
) -> int:
    value = data.get(field, default)
    number = whole_number(value)
    if number is None:
        # nothing given reads as nothing given, not as a wrong kind of number
        blank = value is None or (isinstance(value, str) and not value.strip())
        errors[field] = [_("This field is required.") if blank else _("Must be a whole number.")]
        return 0
    if not low <= number <= high:
        errors[field] = [_("Must be between %(low)s and %(high)s.") % {"low": f"{low:,}", "high": f"{high:,}"}]
    return number


def text(value: Any, field: str, errors: dict[str, list[str]], *, missing: str = "", most: int = 500) -> str:
    """Someone's words, trimmed: at most `most` characters; when `missing` is given, required, with that message."""
    value = str(value or "").strip()
    if not value and missing:
        errors[field] = [missing]
    elif len(value) > most:
        errors[field] = [_("At most %(max)d characters (has %(n)d).") % {"max": most, "n": len(value)}]
    return value


def money(
    data: dict[str, Any],
    field: str,
    errors: dict[str, list[str]],
    *,
    required: bool,
    below: int = 10_000_000_000,
    positive: bool = False,
) -> Decimal | None:
    """An amount in yuan to the fen, from zero (more than zero when `positive`, whose caller refuses zero) to
    under `below`: the range named as the caller allows it."""
    range_text = (
        _("Must be more than zero, below %(limit)s.") if positive else _("Must be zero or more, below %(limit)s.")
    )
    value = data.get(field)
    if value in (None, ""):
        if required:
            errors[field] = [_("This field is required.")]
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        errors[field] = [_("Must be an amount of money, such as 12.50.")]
        return None
    # the range first: quantizing 1e30 to the fen overflows the decimal context
    if not amount.is_finite() or amount < 0 or amount >= below:
        errors[field] = [range_text % {"limit": f"{below:,}"}]
        return None
    if amount != amount.quantize(Decimal("0.01")):  # never stored other than as typed
        errors[field] = [_("At most two decimals (to the fen), such as 12.50.")]
        return None
    return amount.quantize(Decimal("0.01"))  # as the database gives it back: "12.50" in every answer, not "12.5"


def certifications_clean(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    items = [v.strip() for v in re.split(LIST_SEPARATORS, value)] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        errors[field] = [_("Must be a list of certification codes.")]
        return []
    canonical = {c.upper(): c for c in CERTIFICATIONS}  # "iso9001" is ISO9001
    items = [canonical.get(v.upper(), v) for v in items]
    unknown = [v for v in items if v and v not in CERTIFICATIONS]
    if unknown:
        code = unknown[0] if len(unknown[0]) <= 40 else unknown[0][:40] + "…"  # not a page of echoed text
        errors[field] = [
            _("Unknown certification %(code)s; use one of: %(choices)s.")
            % {"code": code, "choices": ", ".join(CERTIFICATIONS)}
        ]
    return sorted({v for v in items if v})


def date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    """An ISO date, or an ISO week (`2027-W02`: its Monday) as an ERP may key capacity by (`common.days`)."""
    if value in (None, ""):
        errors[field] = [_("This field is required.")]
        return None
    day = iso_day(value)
    if day is None:
        errors[field] = [date_fault(value)]  # a day or week the calendar has not is said so
    return day


def provinces(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    from agglo.registry.models import Region

    if value in (None, ""):
        return []
    items = [v.strip() for v in re.split(LIST_SEPARATORS, value)] if isinstance(value, str) else value
    if not isinstance(items, list):
        errors[field] = [_("Must be a list of province codes.")]
        return []
    # a province by its code, or by its name as people write it (广东, 广东省, Guangdong): a list of codes to
    # remember was asked of buyers before (review 49 a11y)
    named: dict[str, str] = {}
    for code, zh, en in Region.objects.filter(level="province").values_list("code", "name_zh", "name_en"):
        for name in (code, zh, _short(zh), en.casefold()):
            named.setdefault(name, code)
    named |= {alias: code for alias, code in PROVINCE_ALIASES.items() if code in named.values()}
    found = [named.get(v) or named.get(v.casefold()) or named.get(v.casefold().replace(" ", "")) for v in items if v]
    unknown = [v for v, code in zip([v for v in items if v], found, strict=True) if code is None]
    if unknown:
        errors[field] = [
            _("%(code)s is not a province (give its name, such as Guangdong, or its code, such as 440000).")
            % {"code": unknown[0]}
        ]
    return sorted({c for c in found if c})


# other names in use for some provinces (GB/T 2260's English names are the reference data's)
PROVINCE_ALIASES = {
    "xizang": "540000",
    "macau": "820000",
    "hongkong": "810000",
    "neimongol": "150000",
    "neimenggu": "150000",
    "innermongolia": "150000",
}
PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def _short(name: str) -> str:
    """A province's name as commonly written: 广东省 → 广东, 广西壮族自治区 → 广西."""
    for suffix in PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name
