"""Field rules for organization data, shared by the admission form, the API, the admin and the demo loader.

Every rule reports the field it concerns, so interfaces can show the message beside that field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.common.errors import ValidationFailed
from agglo.common.lines import ONE_LINE, is_one_line
from agglo.registry import uscc as uscc_rules
from agglo.registry.kinds import Kind, layer_of, size_class_for
from agglo.registry.models import Region

ORG_FIELDS = (
    "uscc",
    "foreign_registry_id",
    "name_zh",
    "name_en",
    "kind",
    "region",
    "founded_year",
    "headcount",
    "size_class",
    "website",
    "description",
    "tags",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contacts_visibility",
)
# An organization's standing is changed by one service only (`services.standing.organization_set_status`), which
# records the change and carries it out: every other way in that names the status (a change of its fields, a new
# one, an imported file) is refused with this rule, in the field's name.
STATUS_RULE = gettext_lazy(
    "The status is not changed here: an operator suspends, reinstates or marks an organization as withdrawn (the "
    "actions of the organization list in the admin, or POST /api/v1/organizations/{id}/status, where an admin may "
    "also withdraw their own), which records the change and carries out what it means."
)
VISIBILITY_LEVELS = ("public", "members", "partners", "private")
MAX_TAGS = 20
MAX_TAG_LENGTH = 30


def _text(
    data: dict[str, Any],
    field: str,
    errors: dict[str, list[str]],
    *,
    max_length: int,
    required: bool = False,
    one_line: bool = False,
) -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(field, []).append(_("Must be text."))
        return ""
    value = value.strip()
    if required and not value:
        errors.setdefault(field, []).append(_("This field is required."))
    if one_line and not is_one_line(value):
        errors.setdefault(field, []).append(str(ONE_LINE))
    if len(value) > max_length:
        errors.setdefault(field, []).append(
            _("At most %(max)d characters (has %(n)d).") % {"max": max_length, "n": len(value)}
        )
    return value


def _int(data: dict[str, Any], field: str, errors: dict[str, list[str]], *, low: int, high: int) -> int | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        number = int(value)
        if isinstance(value, float) and value != number:
            raise ValueError
    except (TypeError, ValueError):
        errors.setdefault(field, []).append(_("Must be a whole number."))
        return None
    if not low <= number <= high:
        errors.setdefault(field, []).append(_("Must be between %(low)d and %(high)d.") % {"low": low, "high": high})
    return number


def _uscc_why(problem: uscc_rules.UsccProblem, code: str) -> str:
    """Why a credit code is refused, in the reader's language (the pure rules name the rule)."""
    if problem.rule == "length":
        return _("it must have %(n)d characters, and has %(has)d") % {"n": uscc_rules.LENGTH, "has": len(code)}
    if problem.rule == "alphabet":
        bad = "".join(sorted({c for c in code if c not in uscc_rules.ALPHABET}))
        return _("it holds characters no credit code has: %(bad)s (I, O, S, V, Z never occur)") % {"bad": bad}
    if problem.rule == "division":
        return _("characters 3 to 8 must be the 6-digit administrative division code")
    if problem.rule == "province":
        return _("its division code %(division)s names no province of GB/T 2260") % {"division": code[2:8]}
    return problem.message


