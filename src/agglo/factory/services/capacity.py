"""Writes to the factory catalogue: processes, a factory's capabilities and its weekly capacity calendar."""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, NotFound, PreconditionFailed, ValidationFailed
from agglo.common.versions import version_check
from agglo.factory.models import Allocation, Capability, CapacitySlot, Operation, Order, Process
from agglo.factory.selectors.calendar import page_starts
from agglo.factory.selectors.planning import AHEAD_WEEKS, horizon
from agglo.factory.services.telling import tell_offers_overtaken
from agglo.factory.services.work import standing_refused
from agglo.factory.validation import certifications_clean, date, money, whole
from agglo.factory.weeks import monday
from agglo.registry.models import Organization
from agglo.registry.services.standing import standing_held

MAX_UNIT_COST = 1_000_000  # yuan
PROCESSES_FILE = Path(__file__).resolve().parents[1] / "data" / "processes.json"


# Any fixed number: the first key of the PostgreSQL advisory locks that plans take turns on, one per process.
PLANNING_LOCKS = 0x61676C6F  # "aglo"


def planning_turn(processes: Iterable[str]) -> None:
    """Wait for plans being made elsewhere on these processes to end. A plan keeps out of the room other orders' open
    offers hold, but two plans made at once each read the other's room as free and offered it twice (review 53 R6:
    five plans put 1,000 units on offer in a 240-unit week). On PostgreSQL, plans take turns on a lock per process
    (a plan reads and writes only its processes' capabilities, so plans of orders with no process in common go on
    at once); the locks end with the transaction and are taken after the order's lock (every plan change takes that
    first), all in one sorted sweep, so that no two turns wait on each other. A transaction takes all the turns
    it will need in its first sweep: a later one below a turn it holds could deadlock with a plan holding that one
    and waiting for ours (review 90: a calendar file over two processes took them week by week). A service that
    will re-plan takes its order's turn (`order_turn`) before it locks any capacity (a reservation, a release), so
    that it never holds what the plan ahead of it needs while it waits; taken again by `replan`, the same locks are
    simply held. Changes
    of capacity take their process's turn: a file sets weeks in its own order, which deadlocked with a delay, and a
    plan would offer room that a change made while it solved took away, unseen by the notices to the buyers of open
    offers. SQLite lets one transaction write at a time anyway."""
    if connection.vendor != "postgresql":
        return
    # a stable key per process code (a collision only makes two processes share a turn)
    keys = sorted({zlib.crc32(code.encode()) & 0x7FFFFFFF for code in processes})
    with connection.cursor() as cursor:
        for key in keys:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PLANNING_LOCKS, key])


def order_turn(order: Order) -> None:
    """The planning turn of every process on the order's route: see `planning_turn`."""
    planning_turn(Operation.objects.filter(order=order).values_list("process_id", flat=True))


def process_catalogue_load() -> int:
    """Load or refresh the process catalogue shipped with the app; returns how many processes."""
    rows = json.loads(PROCESSES_FILE.read_text(encoding="utf-8"))
    for row in rows:
        Process.objects.update_or_create(code=row["code"], defaults={k: v for k, v in row.items() if k != "code"})
    return len(rows)


def _admin_of(actor: Any, organization_id: int) -> None:
    if not (policy.is_org_admin(actor, organization_id) or policy.is_operator(actor)):
        standing_refused(actor, organization_id, calendar_not_in_good_standing())
        raise Forbidden(_("Only an administrator of the factory may change its capabilities."))


def calendar_not_in_good_standing() -> str:
    """What a factory's admins are told when it is not in good standing and they change its capabilities or
    calendar."""
    return _(
        "Your organization is not a member in good standing at present: its capabilities and capacity calendar "
        "cannot be changed until it is reinstated."
    )


