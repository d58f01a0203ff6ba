"""A page's form sent again exactly as it was sent is not acted on twice (`common.idempotency`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.utils.translation import gettext as _

from agglo.common import idempotency

TOKEN = "csrfmiddlewaretoken"


class ResentFormMiddleware:
    """A logged-in user's form sent again exactly as it was sent (a double click the page's script did not stop, a
    reload that resends it) gets the first send's redirect, with a word that it was done once. One sent while the
    first is still running waits for it (`AGGLO_RESEND_WAIT_S`). The form's masked CSRF token makes its body unique
    to one drawing of the page, so a form drawn again may be sent again.

    The claim is made in `process_view`, after the CSRF check (listed before this middleware) let the request
    through, so a request the site refuses gets no replay. A redirect that reported a refusal (an error or warning
    message: many pages refuse that way) is not kept: the same form sent again is tried again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        claim = getattr(request, "agglo_page_claim", None)
        if claim is None:
            return response
        if 300 <= response.status_code < 400 and response.has_header("Location") and not _refused(request):
            idempotency.settle(claim, status=response.status_code, location=response["Location"])
        else:  # a form drawn again with its errors, a refusal, a page, a download: nothing to keep
            idempotency.release(claim)
        return response

    def process_view(self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        user = getattr(request, "user", None)
        if (
            request.method != "POST"
            or request.path.startswith("/api/")
            or user is None
            or not user.is_authenticated
            or request.headers.get("HX-Request")  # htmx answers with fragments, never a redirect to keep
        ):
            return None
        try:
            if not request.POST.get(TOKEN):
                return None
            print_ = idempotency.fingerprint(request)
        except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation, OSError):
            return None  # the view answers a body that cannot be read
        key = idempotency.scoped("page", print_)
        deadline = time.monotonic() + settings.AGGLO_RESEND_WAIT_S
        while True:
            claim = idempotency.claim(request.user, key, print_)
            if claim.outcome == "new":
                request.agglo_page_claim = claim.row  # type: ignore[attr-defined]
                return None
            row = claim.row
            while row is not None and not row.done and time.monotonic() < deadline:
                time.sleep(0.25)  # the first send is still running: its answer will be this one's
                row = idempotency.refreshed(row)
            if row is not None and row.done:
                messages.info(request, _("This form had already been sent; it was acted on once."))
                if getattr(view, idempotency.SECRET, False):
                    messages.warning(
                        request,
                        _("What it issued is shown only once: if you did not see it, revoke it and issue another."),
                    )
                response = HttpResponse(status=row.status or 303)
                response["Location"] = row.location
                return response
            if row is not None:
                title = _("This form is still being processed. Wait a moment, then open the page again.")
                return render(request, "web/error.html", {"status": 409, "title": title}, status=409)
            # released: the first send failed, so this one is tried in its place


def _refused(request: HttpRequest) -> bool:
    """Whether the view reported a refusal (an error or a warning) in the messages it queued for the next page."""
    storage = getattr(request, "_messages", None)
    queued = getattr(storage, "_queued_messages", [])  # read without marking the storage used
    return any(m.level >= messages.WARNING for m in queued)
