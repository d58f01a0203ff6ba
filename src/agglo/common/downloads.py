"""A file the platform builds in memory, sent as a download."""

from __future__ import annotations

from django.http import HttpResponse


def attachment(body: bytes | str, content_type: str, filename: str) -> HttpResponse:
    """`body` as an attachment named `filename` (the names the platform gives are ASCII)."""
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # a member's data, whoever asked and however they signed in (a signed request carries no session): kept by
    # no cache on the way (review 96)
    response["Cache-Control"] = "private, no-store"
    return response
