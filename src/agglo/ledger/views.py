"""The log's public resources at fixed paths (checkpoint, key, tlog-tiles), and the members' pages."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agglo.access import policy
from agglo.common.downloads import attachment
from agglo.common.errors import NotFound
from agglo.ledger import entries as entry_format
from agglo.ledger import selectors
from agglo.ledger.keys import log_verifier, origin
from agglo.ledger.links import record_links
from agglo.ledger.models import Witness

TEXT = "text/plain; charset=utf-8"


@require_GET
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint with its cosignatures (C2SP tlog-checkpoint)."""
    try:
        row = selectors.checkpoint_current()
    except NotFound:
        raise Http404 from None
    response = HttpResponse(selectors.served_note(row), content_type=TEXT)
    response["Cache-Control"] = "no-cache, max-age=1"
    return response


@require_GET
def key(request: HttpRequest) -> HttpResponse:
    """The log's verifier key string (C2SP signed-note)."""
    response = HttpResponse(log_verifier().encode(), content_type=TEXT)
    response["Cache-Control"] = "max-age=3600"
    return response


@require_GET
def tile(request: HttpRequest, path: str) -> HttpResponse:
    """Tiles and entry bundles (C2SP tlog-tiles); immutable once served."""
    try:
        data = selectors.tile_data(path)
    except NotFound:
        raise Http404 from None
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    """What the log is, how to check it, the current checkpoint and the witnesses."""
    try:
        row = selectors.checkpoint_current()
        note_text = selectors.served_note(row)
    except NotFound:
        row, note_text = None, ""
    context = {
        "origin": origin(),
        "key": log_verifier().encode(),
        "checkpoint": row,
        "note": note_text,
        "witnesses": Witness.objects.filter(active=True).order_by("name"),
    }
    return render(request, "ledger/overview.html", context)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The entries about my organizations, each with a receipt to download."""
    page = Paginator(selectors.entries_for(request.user), 50).get_page(request.GET.get("page"))
    published = selectors.published_size()
    pages = record_links((entry.record for entry in page), staff=policy.sees_all_organizations(request.user))
    rows = []
    for entry in page:
        try:
            content = entry_format.decode(bytes(entry.data))
        except entry_format.EntryError:
            content = None  # shown as altered; `agglo ledger audit` names it
        # values only the parties can open (entries.sealed): the page says where the key is
        sealed = bool(content) and any(str(v).startswith("hmac-sha256:") for v in content["payload"].values())
        rows.append(
            {
                "entry": entry,
                "content": content,
                # as JSON, so that a value can be copied into a checker as it stands
                "payload": json.dumps(content["payload"], ensure_ascii=False) if content else "",
                "published": entry.index < published,
                "sealed": sealed,
                "link": pages.get(entry.record, ""),
            }
        )
    sealed_any = any(r["sealed"] for r in rows)  # the page says once how sealed values open
    return render(request, "ledger/mine.html", {"page": page, "rows": rows, "sealed": sealed_any})


@login_required
def receipt(request: HttpRequest, index: int) -> HttpResponse:
    """A receipt file for one of my entries."""
    try:
        data = selectors.receipt(request.user, index)
    except NotFound:
        raise Http404 from None
    return attachment(json.dumps(data, indent=2, ensure_ascii=False), "application/json", f"agglo-receipt-{index}.json")