@transaction.atomic
def capability_save(
    *, actor: Any, organization_id: int, data: dict[str, Any], if_match: str | None = None
) -> Capability:
    """Declare or update what a factory can make: one capability per process. `if_match`: the version of the
    declaration the caller read (`common.versions`); one changed since is not changed, and none is declared anew."""
    _admin_of(actor, organization_id)  # before any lock: a caller without the right holds nobody's row
    # the factory's standing before its process's planning turn, as a change of standing takes them
    # (`factory.receivers`): of the two the later sees the other's result, and neither waits in a cycle
    standing_held([organization_id], actor=actor)
    _admin_of(actor, organization_id)
    if not Organization.objects.filter(pk=organization_id).exists():  # an operator may name any id
        raise NotFound(_("No organization with id %(id)s.") % {"id": organization_id})
    errors: dict[str, list[str]] = {}
    process = Process.objects.filter(code=data.get("process") or "").first()
    if process is None:
        errors["process"] = [_("Choose a process from the catalogue.")]
    before = declared = None
    if process is not None:
        # the process's turn, then the declaration's row (as plans take them): two saves read and merge in turn
        planning_turn([process.code])
        current = Capability.objects.select_for_update().filter(organization_id=organization_id, process=process)
        declared = current.first()
        _version_matches(declared, if_match)
        before = {k: getattr(declared, k) for k in TERMS} if declared is not None else None
    # declared before: what the call leaves out (or sends as null) keeps its value (a left-out setup cost is not a
    # free setup)
    data = (before or {}) | {k: v for k, v in data.items() if v is not None}
    values = {
        "weekly_capacity": whole(data, "weekly_capacity", errors, low=1, high=10_000_000),
        "min_lot": whole(data, "min_lot", errors, low=1, high=10_000_000, default=1),
        "quality_grade": whole(data, "quality_grade", errors, low=1, high=3, default=2),
        "lead_weeks": whole(data, "lead_weeks", errors, low=0, high=52, default=0),
        # a unit's price times the quantities an order may ask stays within the solver's 64-bit objective
        "unit_cost": money(data, "unit_cost", errors, required=True, below=MAX_UNIT_COST, positive=True),
        "setup_cost": money(data, "setup_cost", errors, required=False) or Decimal("0"),
        "certifications": certifications_clean(data.get("certifications"), "certifications", errors),
    }
    if data.get("weekly_capacity") in (None, ""):  # a new declaration names it (a change keeps it when left out)
        errors["weekly_capacity"] = [_("This field is required.")]
    if values["unit_cost"] is not None and values["unit_cost"] == 0:
        # every plan would send its work to a free capability: a price is what the solver compares
        errors["unit_cost"] = [_("Must be more than zero: plans compare factories by what a unit costs.")]
    if data.get("active") is not None:  # else as it is (a new capability is active)
        values["active"] = bool(data["active"])
    weekly, lot = values["weekly_capacity"], values["min_lot"]
    if "weekly_capacity" not in errors and "min_lot" not in errors and lot > weekly * horizon():
        errors["min_lot"] = [
            _("Above the %(n)s this capacity makes in the %(weeks)d weeks a plan spans: it could never be used.")
            % {"n": f"{weekly * horizon():,}", "weeks": horizon()}
        ]
    if errors:
        raise ValidationFailed(errors)
    # the history shows what changed, before and after (plain values: the payload is JSON)
    plain = {k: f"{v:.2f}" if isinstance(v, Decimal) else v for k, v in values.items()}
    old = {k: f"{v:.2f}" if isinstance(v, Decimal) else v for k, v in (before or {}).items()}
    changed = [k for k in plain if k not in old or old[k] != plain[k]]
    if declared is not None and not changed:  # the same terms again (an ERP's sync): nothing to write
        return declared
    capability, created = Capability.objects.update_or_create(
        organization_id=organization_id, process=process, defaults=values
    )
    _follow_declared(capability)
    if before is not None:
        _tell_if_overtaken(capability, before)
    diff = {"before": {k: old[k] for k in changed if k in old}, "after": {k: plain[k] for k in changed}}
    record(
        "factory.capability_saved" if not created else "factory.capability_declared",
        actor=actor,
        subject=capability,
        payload={"process": process.code, **(diff if changed else {})},
        organization_id=organization_id,
    )
    return capability


