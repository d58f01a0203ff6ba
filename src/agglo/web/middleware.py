"""Pages are Chinese unless the visitor picks English with the switch; the API follows Accept-Language."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from agglo.common.problem import CONTENT_TYPE, problem_response


class ChineseFirstMiddleware:
    """Drop the browser's Accept-Language on pages so LocaleMiddleware falls back to the language cookie or zh-Hans."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class ApiEnvelopeMiddleware:
    """Answers the API's edge cases in its one error envelope (RFC 9457).

    A NUL character anywhere in the query string or a JSON body is refused with 400 (PostgreSQL cannot store it),
    and django-ninja's bare 405 for a wrong method becomes a problem too, keeping the Allow header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if "\x00" in request.META.get("QUERY_STRING", "") or any("\x00" in v for v in request.GET.values()):
            return problem_response(
                400, "The request contains a NUL character.", code="bad_request", instance=request.path
            )
        try:
            body = request.body if request.content_type == "application/json" else b""
        except RequestDataTooBig:
            return problem_response(
                413, "The request body is too large.", code="payload_too_large", instance=request.path
            )
        if b"\x00" in body or b"\\u0000" in body:
            return problem_response(
                400,
                "The request contains a NUL character.",
                code="bad_request",
                errors={"body": ["Remove NUL (\\u0000) characters."]},
                instance=request.path,
            )
        response = self.get_response(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(CONTENT_TYPE):
            problem = problem_response(405, "Method not allowed.", code="method_not_allowed", instance=request.path)
            if response.has_header("Allow"):
                problem["Allow"] = response["Allow"]
            return problem
        return response
