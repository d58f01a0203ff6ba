"""Field rules for needs and offers, shared by the API, the pages and the demo loader; every message names its field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.common.errors import ValidationFailed
from agglo.common.language import choice_words
from agglo.common.lines import ONE_LINE, is_one_line
from agglo.market.lifecycle import LOAN_TERM_KINDS, SUBKINDS, Collateral, Kind, RegionRule, Side, subkind_ok
from agglo.market.models import COLLATERAL_LABELS, KIND_LABELS, SUBKIND_LABELS, Listing
from agglo.profiles.fields import FieldSpec, Problem, ProblemError, coerce
from agglo.profiles.messages import word
from agglo.profiles.models import CapabilityTerm
from agglo.registry.models import Region, Segment

LISTING_FIELDS = (
    "side",
    "kind",
    "subkind",
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "terms",
    "tags",
    "segments",
    "region_rule",
    "regions",
    "amount_min",
    "amount_max",
    "term_months_min",
    "term_months_max",
    "rate_min",
    "rate_max",
    "collateral",
    "deadline",
    "visibility",
    "anonymous",
)
MAX_ITEMS = 20
_AMOUNT = FieldSpec("amount", "decimal", min=0)
_DATE = FieldSpec("deadline", "date")
_MONTHS = FieldSpec("term", "int", min=1, max=600)  # up to 50 years
_RATE = FieldSpec("rate", "decimal", min=Decimal(0), max=Decimal(100))  # percent a year
LOAN_TERMS = ("term_months_min", "term_months_max", "rate_min", "rate_max", "collateral")


def _words(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        value = [w for w in (p.strip() for p in value.replace("，", ",").split(",")) if w]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.setdefault(field, []).append(_("Give a list of words."))
        return []
    value = [v.strip() for v in value if v.strip()]
    if len(value) > MAX_ITEMS or any(len(v) > 60 for v in value):
        errors.setdefault(field, []).append(_("At most %(n)d entries of up to 60 characters.") % {"n": MAX_ITEMS})
    return list(dict.fromkeys(value))


def _text(value: Any, field: str, limit: int, errors: dict[str, list[str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(_("Must be text."))
        return ""
    value = value.strip()
    if len(value) > limit:
        errors.setdefault(field, []).append(
            _("At most %(max)d characters (has %(n)d).") % {"max": limit, "n": len(value)}
        )
    return value


def _typed(spec: FieldSpec, value: Any, field: str, errors: dict[str, list[str]]) -> Any:
    try:
        return coerce(spec, value)
    except ProblemError as exc:
        errors.setdefault(field, []).append(word(Problem(field, exc.rule, exc.params)))
        return None


def _no_percent_sign(value: Any, spec: FieldSpec) -> Any:
    """A rate as typed with its sign, "4.35%" or "4.35％" (review 95), read as the number it gives."""
    if spec is _RATE and isinstance(value, str) and value.strip().endswith(("%", "％")):
        return value.strip()[:-1]
    return value


def _loan_terms(merged: dict[str, Any], kind: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    """Term (months), annual rate (percent) and collateral: ranges whose lower end is not above the upper, and
    collateral from the list; only on capital needs and financing products."""
    out: dict[str, Any] = {}
    for low, high, spec, label in (
        ("term_months_min", "term_months_max", _MONTHS, _("Must not be below the shorter term.")),
        ("rate_min", "rate_max", _RATE, _("Must not be below the lower rate.")),
    ):
        out[low] = _typed(spec, _no_percent_sign(merged.get(low), spec), low, errors)
        out[high] = _typed(spec, _no_percent_sign(merged.get(high), spec), high, errors)
        if out[low] is not None and out[high] is not None and out[low] > out[high]:
            errors.setdefault(high, []).append(label)
    collateral = _words(merged.get("collateral"), "collateral", errors)
    unknown = [c for c in collateral if c not in {x.value for x in Collateral}]
    if unknown:
        errors.setdefault("collateral", []).append(
            _("Choose from: %(choices)s (not %(codes)s).")
            % {"choices": choice_words(COLLATERAL_LABELS.items()), "codes": ", ".join(unknown)}
        )
    order = [x.value for x in Collateral]  # as the form lists them, whatever order they were sent in
    out["collateral"] = sorted(collateral, key=lambda c: order.index(c) if c in order else len(order))
    if kind in {k.value for k in Kind} and kind not in LOAN_TERM_KINDS:
        for field in LOAN_TERMS:
            if out[field] not in (None, []) and field not in errors:
                errors[field] = [_("Only capital needs and financing products have loan terms: leave it empty.")]
    return out


def clean_listing(data: dict[str, Any], *, current: Listing | None = None) -> dict[str, Any]:
    """Validated fields of a listing; with `current`, only the fields given change. ValidationFailed otherwise."""
    errors: dict[str, list[str]] = {k: [_("Unknown field.")] for k in data if k not in LISTING_FIELDS}
    merged = {f: getattr(current, f) for f in LISTING_FIELDS} if current is not None else {}
    merged.update({k: v for k, v in data.items() if k in LISTING_FIELDS})
    out: dict[str, Any] = {}
    if current is not None and "side" in data and data["side"] != current.side:
        errors["side"] = [_("A need stays a need and an offer an offer: publish a new one.")]
    side = merged.get("side")
    if side not in {s.value for s in Side}:
        errors["side"] = [_("Choose need or offer.")]
    out["side"] = side
    kind = merged.get("kind")
    if kind in (None, ""):  # none chosen: said as the form's select asks it, not as a list of codes (review 100)
        errors["kind"] = [_("Choose a kind.")]
    elif kind not in {k.value for k in Kind}:
        errors["kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": choice_words((k.value, v) for k, v in KIND_LABELS.items())}
        ]
    else:
        subkind = merged.get("subkind") or ""
        if not subkind_ok(kind, subkind):
            options = SUBKINDS.get(Kind(kind), ())
            errors["subkind"] = [
                _("Choose one of: %(choices)s.") % {"choices": choice_words((o, SUBKIND_LABELS[o]) for o in options)}
                if options
                else _("Only professional services and financing products have a type.")
            ]
        out["subkind"] = subkind
    out["kind"] = kind
    for field, limit in (("title_zh", 200), ("title_en", 200), ("description_zh", 5000), ("description_en", 5000)):
        out[field] = _text(merged.get(field), field, limit, errors)
    for field in ("title_zh", "title_en"):
        if field not in errors and not is_one_line(out[field]):
            errors[field] = [str(ONE_LINE)]
    if not out["title_zh"] and not out["title_en"] and "title_zh" not in errors:
        errors["title_zh"] = [_("Give a title in Chinese, English or both.")]
    out["tags"] = _words(merged.get("tags"), "tags", errors)
    terms = _words(merged.get("terms"), "terms", errors)
    known = set(CapabilityTerm.objects.filter(code__in=terms).values_list("code", flat=True))
    if set(terms) - known:
        errors.setdefault("terms", []).append(
            _("Not in the capability catalogue: %(codes)s.") % {"codes": ", ".join(sorted(set(terms) - known))}
        )
    out["terms"] = terms
    segments = _words(merged.get("segments"), "segments", errors)
    known = set(Segment.objects.filter(code__in=segments).values_list("code", flat=True))
    if set(segments) - known:
        errors.setdefault("segments", []).append(
            _("Unknown chain segments: %(codes)s.") % {"codes": ", ".join(sorted(set(segments) - known))}
        )
    out["segments"] = segments
    rule = merged.get("region_rule") or RegionRule.ANYWHERE.value
    regions = _words(merged.get("regions"), "regions", errors)
    if rule not in {r.value for r in RegionRule}:
        errors["region_rule"] = [_("Choose anywhere, only or exclude.")]
    elif rule == RegionRule.ANYWHERE and regions:
        errors["regions"] = [_("Leave empty when the listing is open to anywhere.")]
    elif rule != RegionRule.ANYWHERE and not regions:
        errors["regions"] = [_("Name at least one province or country.")]
    known = set(
        Region.objects.filter(code__in=regions, level__in=("province", "country")).values_list("code", flat=True)
    )
    if set(regions) - known:
        errors.setdefault("regions", []).append(
            _("Give province codes (e.g. 440000) or country codes (e.g. DE), not: %(codes)s.")
            % {"codes": ", ".join(sorted(set(regions) - known))}
        )
    out["region_rule"], out["regions"] = rule, regions
    out["amount_min"] = _typed(_AMOUNT, merged.get("amount_min"), "amount_min", errors)
    out["amount_max"] = _typed(_AMOUNT, merged.get("amount_max"), "amount_max", errors)
    if out["amount_min"] is not None and out["amount_max"] is not None and out["amount_min"] > out["amount_max"]:
        errors.setdefault("amount_max", []).append(_("Must not be below the lower amount."))
    out |= _loan_terms(merged, kind, errors)
    deadline = _typed(_DATE, merged.get("deadline"), "deadline", errors)
    changed_deadline = current is None or "deadline" in data
    if isinstance(deadline, dt.date) and changed_deadline and deadline < timezone.localdate():
        errors.setdefault("deadline", []).append(_("Cannot be in the past."))
    out["deadline"] = deadline
    visibility = merged.get("visibility") or "members"
    if visibility not in Listing.Visibility.values:
        errors["visibility"] = [_("Choose public, members or partners.")]
    out["visibility"] = visibility
    anonymous = merged.get("anonymous", False)
    if not isinstance(anonymous, bool):
        errors["anonymous"] = [_("Must be true or false.")]
    out["anonymous"] = bool(anonymous)
    if errors:
        raise ValidationFailed(errors)
    return out
