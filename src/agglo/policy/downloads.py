"""A policy's or an application's file as a download, shared by the page and the API."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _

from agglo.common.errors import NotFound
from agglo.policy.models import ApplicationDocument, PolicyDocument


def application_download(doc: ApplicationDocument) -> FileResponse:
    """The file as sent (never shown inline: it is the member's, and a browser need not run it); NotFound when it
    is gone from storage."""
    if not doc.file.storage.exists(doc.file.name):
        raise NotFound(_("No file with id %(pk)s.") % {"pk": doc.pk})
    response = FileResponse(
        doc.file.open("rb"), content_type=doc.content_type, as_attachment=True, filename=doc.original_name
    )
    response["Cache-Control"] = "private, no-store"
    return response


def policy_document_download(doc: PolicyDocument) -> FileResponse:
    """The agency's published file, shown inline as the page shows it (a PDF opens in the browser); NotFound when it
    is gone from storage."""
    if not doc.file.storage.exists(doc.file.name):
        raise NotFound(_("No file with id %(pk)s.") % {"pk": doc.pk})
    return FileResponse(doc.file.open("rb"), content_type=doc.content_type, filename=doc.original_name)