TERMS = (
    "weekly_capacity",
    "min_lot",
    "quality_grade",
    "lead_weeks",
    "unit_cost",
    "setup_cost",
    "certifications",
    "active",
)


def _version_matches(declared: Capability | None, if_match: str | None) -> None:
    """`version_check`, and a declaration the caller read that is not there (RFC 9110 §13.1.1: no current
    representation matches an `If-Match`)."""
    if declared is not None:
        version_check(declared, if_match)
    elif if_match is not None:
        raise PreconditionFailed(
            _("The factory declares no capability of this process: send a new declaration without If-Match.")
        )


def _follow_declared(capability: Capability) -> None:
    """Weeks from now on that only hold reservations take the declared weekly capacity; where accepted work holds
    more, the week keeps exactly that (the work is honoured, nothing more is offered). Weeks set by hand stay."""
    weekly = capability.weekly_capacity
    ahead = CapacitySlot.objects.filter(capability=capability, by_hand=False, week__gte=monday(timezone.localdate()))
    ahead.filter(reserved__lte=weekly).exclude(capacity=weekly).update(capacity=weekly)
    ahead.filter(reserved__gt=weekly).update(capacity=F("reserved"))


def _tell_if_overtaken(capability: Capability, before: dict[str, Any]) -> None:
    """A factory that lowers its declared capacity, or stops offering the process, may leave open offers without
    the room to accept them: their buyers hear it at once, as when it lowers one week."""
    stopped = before["active"] and not capability.active
    if not stopped and capability.weekly_capacity >= before["weekly_capacity"]:
        return
    weeks = set(
        Allocation.objects.filter(
            capability=capability, status=Allocation.Status.OFFERED, week__gte=monday(timezone.localdate())
        ).values_list("week", flat=True)
    )
    if stopped:
        tell_offers_overtaken(capability, dict.fromkeys(weeks, 0), why="stopped")
        return
    slots = {s.week: s for s in CapacitySlot.objects.filter(capability=capability, week__in=weeks)}
    followed = [w for w in weeks if not (w in slots and slots[w].by_hand)]  # a week set by hand kept its figure
    reserved = {w: slots[w].reserved if w in slots else 0 for w in followed}
    rooms = {w: (slots[w].capacity if w in slots else capability.weekly_capacity) - reserved[w] for w in followed}
    was = {w: max(0, before["weekly_capacity"] - reserved[w]) for w in followed}
    tell_offers_overtaken(capability, rooms, why="lowered", before=was)


MAX_CAPACITY = 10_000_000  # units a week


def settable_weeks() -> tuple[dt.date, dt.date]:
    """The Mondays of the first and the last week whose capacity may be set: the week under way, and the last week
    any plan can reach."""
    this_week = monday(timezone.localdate())
    return this_week, this_week + dt.timedelta(weeks=AHEAD_WEEKS + horizon() - 1)


def week_out_of_range() -> str:
    first, last = settable_weeks()
    return _("Must lie between the current week (%(week)s) and the last week a plan can reach (%(last)s).") % {
        "week": first,
        "last": last,
    }


def below_reserved(capability: Capability, reserved: int) -> str:
    return _("Must not be below the %(n)d %(unit)s that accepted work already holds in this week.") % {
        "n": reserved,
        "unit": capability.process.unit_for(reserved),
    }


@transaction.atomic
def capacity_set(*, actor: Any, capability: Capability, week: Any, capacity: Any) -> CapacitySlot:
    """Set one week's capacity (holidays, maintenance, extra shifts); never below what accepted work holds."""
    _admin_of(actor, capability.organization_id)  # before any lock: a caller without the right holds nobody's row
    standing_held([capability.organization_id], actor=actor)  # before the turn, as in `capability_save`
    _admin_of(actor, capability.organization_id)
    errors: dict[str, list[str]] = {}
    day = date(week, "week", errors)
    amount = whole({"capacity": capacity}, "capacity", errors, low=0, high=MAX_CAPACITY)
    first, last = settable_weeks()
    if day is not None and not first <= day <= last + dt.timedelta(days=6):
        errors["week"] = [week_out_of_range()]
    if errors or day is None:
        raise ValidationFailed(errors)
    return week_write(actor=actor, capability=capability, week=monday(day), amount=amount)[0]


