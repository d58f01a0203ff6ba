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
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common import idempotency

TOKEN = "csrfmiddlewaretoken"
RESEND = "resend"  # sent with the answer "send it again" to the question about the same content sent lately
# the submit buttons of the forms that create something: which one was pressed is no difference in content ("save
# as draft" and then, back on the form, "save and plan" would make two orders)
BUTTONS = ("draft", "publish")


class ResentFormMiddleware:
    """A logged-in user's form sent again exactly as it was sent (a double click the page's script did not stop, a
    reload that resends it) gets the first send's redirect, with a word that it was done once. One sent while the
    first is still running waits for it (`AGGLO_RESEND_WAIT_S`). The form's masked CSRF token makes its body unique
    to one drawing of the page, so a form drawn again may be sent again.

    The claim is made in `process_view`, after the CSRF check (listed before this middleware) let the request
    through, so a request the site refuses gets no replay. A redirect that reported a refusal (an error message:
    many pages refuse that way) is not kept, so the same form sent again is tried again, unless the view says it
    acted all the same (`idempotency.acted`). The messages a kept redirect queued are shown again with its replay
    (the first answer, and its messages, may never have reached the browser). A view marked
    `idempotency.answer_secret` keeps neither its address nor its messages: a replay goes back to the form's page
    and says only that the form was acted on once. A page marked `idempotency.confirm_repeat` (it creates
    something) asks before it acts on the same content sent lately from a form drawn anew."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        claim = getattr(request, "agglo_page_claim", None)
        if claim is None:
            return response
        if 300 <= response.status_code < 400 and response.has_header("Location") and not _refused(request):
            idempotency.settle(
                claim,
                status=response.status_code,
                location=response["Location"],
                notes=[(m.level, str(m.message)) for m in _queued(request)],
                withheld=getattr(request, "agglo_page_secret", False),
                standing=policy.standing(claim.user),  # the sender, even if the view logged them out
            )
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
        while True:
            claim = idempotency.claim(request.user, key, print_)
            if claim.outcome == "new":
                return self._first_send(request, view, claim.row)
            row = _settled(claim.row)  # the first send still running: its answer will be this one's
            if row is not None and row.done and not idempotency.replayable(row, policy.standing(request.user)):
                return _access_changed(request)
            if row is not None and row.done:
                return _replayed(request, row)
            if row is not None:
                return _still_running(request)
            # released: the first send failed, so this one is tried in its place

    @staticmethod
    def _first_send(request: HttpRequest, view: Callable[..., Any], row: Any) -> HttpResponse | None:
        """Let the view act on a claimed send; a page that creates something first asks about the same content
        sent lately from a form drawn before (the browser went back and refilled the form)."""
        if getattr(view, idempotency.REPEAT, False) and not request.FILES and row is not None:
            content = idempotency.content_print(request, (TOKEN, RESEND, *BUTTONS))
            idempotency.content_claimed(row, content)
            earlier = _settled(idempotency.sent_lately(request.user, content, row))
            if earlier is not None and request.POST.get(RESEND) != "1":
                idempotency.release(row)
                if not earlier.done:  # the first still running after the wait: it may yet make one
                    return _still_running(request)
                fields = [(k, v) for k, vs in request.POST.lists() if k not in (TOKEN, RESEND) for v in vs]
                minutes = max(1, round((timezone.now() - earlier.started_at).total_seconds() / 60))
                context = {"fields": fields, "action": request.get_full_path(), "earlier": earlier.location}
                return render(request, "web/resend_confirm.html", context | {"minutes": minutes}, status=409)
        request.agglo_page_claim = row  # type: ignore[attr-defined]
        request.agglo_page_secret = getattr(view, idempotency.SECRET, False)  # type: ignore[attr-defined]
        return None


def _settled(row: Any) -> Any:
    """`row` once its request has finished (None if it failed), waiting at most `AGGLO_RESEND_WAIT_S`."""
    deadline = time.monotonic() + settings.AGGLO_RESEND_WAIT_S
    while row is not None and not row.done and time.monotonic() < deadline:
        time.sleep(0.25)
        row = idempotency.refreshed(row)
    return row


def _still_running(request: HttpRequest) -> HttpResponse:
    title = _(
        "This form is still being processed, or its first send was cut off. Check whether it was done "
        "(for an order, on your orders) before you send it again; it can be sent again in a few minutes."
    )
    return render(request, "web/error.html", {"status": 409, "title": title}, status=409)


def _access_changed(request: HttpRequest) -> HttpResponse:
    title = _(
        "Your access changed after this form was first sent, so its first answer is not shown again. Open the page "
        "again to see whether it was done."
    )
    return render(request, "web/error.html", {"status": 409, "title": title}, status=409)


def _replayed(request: HttpRequest, row: Any) -> HttpResponse:
    """The first send's redirect, with the messages it queued, and a word that the form was acted on once."""
    # when the first answer did arrive, its messages still wait in the browser's storage: not shown twice then
    waiting = {(m.level, str(m.message)) for m in _waiting(request)}
    for level, text in row.notes:
        if (level, text) not in waiting:
            messages.add_message(request, level, text)
    messages.info(request, _("This form had already been sent; it was acted on once."))
    location = row.location
    if row.withheld:  # the address held the secret: back to the form's own page
        messages.warning(
            request,
            _("Its answer held something shown only once (a token, a tracking address): it is not shown again."),
        )
        referer = request.headers.get("Referer", "")
        location = referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else "/"
    response = HttpResponse(status=row.status or 303)
    response["Location"] = location
    return response


def _queued(request: HttpRequest) -> list[Any]:
    """The messages the view queued for the next page, read without marking the storage used."""
    return list(getattr(getattr(request, "_messages", None), "_queued_messages", []))


def _waiting(request: HttpRequest) -> list[Any]:
    """The messages that came in with the request, read without marking the storage used."""
    return list(getattr(getattr(request, "_messages", None), "_loaded_messages", []))


def _refused(request: HttpRequest) -> bool:
    """Whether the view reported a refusal (an error among the messages it queued), unless it says it acted."""
    if getattr(request, "agglo_acted", False):
        return False
    return any(m.level >= messages.ERROR for m in _queued(request))