def clean_organization(data: dict[str, Any], *, partial: bool = False, current: Any = None) -> dict[str, Any]:
    """Validate and normalize organization fields; raises ValidationFailed naming every bad field.

    With `partial`, only the fields present are checked (an update); `current` is the organization being
    updated, whose region decides whether a credit code or a foreign registry id is required.
    """
    unknown = sorted(set(data) - set(ORG_FIELDS) - {"status"})
    errors: dict[str, list[str]] = {}
    if "status" in data:
        errors["status"] = [str(STATUS_RULE)]
    for field in unknown:
        errors[field] = [_("Unknown field.")]
    out: dict[str, Any] = {}

    def present(field: str) -> bool:
        return not partial or field in data

    if present("name_zh"):
        out["name_zh"] = _text(data, "name_zh", errors, max_length=200, required=True, one_line=True)
    if present("name_en"):
        out["name_en"] = _text(data, "name_en", errors, max_length=200, one_line=True)
    if present("description"):
        out["description"] = _text(data, "description", errors, max_length=5000)
    if present("kind"):
        kind = data.get("kind")
        if kind not in {k.value for k in Kind}:
            errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(k.value for k in Kind)}]
        else:
            out["kind"] = kind
            out["layer"] = layer_of(kind).value
    region = current.region if current is not None else None
    if present("region"):
        code = str(data.get("region") or "").strip()
        region = Region.objects.filter(code=code).select_related("parent").first() if code else None
        if region is None:
            errors["region"] = [
                _("Unknown region %(code)s: give a GB/T 2260 code or an ISO 3166-1 alpha-2 country code.")
                % {"code": code or "''"}
            ]
        elif region.code == "CN":
            errors["region"] = [_("Give the province or city within China, not the country.")]
        else:
            out["region"] = region
            out["area"] = region if region.level != Region.Level.PREFECTURE else region.parent
    this_year = timezone.localdate().year
    if present("founded_year"):
        out["founded_year"] = _int(data, "founded_year", errors, low=1800, high=this_year)
    if present("headcount"):
        out["headcount"] = _int(data, "headcount", errors, low=0, high=5_000_000)
    if present("size_class") or present("headcount"):
        size = data.get("size_class") or ""
        valid_sizes = {"micro", "small", "medium", "large"}
        if size and size not in valid_sizes:
            errors["size_class"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(sorted(valid_sizes))}]
        elif not size and out.get("headcount") is not None:
            size = size_class_for(out["headcount"]).value
        if size or not partial:
            out["size_class"] = size
    if present("website"):
        website = _text(data, "website", errors, max_length=200)
        if website:
            try:
                URLValidator(schemes=["http", "https"])(website)
            except ValidationError:
                errors.setdefault("website", []).append(_("Enter a full http:// or https:// address."))
        out["website"] = website
    if present("tags"):
        tags = data.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in (s.strip() for s in tags.replace("，", ",").split(",")) if t]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            errors["tags"] = [_("Give a list of words.")]
        elif len(tags) > MAX_TAGS or any(len(t.strip()) > MAX_TAG_LENGTH or not t.strip() for t in tags):
            errors["tags"] = [
                _("At most %(n)d tags of 1 to %(len)d characters each.") % {"n": MAX_TAGS, "len": MAX_TAG_LENGTH}
            ]
        else:
            out["tags"] = list(dict.fromkeys(t.strip() for t in tags))

    in_china = region is not None and region.country_code == "CN"
    if present("uscc") or present("region"):
        raw = data.get("uscc") if "uscc" in data else (current.uscc if current is not None else None)
        code = uscc_rules.normalize(raw) if isinstance(raw, str) else ""
        if raw is not None and not isinstance(raw, str):
            errors["uscc"] = [_("Must be text.")]
        elif code:
            problem = uscc_rules.problem(code)
            if problem is not None:
                if problem.expected_check:
                    errors["uscc"] = [
                        _("The check character is %(got)s but must be %(expected)s (GB 32100-2015).")
                        % {"got": code[17], "expected": problem.expected_check}
                    ]
                else:
                    errors["uscc"] = [
                        _("Not a unified social credit code: %(why)s.") % {"why": _uscc_why(problem, code)}
                    ]
            out["uscc"] = code
        elif in_china and not errors.get("region"):
            errors["uscc"] = [_("Organizations in China must give their 18-character unified social credit code.")]
        else:
            out["uscc"] = None
    if present("foreign_registry_id") or present("region"):
        foreign_id = (
            _text(data, "foreign_registry_id", errors, max_length=60)
            if "foreign_registry_id" in data
            else (current.foreign_registry_id if current is not None else "")
        )
        if region is not None and not in_china and not foreign_id and "region" not in errors:
            errors["foreign_registry_id"] = [
                _("Organizations outside China must give the id of their national company registry.")
            ]
        out["foreign_registry_id"] = foreign_id
    for field, limit in (("contact_name", 100), ("contact_phone", 40), ("contact_email", 254)):
        if field in data:
            out[field] = _text(data, field, errors, max_length=limit)
    if out.get("contact_email") and "contact_email" not in errors:
        try:
            validate_email(out["contact_email"])
        except ValidationError:
            errors["contact_email"] = [_("Enter a valid email address.")]
    if "contacts_visibility" in data:
        if data["contacts_visibility"] not in VISIBILITY_LEVELS:
            errors["contacts_visibility"] = [
                _("Choose one of: %(choices)s.") % {"choices": ", ".join(VISIBILITY_LEVELS)}
            ]
        else:
            out["contacts_visibility"] = data["contacts_visibility"]
    if errors:
        raise ValidationFailed(errors)
    return out
