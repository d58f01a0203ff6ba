"""An order's plan as a file (CSV or XLSX) for a spreadsheet or an ERP that reads files: a row per piece of work
(a factory's part of a step in one week), as the order page's allocations list shows it to the reader: the whole
plan for the buyer, operators and auditors, its own part for a factory."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from agglo.common.errors import ValidationFailed
from agglo.factory.models import Order
from agglo.factory.selectors.calendar_file import CONTENT_TYPES
from agglo.factory.selectors.orders import plan_allocations
from agglo.profiles.tabular import write_csv, write_xlsx

COLUMNS = (
    "order_id",
    "step",
    "process",
    "process_name",
    "factory_id",
    "factory",
    "region",
    "week",
    "quantity",
    "unit",
    "unit_cost",
    "amount",
    "status",
    "status_name",
    "promised_week",
    "started",
    "quantity_done",
    "delivered_on",
    "defects",
    "receipt",
    "defects_found",
)


def plan_rows(*, actor: Any, order: Order) -> list[tuple[Any, ...]]:
    """The plan's work the actor sees, in route order, then by week and factory, in `COLUMNS`."""
    rows = []
    work = plan_allocations(actor=actor, order=order).order_by("operation__seq", "week", "factory_id", "id")
    for a in work:
        process = a.operation.process
        rows.append(
            (
                order.pk,
                a.operation.seq,
                process.code,
                process.name,
                a.factory_id,
                a.factory.name,
                a.factory.area.name if a.factory.area else "",
                a.week.isoformat(),
                a.quantity,
                str(process.unit),
                a.unit_cost,
                a.unit_cost * a.quantity,
                a.status,
                a.get_status_display(),
                a.promised_week.isoformat() if a.promised_week else "",
                a.started,
                a.quantity_done,
                a.delivered_on.isoformat() if a.delivered_on else "",
                a.defects if a.status == a.Status.DELIVERED else "",
                a.receipt,
                "" if a.defects_found is None else a.defects_found,
            )
        )
    return rows


def _plain(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.2f}" if isinstance(value, Decimal) else value


def plan_file(*, actor: Any, order: Order, format: str) -> tuple[bytes, str, str]:
    """The file's bytes, content type and name."""
    if format not in CONTENT_TYPES:
        raise ValidationFailed({"format": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(CONTENT_TYPES)}]})
    rows = plan_rows(actor=actor, order=order)
    if format == "xlsx":  # money as numbers a spreadsheet sums and sorts (review 95), to the fen
        body = write_xlsx(COLUMNS, [[float(v) if isinstance(v, Decimal) else v for v in row] for row in rows], "plan")
    else:  # money to the fen, yes and no as a program reads them
        body = write_csv(COLUMNS, [[_plain(v) for v in row] for row in rows])
    return body, CONTENT_TYPES[format], f"order-{order.pk}-plan-v{order.plan_version}.{format}"
