"""Writes to the factory catalogue: processes, a factory's capabilities and its weekly capacity calendar."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.models import Capability, CapacitySlot, Process
from agglo.factory.weeks import monday

CERTIFICATIONS = ("ISO9001", "ISO14001", "IATF16949", "ISO13485", "AS9100", "CCC", "CE", "UL", "RoHS")
PROCESSES_FILE = Path(__file__).resolve().parents[1] / "data" / "processes.json"


def process_catalogue_load() -> int:
    """Load or refresh the process catalogue shipped with the app; returns how many processes."""
    rows = json.loads(PROCESSES_FILE.read_text(encoding="utf-8"))
    for row in rows:
        Process.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    return len(rows)


def _admin_of(actor: Any, organization_id: int) -> None:
    if not (policy.is_org_admin(actor, organization_id) or policy.is_operator(actor)):
        raise Forbidden(_("Only an administrator of the factory may change its capabilities."))


def _whole(
    data: dict[str, Any], field: str, errors: dict[str, list[str]], *, low: int, high: int, default: Any = None
) -> int:
    value = data.get(field, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = [_("Must be a whole number.")]
        return 0
    if not low <= number <= high:
        errors[field] = [_("Must be between %(low)d and %(high)d.") % {"low": low, "high": high}]
    return number


def _money(data: dict[str, Any], field: str, errors: dict[str, list[str]], *, required: bool) -> Decimal | None:
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
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        errors[field] = [_("Must be zero or more, below 10,000,000,000.")]
        return None
    return amount.quantize(Decimal("0.01"))


def certifications_clean(value: Any, field: str, errors: dict[str, list[str]]) -> list[str]:
    if value in (None, ""):
        return []
    items = [v.strip() for v in value.split(",")] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        errors[field] = [_("Must be a list of certification codes.")]
        return []
    unknown = [v for v in items if v and v not in CERTIFICATIONS]
    if unknown:
        errors[field] = [
            _("Unknown certification %(code)s; use one of: %(choices)s.")
            % {"code": unknown[0], "choices": ", ".join(CERTIFICATIONS)}
        ]
    return sorted({v for v in items if v})


@transaction.atomic
def capability_save(*, actor: Any, organization_id: int, data: dict[str, Any]) -> Capability:
    """Declare or update what a factory can make: one capability per process."""
    _admin_of(actor, organization_id)
    errors: dict[str, list[str]] = {}
    process = Process.objects.filter(code=data.get("process") or "").first()
    if process is None:
        errors["process"] = [_("Choose a process from the catalogue.")]
    values = {
        "weekly_capacity": _whole(data, "weekly_capacity", errors, low=1, high=10_000_000),
        "min_lot": _whole(data, "min_lot", errors, low=1, high=10_000_000, default=1),
        "quality_grade": _whole(data, "quality_grade", errors, low=1, high=3, default=2),
        "lead_weeks": _whole(data, "lead_weeks", errors, low=0, high=52, default=0),
        "unit_cost": _money(data, "unit_cost", errors, required=True),
        "setup_cost": _money(data, "setup_cost", errors, required=False) or Decimal("0"),
        "certifications": certifications_clean(data.get("certifications"), "certifications", errors),
        "active": bool(data.get("active", True)),
    }
    if errors:
        raise ValidationFailed(errors)
    capability, created = Capability.objects.update_or_create(
        organization_id=organization_id, process=process, defaults=values
    )
    record(
        "factory.capability_saved" if not created else "factory.capability_declared",
        actor=actor,
        subject=capability,
        payload={"process": process.code, "weekly_capacity": values["weekly_capacity"]},
        organization_id=organization_id,
    )
    return capability


@transaction.atomic
def capacity_set(*, actor: Any, capability: Capability, week: dt.date, capacity: Any) -> CapacitySlot:
    """Set one week's capacity (holidays, maintenance, extra shifts); never below what accepted work holds."""
    _admin_of(actor, capability.organization_id)
    errors: dict[str, list[str]] = {}
    amount = _whole({"capacity": capacity}, "capacity", errors, low=0, high=10_000_000)
    if errors:
        raise ValidationFailed(errors)
    slot, _created = CapacitySlot.objects.select_for_update().get_or_create(
        capability=capability, week=monday(week), defaults={"capacity": amount}
    )
    if amount < slot.reserved:
        raise ValidationFailed(
            {"capacity": [_("Accepted work already holds %(n)d in this week.") % {"n": slot.reserved}]}
        )
    slot.capacity = amount
    slot.save(update_fields=["capacity"])
    record(
        "factory.capacity_set",
        actor=actor,
        subject=capability,
        payload={"week": slot.week.isoformat(), "capacity": amount},
        organization_id=capability.organization_id,
    )
    return slot


def reserve(capability: Capability, week: dt.date, quantity: int) -> bool:
    """Hold `quantity` of a week's capacity for accepted work; False when it no longer fits."""
    slot, _created = CapacitySlot.objects.select_for_update().get_or_create(
        capability=capability, week=monday(week), defaults={"capacity": capability.weekly_capacity}
    )
    if slot.reserved + quantity > slot.capacity:
        return False
    slot.reserved += quantity
    slot.save(update_fields=["reserved"])
    return True


def release(capability: Capability, week: dt.date, quantity: int) -> None:
    slot = CapacitySlot.objects.select_for_update().filter(capability=capability, week=monday(week)).first()
    if slot is not None:
        slot.reserved = max(0, slot.reserved - quantity)
        slot.save(update_fields=["reserved"])
