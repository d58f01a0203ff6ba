"""An application's file as a download, shared by the page and the API."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _

from agglo.common.errors import NotFound
from agglo.policy.models import ApplicationDocument


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
