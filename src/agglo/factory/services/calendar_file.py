"""A factory's capacity calendar from a file (CSV or XLSX), as exported by `selectors.calendar_file` and edited in a
spreadsheet or written by an ERP.

Each row names one week of one capability: `organization_id` (the member's id), `process` (its catalogue code),
`week` (any day of it: its Monday is used) and `capacity`. The columns the export adds for reading are ignored. A
dry run checks every row and writes nothing; a real run writes every changed week or, if any row is bad, none. A row
whose capacity is what its week has already changes nothing, so an exported file imports back unchanged; a changed
week is set as on the calendar page (`capacity.week_write`: never below what accepted work holds, and the buyers of
offers a lower figure no longer fits are told).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.numbers import whole_number
from agglo.factory.models import Capability, CapacitySlot, Process
from agglo.factory.selectors.calendar_file import COLUMNS, KEY_COLUMNS
from agglo.factory.services.capacity import (
    MAX_CAPACITY,
    Lowered,
    below_reserved,
    planning_turn,
    settable_weeks,
    week_out_of_range,
    week_write,
)
from agglo.factory.services.telling import tell_offers_overtaken
from agglo.factory.weeks import monday
from agglo.profiles.messages import missing_day
from agglo.profiles.services.imports import MAX_ERRORS, RowError, size_check, table_read, unreadable
from agglo.profiles.tabular import Table, day_written
from agglo.registry.models import Organization
from agglo.registry.services.standing import standing_held

BIGGEST_ID = 2**63  # ids past a database's 64-bit integers are no one's (and never reach a query)
WHOLE_WRITTEN = re.compile(r"[+-]?\d+(?:\.0+)?")


@dataclass
class CalendarImport:
    dry_run: bool
    rows: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS, by row
    errors_total: int = 0
    applied: bool = False


@dataclass(frozen=True)
class _Change:
    row: int
    capability: Capability
    week: dt.date
    amount: int


def calendar_import(*, actor: Any, body: bytes, filename: str, dry_run: bool) -> CalendarImport:
    """Check, and unless `dry_run` apply, one calendar file; raises ValidationFailed for a file that cannot be read
    and Forbidden for a user who administers no factory."""
    if not (policy.is_operator(actor) or policy.administered_organization_ids(actor)):
        raise Forbidden(_("Only an administrator of a member factory may import its capacity calendar."))
    if not body:
        raise ValidationFailed({"file": [_("The file is empty.")]})
    size_check(len(body))
    table = table_read(body, filename)
    result = CalendarImport(dry_run=dry_run, rows=len(table.rows))
    result.errors = _header_errors(table)
    if not result.errors:
        changes = _checked(actor, table, result)
        if not result.errors and not dry_run:
            try:
                with transaction.atomic():
                    _write(actor, changes, filename[:200])
            except _RowRefused as exc:  # accepted work took the room meanwhile: nothing written
                result.errors = [exc.error]
    result.errors_total = len(result.errors)
    # a file of bad rows answers with the first ones and their count, not an answer many times its size
    result.errors = result.errors[:MAX_ERRORS]
    if result.errors:
        result.changed = result.unchanged = 0
    result.applied = not result.errors and not dry_run
    return result


class _RowRefused(Exception):
    def __init__(self, error: RowError) -> None:
        self.error = error


def _write(actor: Any, changes: list[_Change], filename: str) -> None:
    """Every changed week, each in its capability's history naming the file; then, for each capability whose
    weeks went down, its buyers told once, naming all those weeks (recheck 46 F3: a notice per week)."""
    lowered: dict[int, tuple[Capability, list[Lowered]]] = {}
    # every factory's standing in one sweep, before the planning turns, as a change of standing takes them
    # (`capacity.capability_save`); then the rights read again: a factory suspended since the rows were checked has
    # nothing written, and says so
    standing_held({change.capability.organization_id for change in changes}, actor=actor)
    if not policy.is_operator(actor):
        mine = policy.administered_organization_ids(actor)
        for change in changes:
            if (org := change.capability.organization_id) not in mine:
                raise _RowRefused(_not_administered(actor, change.row, org))
    # every process's turn at once, before the first week's lock: each week's write takes its own process's turn
    # again, held already (see `capacity.planning_turn`)
    planning_turn({change.capability.process_id for change in changes})
    for change in changes:
        try:
            _slot, down = week_write(
                actor=actor,
                capability=change.capability,
                week=change.week,
                amount=change.amount,
                source=filename,
                tell=False,
            )
        except ValidationFailed as exc:
            said = "; ".join(m for ms in (exc.errors or {}).values() for m in ms) or exc.message
            raise _RowRefused(RowError(change.row, "capacity", "below_reserved", said)) from None
        if down is not None:
            lowered.setdefault(change.capability.pk, (change.capability, []))[1].append(down)
    for capability, weeks in lowered.values():
        rooms = {w.week: w.room for w in weeks}
        tell_offers_overtaken(capability, rooms, why="lowered", before={w.week: w.was for w in weeks})


def _header_errors(table: Table) -> list[RowError]:
    known = ", ".join(COLUMNS)
    errors = [
        RowError(
            1,
            name,
            "unknown_column",
            _("Not a column of the calendar file, whose columns are: %(names)s.") % {"names": known},
        )
        for name in table.header
        if name and name not in COLUMNS
    ]
    errors += [
        RowError(
            1,
            name,
            "missing_column",
            _("The file must have this column (%(names)s are required).") % {"names": ", ".join(KEY_COLUMNS)},
        )
        for name in KEY_COLUMNS
        if name not in table.header
    ]
    return errors


def _checked(actor: Any, table: Table, result: CalendarImport) -> list[_Change]:
    """Every row checked: the errors into `result`, and the weeks to change (with the count of unchanged ones)."""
    readable = []
    for row_no, row in table.rows:
        flaws = unreadable(row_no, row)
        result.errors += flaws
        if not flaws:
            readable.append((row_no, row))
    ids = {n for _, row in readable if 0 < (n := whole_number(row.get("organization_id")) or 0) < BIGGEST_ID}
    every = policy.is_operator(actor)  # an operator may set any member's calendar
    mine = _organizations_existing(ids) if every else ids & policy.administered_organization_ids(actor)
    capabilities = {
        (c.organization_id, c.process_id): c
        for c in Capability.objects.filter(organization_id__in=mine).select_related("process")
    }
    processes = set(Process.objects.values_list("code", flat=True))
    first, last = settable_weeks()
    weeks = {monday(d) for _, row in readable if (d := day_written(row.get("week"))) is not None}
    slots = {
        (s.capability_id, s.week): s
        for s in CapacitySlot.objects.filter(capability__in=list(capabilities.values()), week__in=weeks)
    }
    seen: dict[tuple[int, dt.date], int] = {}
    changes = []
    for row_no, row in readable:
        errors: list[RowError] = []

        def flaw(column: str, rule: str, message: str, row_no: int = row_no, errors: list[RowError] = errors) -> None:
            errors.append(RowError(row_no, column, rule, message))

        org = whole_number(row.get("organization_id"))
        if _blank(row.get("organization_id")):
            flaw("organization_id", "required", _("This field is required."))
        elif org is None:
            flaw("organization_id", "not_a_number", _("Must be the member's id, a whole number (the export gives it)."))
        elif org not in mine and every:
            flaw("organization_id", "unknown", _("No organization with id %(id)s.") % {"id": org})
        elif org not in mine:
            errors.append(_not_administered(actor, row_no, org))
        code = str(row.get("process") or "").strip()
        capability = capabilities.get((org, code)) if org is not None else None
        if not code:
            flaw("process", "required", _("This field is required."))
        elif code not in processes:
            flaw("process", "not_a_process", _("Not a process code of the catalogue, such as cnc or smt."))
        elif org in mine and capability is None:
            flaw(
                "process",
                "undeclared",
                _("Organization %(id)s has not declared this process: declare it on the capacity page first.")
                % {"id": org},
            )
        day = day_written(row.get("week"))
        if _blank(row.get("week")):
            flaw("week", "required", _("This field is required."))
        elif day is None and (missing := missing_day(row.get("week"))) is not None:
            flaw("week", "no_such_day", missing)
        elif day is None:
            flaw("week", "not_a_date", _("Must be a date written year first, such as 2026-12-31 or 2026/12/31."))
        elif day > last + dt.timedelta(days=6):
            flaw("week", "out_of_range", week_out_of_range())
        amount = _whole(row.get("capacity"))
        if _blank(row.get("capacity")):
            flaw("capacity", "required", _("This field is required."))
        elif amount is None:
            flaw("capacity", "not_a_number", _("Must be a whole number."))
        elif not 0 <= amount <= MAX_CAPACITY:
            flaw(
                "capacity",
                "out_of_range",
                _("Must be between %(low)s and %(high)s.") % {"low": 0, "high": "10,000,000"},
            )
        if not errors and capability is not None and day is not None and amount is not None:
            week = monday(day)
            if (earlier := seen.get((capability.pk, week))) is not None:
                flaw("week", "duplicate", _("Row %(row)s sets this week of this process already.") % {"row": earlier})
            seen.setdefault((capability.pk, week), row_no)
            slot = slots.get((capability.pk, week))
            same = amount == (slot.capacity if slot is not None else capability.weekly_capacity)
            if week < first and not same:  # a past week is history; as it was, it is left as it is
                flaw("week", "out_of_range", week_out_of_range())
            elif slot is not None and amount < slot.reserved:
                flaw("capacity", "below_reserved", below_reserved(capability, slot.reserved))
            if not errors:
                if same:
                    result.unchanged += 1
                else:
                    changes.append(_Change(row_no, capability, week, amount))
        result.errors += errors
    result.errors.sort(key=lambda e: e.row)
    result.changed = len(changes)
    return changes


def _not_administered(actor: Any, row: int, org: int) -> RowError:
    """The error of a row naming an organization the actor does not administer: one of its own that is not a
    member in good standing at present says so (its admins read the calendar, they do not change it)."""
    if org in policy.organization_ids(actor) and org not in policy.active_organization_ids(actor):
        return RowError(
            row,
            "organization_id",
            "not_in_good_standing",
            _(
                "Organization %(id)s is not a member in good standing at present: its calendar cannot be changed "
                "until it is reinstated."
            )
            % {"id": org},
        )
    return RowError(row, "organization_id", "not_yours", _("You do not administer organization %(id)s.") % {"id": org})


def _organizations_existing(ids: set[int]) -> set[int]:
    return set(Organization.objects.filter(pk__in=ids).values_list("pk", flat=True))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _whole(value: Any) -> int | None:
    """A whole number as a spreadsheet may write it: 12, or 12.0 saved as text."""
    if isinstance(value, str) and WHOLE_WRITTEN.fullmatch(value.strip()):
        return int(value.strip().split(".")[0])
    return whole_number(value)
