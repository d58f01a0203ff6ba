"""RFC 9457 problem details: the one error envelope of the API."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

CONTENT_TYPE = "application/problem+json"


def problem_response(
    status: int,
    title: str,
    *,
    code: str,
    detail: str = "",
    errors: dict[str, list[str]] | None = None,
    instance: str = "",
) -> JsonResponse:
    """A problem+json response; `errors` maps field names to messages (extension member)."""
    body: dict[str, Any] = {"type": f"urn:agglo:problem:{code}", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return JsonResponse(body, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False})


LIMIT_KINDS = {
    "ip": gettext_lazy("client address"),
    "user": gettext_lazy("user"),
    "token": gettext_lazy("API token"),
    "node": gettext_lazy("member node"),
    "reset": gettext_lazy("password reset address"),
    "anon_profile": gettext_lazy("anonymous profile views"),
    "log": gettext_lazy("transparency log reads"),
}


def too_many(request: HttpRequest, exc: Any) -> HttpResponse:
    """The 429 answer for a RateLimited, with Retry-After."""
    from django.shortcuts import render

    said = getattr(exc, "said", None)
    title = (
        str(said)
        if said is not None
        else ngettext(
            "Too many requests; try again in %(s)d second.",
            "Too many requests; try again in %(s)d seconds.",
            exc.retry_after,
        )
        % {"s": exc.retry_after}
    )
    if request.path.startswith("/api/"):
        # which limit: per address, user, token or node, in the reader's words (a daily limit's title names it)
        kind = LIMIT_KINDS.get(exc.kind)
        detail = _("The limit per %(kind)s was reached.") % {"kind": kind} if kind is not None else ""
        response = problem_response(429, title, code="rate_limited", detail=detail, instance=request.path)
    else:
        response = render(request, "web/error.html", {"status": 429, "title": title}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response


def multipart_fault(exc: Exception) -> str:
    """What is wrong with a multipart body, in the reader's language (Django's own text is English, and names its
    internals); the usual fault is a form sent without its boundary."""
    if "boundary" in str(exc).lower():
        return _("The form's boundary is missing or wrong: send multipart/form-data as a client library builds it.")
    return _("The form's parts cannot be read: send multipart/form-data as a client library builds it.")
