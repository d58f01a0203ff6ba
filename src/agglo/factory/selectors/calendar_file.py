"""A member's capacity calendar as a file (CSV or XLSX) to edit in a spreadsheet and import again
(`services.calendar_file`): one row per capability and week, with the figures the calendar page shows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from agglo.common.errors import ValidationFailed
from agglo.factory.selectors.calendar import capacity_calendar
from agglo.factory.selectors.orders import capability_list
from agglo.profiles.tabular import write_csv, write_xlsx

KEY_COLUMNS = ("organization_id", "process", "week", "capacity")
# the others are for the reader: an import ignores them
COLUMNS = ("organization_id", "organization", "process", "process_name", "week", "capacity", "reserved", "on_offer")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def calendar_rows(*, actor: Any, weeks: list[dt.date]) -> list[tuple[Any, ...]]:
    """The actor's capabilities (as the calendar page lists them) over `weeks`, a row per week, in `COLUMNS`."""
    rows = []
    for capability, row in capacity_calendar(
        capability_list(actor=actor).order_by("organization_id", "process"), weeks
    ):
        for week in row:
            rows.append(
                (
                    capability.organization_id,
                    capability.organization.name,
                    capability.process_id,
                    capability.process.name,
                    week.week.isoformat(),
                    week.capacity,
                    week.reserved,
                    week.on_offer,
                )
            )
    return rows


def calendar_file(*, actor: Any, format: str, weeks: list[dt.date]) -> tuple[bytes, str, str]:
    """The file's bytes, content type and name."""
    if format not in CONTENT_TYPES:
        raise ValidationFailed({"format": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(CONTENT_TYPES)}]})
    rows = calendar_rows(actor=actor, weeks=weeks)
    body = write_xlsx(COLUMNS, rows, "capacity") if format == "xlsx" else write_csv(COLUMNS, rows)
    return body, CONTENT_TYPES[format], f"capacity-{weeks[0].isoformat()}.{format}"