@dataclass(frozen=True)
class Lowered:
    """A week whose capacity went down: the room accepted work leaves it now, and left it before."""

    week: dt.date
    room: int
    was: int


def week_write(
    *, actor: Any, capability: Capability, week: dt.date, amount: int, source: str = "", tell: bool = True
) -> tuple[CapacitySlot, Lowered | None]:
    """Set the capacity of the week of Monday `week`, checked already but for what accepted work holds, which is
    checked here under the slot's lock. A lower figure is returned, and unless `tell` is off (a file tells once
    for all its weeks) the buyers of offers it no longer fits are told. `source`: the file it came from. The
    caller holds the factory's standing already (`standing_held`)."""
    planning_turn([capability.process_id])  # before the week's lock (a file's first week takes it for all)
    slot, created = CapacitySlot.objects.select_for_update().get_or_create(
        capability=capability, week=week, defaults={"capacity": amount, "by_hand": True}
    )
    if amount < slot.reserved:
        raise ValidationFailed({"capacity": [below_reserved(capability, slot.reserved)]})
    # a new week starts from the declared capacity as it is now, after the turn, not from the caller's copy read
    # before it: a change of terms committed meanwhile would be told as the week's earlier figure (review 99)
    before = (
        Capability.objects.values_list("weekly_capacity", flat=True).get(pk=capability.pk) if created else slot.capacity
    )
    slot.capacity, slot.by_hand = amount, True
    slot.save(update_fields=["capacity", "by_hand"])
    lowered = Lowered(slot.week, amount - slot.reserved, before - slot.reserved) if amount < before else None
    if lowered is not None and tell:  # offers made on the old figure may no longer fit
        tell_offers_overtaken(capability, {slot.week: lowered.room}, why="lowered", before={slot.week: lowered.was})
    record(
        "factory.capacity_set",
        actor=actor,
        subject=capability,
        payload={
            "process": capability.process_id,
            "week": slot.week.isoformat(),
            "was": before,
            "capacity": amount,
            **({"file": source} if source else {}),
        },
        organization_id=capability.organization_id,
    )
    return slot, lowered


def free_in(capability: Capability, week: dt.date) -> int:
    """What a week of the capability can still take: its capacity less what accepted work holds."""
    slot = CapacitySlot.objects.filter(capability=capability, week=monday(week)).first()
    return max(0, slot.capacity - slot.reserved) if slot else capability.weekly_capacity


def reserve(capability: Capability, week: dt.date, quantity: int) -> bool:
    """Hold `quantity` of a week's capacity for accepted work; False when it no longer fits."""
    # the declared capacity read under a lock, not from the caller's copy: a week without its own row starts
    # from it, and the factory may have lowered it while this answer was on its way
    # FOR NO KEY UPDATE: it must not block the foreign-key checks of other transactions' new rows that name the
    # capability (a re-plan's offers, checked at its commit), which waited for this while it waited for them
    declared = (
        Capability.objects.select_for_update(no_key=True)
        .values_list("weekly_capacity", flat=True)
        .get(pk=capability.pk)
    )
    slot, _created = CapacitySlot.objects.select_for_update().get_or_create(
        capability=capability, week=monday(week), defaults={"capacity": declared}
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


def page_start_checked(start: str | None) -> str | None:
    """A calendar page's first week as asked: a date within the weeks that may be set (the page moves a date
    outside them to the nearest end; the API, a file and the command tell instead of giving other weeks than
    were asked for: data review 58 L5)."""
    if not start:
        return None
    errors: dict[str, list[str]] = {}
    day = date(start, "from", errors)
    first, last = page_starts()  # a page asked from later would be moved (recheck 57)
    if day is not None and not first <= monday(day) <= last:
        errors["from"] = [
            _("A page of weeks starts between the current week (%(week)s) and %(last)s.")
            % {"week": first.isoformat(), "last": last.isoformat()}
        ]
    if errors:
        raise ValidationFailed(errors)
    return start
