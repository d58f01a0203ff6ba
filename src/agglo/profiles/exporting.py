"""Turning an export into a file download, shared by the API and the export page."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _

from agglo.access.models import DailyQuota
from agglo.access.quotas import profiles_exported, quota_consume, quota_refused
from agglo.access.ratelimit import RateLimited
from agglo.access.services import sensitive_views_record
from agglo.common.errors import ValidationFailed
from agglo.profiles import selectors
from agglo.profiles.selectors.exports import EXPORT_KINDS
from agglo.profiles.tabular import write_csv, write_json, write_xlsx

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def export_response(actor: Any, kind: str, format: str, *, channel: str, own: bool = False) -> HttpResponse:
    """The file of an export; the sensitive groups it shows are written to their owners' access logs."""
    errors = {}
    if kind not in EXPORT_KINDS:
        errors["kind"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(EXPORT_KINDS)}]
    if format not in CONTENT_TYPES:
        errors["format"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(CONTENT_TYPES)}]
    if errors:
        raise ValidationFailed(errors)
    table = selectors.export_table(actor=actor, kind=kind, own=own)  # refuses who may export nothing, uncounted
    if not own:  # the limits keep other members' data from being harvested: one's own is free
        limit = DailyQuota.Kind.EXPORT
        try:
            with transaction.atomic():
                quota_consume(actor=actor, kind=limit)
                limit = DailyQuota.Kind.PROFILE_VIEW
                profiles_exported(actor=actor, organization_ids=table.owners)
        except RateLimited:
            quota_refused(actor=actor, kind=limit)  # its alert went with the rolled-back counts
            raise
    if format == "xlsx":
        body = write_xlsx(table.columns, table.rows, kind)
    elif format == "json":
        body = write_json(table.columns, table.rows)
    else:
        body = write_csv(table.columns, table.rows)
    if table.sensitive_group:
        sensitive_views_record(
            viewer=actor, owner_ids=table.sensitive_owners, groups=[table.sensitive_group], channel=channel
        )
    response = HttpResponse(body, content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="agglo-{kind}{"-own" if own else ""}.{format}"'
    return response
