"""Turning an export into a file download, shared by the API and the export page."""

from __future__ import annotations

import tempfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import IO, Any

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


@dataclass
class ExportFile:
    """An export ready to send: CSV and JSON as chunks made as the rows are read, XLSX written whole to a temporary
    file (a zip is not streamed). `close` frees what is held (the file, the rows' database cursor) when the reader
    stops early."""

    content_type: str
    filename: str
    chunks: Iterator[bytes] | None = None
    spool: IO[bytes] | None = None

    def read(self) -> Iterator[bytes]:
        if self.spool is not None:
            yield from iter(lambda: self.spool.read(1 << 16), b"")  # type: ignore[union-attr]
        elif self.chunks is not None:
            yield from self.chunks

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
        if isinstance(self.chunks, Generator):
            self.chunks.close()


def export_file(actor: Any, kind: str, format: str, *, channel: str, own: bool = False) -> ExportFile:
    """An export of what the actor may see; counted against the daily limits, and the sensitive groups it shows
    written to their owners' access logs, before any row is read."""
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
    name = f"agglo-{kind}{'-own' if own else ''}.{format}"
    if format == "xlsx":
        spool = tempfile.TemporaryFile()  # noqa: SIM115 -- ExportFile.close (or the response) closes it
        try:
            xlsx_into(spool, table.columns, table.rows, kind)
            spool.seek(0)
        except BaseException:
            spool.close()
            raise
        return ExportFile(CONTENT_TYPES[format], name, spool=spool)
    chunks = json_chunks if format == "json" else csv_chunks
    return ExportFile(CONTENT_TYPES[format], name, chunks=chunks(table.columns, table.rows))


def export_response(actor: Any, kind: str, format: str, *, channel: str, own: bool = False) -> StreamingHttpResponse:
    """The export as a download (`export_file`), streamed: read it as `streaming_content`."""
    export = export_file(actor, kind, format, channel=channel, own=own)
    response: StreamingHttpResponse
    if export.spool is not None:  # sent from disk, with its length
        response = FileResponse(export.spool, content_type=export.content_type)
    else:  # sent as the rows are read, a batch at a time, so that a large export does not sit in memory
        response = StreamingHttpResponse(export.read(), content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response
