"""Turning an export into a file download, shared by the API and the export page."""

from __future__ import annotations

import tempfile
from typing import Any

from django.db import transaction
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from agglo.access.models import DailyQuota
from agglo.access.quotas import profiles_exported, quota_consume, quota_refused
from agglo.access.ratelimit import RateLimited
from agglo.access.services import sensitive_views_record
from agglo.common.errors import ValidationFailed
from agglo.profiles import selectors
from agglo.profiles.selectors.exports import EXPORT_KINDS
from agglo.profiles.tabular import csv_chunks, json_chunks, xlsx_into

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def export_response(actor: Any, kind: str, format: str, *, channel: str, own: bool = False) -> StreamingHttpResponse:
    """The file of an export; the sensitive groups it shows are written to their owners' access logs. Its body is
    streamed: read it as `streaming_content`."""
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
    if table.sensitive_group:
        sensitive_views_record(
            viewer=actor, owner_ids=table.sensitive_owners, groups=[table.sensitive_group], channel=channel
        )
    response: StreamingHttpResponse
    if format == "xlsx":  # a zip is written whole before it is read: on disk, not in memory
        spool = tempfile.TemporaryFile()  # noqa: SIM115 -- the response closes it once sent
        try:
            xlsx_into(spool, table.columns, table.rows, kind)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        response = FileResponse(spool, content_type=CONTENT_TYPES[format])
    else:  # sent as the rows are read, a batch at a time, so that a large export does not sit in memory
        chunks = json_chunks if format == "json" else csv_chunks
        response = StreamingHttpResponse(chunks(table.columns, table.rows), content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="agglo-{kind}{"-own" if own else ""}.{format}"'
    return response
