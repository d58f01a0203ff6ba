"""An order's drawing as a download, served alike by its page and the API (both edges call it; neither imports the
other)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _

from agglo.common.errors import NotFound
from agglo.factory.models import OrderDocument
from agglo.factory.services.documents import drawing_read


def drawing_download(reader: Any, doc: OrderDocument, *, channel: str) -> FileResponse:
    """The file itself, as a download (never shown inline: a drawing is the buyer's, and a browser need not run
    it), logged for the buyer (`drawing_read`); NotFound when its file is gone from storage. The page and the API
    serve it alike."""
    if not doc.file.storage.exists(doc.file.name):
        raise NotFound(_("No file with id %(pk)s.") % {"pk": doc.pk})
    drawing_read(reader, doc, channel=channel)
    response = FileResponse(
        doc.file.open("rb"), content_type=doc.content_type, filename=doc.original_name, as_attachment=True
    )
    response["Cache-Control"] = "private, no-store"
    return response
