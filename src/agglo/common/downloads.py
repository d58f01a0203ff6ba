"""A file the platform builds in memory, sent as a download."""

from __future__ import annotations

from django.http import HttpResponse


def attachment(body: bytes | str, content_type: str, filename: str) -> HttpResponse:
    """`body` as an attachment named `filename` (the names the platform gives are ASCII)."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
