"""Pages are Chinese unless the visitor picks English with the switch; the API follows Accept-Language."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import translation
from django.utils.translation import gettext as _

from agglo.common.api_guard import NOT_NUL
from agglo.common.language import SESSION_LANGUAGE, language_chosen, language_valid
from agglo.common.problem import CONTENT_TYPE, multipart_fault, problem_response, too_many


class ChineseFirstMiddleware:
    """Drop the browser's Accept-Language on pages so LocaleMiddleware falls back to the language cookie or zh-Hans."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


class UserLanguageMiddleware:
    """A logged-in user's pages are in their language (held in the session from login or the switch), even after
    the browser dropped the language cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") and request.user.is_authenticated:
            if SESSION_LANGUAGE not in request.session:  # a session begun before languages were kept
                request.session[SESSION_LANGUAGE] = language_chosen(request.user) or ""
            language = request.session[SESSION_LANGUAGE]
            if language_valid(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)


class ApiEnvelopeMiddleware:
    """Answers the API's edge cases in its one error envelope (RFC 9457).

    A NUL character anywhere in the query string, a body or a form's fields is refused with 400 (PostgreSQL cannot
    store it), and django-ninja's bare 405 for a wrong method becomes a problem too, keeping the Allow header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        if "\x00" in request.META.get("QUERY_STRING", "") or any("\x00" in v for v in request.GET.values()):
            named = {k.replace("\x00", ""): [str(NOT_NUL)] for k, v in request.GET.items() if "\x00" in k + v}
            return problem_response(
                400,
                _("The request contains a NUL character."),
                code="bad_request",
                errors=named or None,
                instance=request.path,
            )
        try:
            nul = _has_nul(request)
        except RequestDataTooBig:
            return problem_response(
                413, _("The request body is too large."), code="payload_too_large", instance=request.path
            )
        except MultiPartParserError as exc:
            errors = {"body": [multipart_fault(exc)]}
            return problem_response(
                400,
                _("The multipart body cannot be read."),
                code="malformed_body",
                errors=errors,
                instance=request.path,
            )
        except SuspiciousOperation as exc:  # too many fields, and the like
            return problem_response(
                400, _("The request is malformed."), code="bad_request", detail=str(exc), instance=request.path
            )
        if nul:
            return problem_response(
                400,
                _("The request contains a NUL character."),
                code="bad_request",
                errors={"body": [_("Remove NUL (\\u0000) characters.")]},
                instance=request.path,
            )
        response = self.get_response(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith(CONTENT_TYPE):
            problem = problem_response(405, _("Method not allowed."), code="method_not_allowed", instance=request.path)
            if response.has_header("Allow"):
                problem["Allow"] = response["Allow"]
            return problem
        return response


def _has_nul(request: HttpRequest) -> bool:
    """A NUL byte in the path or in a body that is not a form: django-ninja reads a body as JSON whatever its
    content type says, so one sent as text/plain must not slip past. One escaped in JSON (`\\u0000`) is refused
    by the parser, naming its field; a form is not read here, before anyone is authenticated: `common.api_guard`
    checks its fields and file names (the files themselves may hold NULs)."""
    if "\x00" in request.path:
        return True
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return False
    return b"\x00" in request.body  # escaped in JSON (`\\u0000`), the parser names its field (`api_guard.unstorable`)


class SecurityHeadersMiddleware:
    """The content security policy and the browser hardening headers Django does not set itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.AGGLO_CSP)
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        # what a signed-in user or a token reads is theirs: not kept on disk or in the back-forward cache after
        # logging out (a new token and a two-factor secret are shown once; review 49 F12)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "Authorization" in request.headers:
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


class TwoFactorEnrolmentMiddleware:
    """Where two-factor login is required, send operators and organization admins without it to set it up first."""

    ALLOWED = ("/account/two-factor/", "/logout/", "/static/", "/i18n/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        user = getattr(request, "user", None)
        if (
            settings.AGGLO_TOTP_REQUIRED
            and user is not None
            and user.is_authenticated
            and not request.path.startswith(self.ALLOWED)
            and not self._api_by_header(request)
        ):
            from agglo.access.login import totp_enrolled, totp_required

            if totp_required(user) and not totp_enrolled(user):
                if request.path.startswith("/api/"):
                    return problem_response(
                        403, _("Set up two-factor login first."), code="two_factor_required", instance=request.path
                    )
                from django.shortcuts import redirect

                return redirect("web:two_factor")
        return self.get_response(request)

    @staticmethod
    def _api_by_header(request: HttpRequest) -> bool:
        """An API request that authenticates by its token or signature, not the session (the API's own auth then
        decides); pages always act for the session, whatever headers come with them."""
        by_header = "Authorization" in request.headers or "Signature" in request.headers
        return by_header and request.path.startswith("/api/")


class RateLimitMiddleware:
    """Token buckets per client address and per logged-in user (tokens and nodes are limited in the API's auth).

    Over the limit: 429 with Retry-After, as problem+json on the API and as a page elsewhere."""

    EXEMPT = ("/static/", "/healthz", "/media/")
    # what outside verifiers and witnesses read: their own bucket
    LOG = ("/ledger/tile/", "/ledger/checkpoint", "/api/v1/ledger/checkpoints")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from agglo.access import ratelimit
        from agglo.access.client import client_ip

        if not request.path.startswith(self.EXEMPT):
            try:
                ratelimit.check("log" if request.path.startswith(self.LOG) else "ip", client_ip(request))
                user = getattr(request, "user", None)
                if user is not None and user.is_authenticated:
                    ratelimit.check("user", str(user.pk))
            except ratelimit.RateLimited as exc:
                return too_many(request, exc)
        return self.get_response(request)


class RequestSizeMiddleware:
    """Refuses a request whose body is larger than any form or API operation takes, before anything reads it: the
    limits on one file were checked only once the whole body had been spooled to disk (review 49 F10)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings
        from django.shortcuts import render
        from django.utils.translation import gettext as _

        from agglo.common.problem import problem_response

        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        most = settings.AGGLO_REQUEST_MAX_BYTES
        if length <= most:
            return self.get_response(request)
        title = _("The request is %(size)s MB; at most %(most)s MB is taken.") % {
            "size": f"{length / 2**20:.1f}",
            "most": f"{most / 2**20:.0f}",
        }
        if request.path.startswith("/api/"):
            return problem_response(413, title, code="payload_too_large", instance=request.path)
        return render(request, "web/error.html", {"status": 413, "title": title}, status=413)
