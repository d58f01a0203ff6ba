"""The REST API at /api/v1/: routers of the apps, one auth, one error envelope (RFC 9457)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer

from agglo.access import policy
from agglo.access.api import router as access_router
from agglo.access.api_auth import ActorAuth
from agglo.access.ratelimit import RateLimited
from agglo.common.api_guard import FORM_TYPES, NOT_HALF, guard, mark
from agglo.common.api_idempotency import HEADER as IDEMPOTENCY_HEADER
from agglo.common.api_idempotency import METHODS as IDEMPOTENT_METHODS
from agglo.common.api_idempotency import claiming, keep_answer
from agglo.common.errors import DomainError
from agglo.common.problem import multipart_fault, problem_response, too_many
from agglo.common.schemas import VERSIONED
from agglo.factory.api import router as factory_router
from agglo.ledger.api import router as ledger_router
from agglo.market.api import router as market_router
from agglo.matching.api import router as matching_router
from agglo.policy.api import router as policy_router
from agglo.profiles.api import router as profiles_router
from agglo.profiles.messages import date_fault
from agglo.registry.api import router as registry_router

logger = logging.getLogger("agglo.api")


class Utf8Renderer(JSONRenderer):
    """JSON with Chinese text as is rather than as \\u escapes, like the problem+json errors."""

    json_dumps_params = {"ensure_ascii": False}


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each bad field with its messages.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:agglo:problem:validation_failed"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
PROBLEMS = {
    "4XX": "The request was refused: 400 malformed, 401 who are you, 403 not yours, 404 not found or hidden, "
    "409 conflict, 412 changed since the `If-Match` version, 413 too large, 422 a field breaks a rule (named in "
    "`errors`), 429 too many (Retry-After).",
    "5XX": "An internal error, logged; never a trace.",
}


TOTAL_HEADER = {
    "description": "How many rows the whole list has (`limit` of them from `offset` are sent).",
    "schema": {"type": "integer"},
}


ETAG_HEADER = {
    "description": "The record's version: send it back as `If-Match` with a change (docs/api.md, Versions and sync).",
    "schema": {"type": "string", "examples": ['"42.1796661863716340"']},
}
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` of the version read: if the record changed since, nothing is written and the answer "
    "is 412 `precondition_failed`. Several versions may be listed; without it, or with `*`, any version is changed.",
    "schema": {"type": "string"},
}
PRECONDITION_FAILED = {
    "description": "The record changed since the `If-Match` version (the title names the version now): read it "
    "again, merge, send again.",
    "content": {"application/problem+json": {"schema": PROBLEM}},
}


IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "Makes a retry safe for a logged-in caller (a token, a signature or a session): the same request "
    "sent again under the same key (1–255 printable ASCII characters, best a UUID in double quotes) gets the first "
    "answer, marked `Idempotent-Replayed: true`, instead of acting twice. Only successful answers are kept, for 24 "
    "hours; the same key with another method, path or body is refused (422), one whose first request is still "
    "running (409), and one whose caller's rights changed since (409). An anonymous request ignores it. See "
    "docs/api.md, Retrying safely.",
    "schema": {"type": "string", "pattern": '^("[ -~]{1,255}"|[ -~]{1,255})$'},
}


class EmptyIsNothing(Parser):
    """No body at all reads as `{}`: a body whose every field is optional may be left out (`grant-eligible` for a
    policy without a budget). One with required fields is refused as missing its body (django-ninja reads nothing
    from an empty body), not as malformed JSON."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        if request.content_type in FORM_TYPES:  # an empty form (`curl -F` with nothing, a test client's default)
            return {} if not (request.POST or request.FILES) else super().parse_body(request)
        return {} if not request.body.strip() else super().parse_body(request)


class AggloAPI(NinjaAPI):
    """The API, whose schema also documents the one error envelope every operation answers with."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict | None = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for operations in schema.get("paths", {}).values():
            for method, operation in operations.items():
                # status codes as the JSON keys they become (ninja keeps them as numbers until then)
                responses = operation["responses"] = {str(k): v for k, v in operation.get("responses", {}).items()}
                if any(p.get("name") == "offset" for p in operation.get("parameters", [])) and "200" in responses:
                    responses["200"].setdefault("headers", {})["X-Total-Count"] = TOTAL_HEADER
                _versioned(operation, responses)
                for status, said in responses.items():  # a refusal the operation declares may be a problem too
                    if status.startswith("4") and "content" in said:
                        said["content"].setdefault("application/problem+json", {"schema": PROBLEM})
                if method.upper() in IDEMPOTENT_METHODS:
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
                for status, said in PROBLEMS.items():
                    responses.setdefault(
                        status, {"description": said, "content": {"application/problem+json": {"schema": PROBLEM}}}
                    )
        return schema


def _versioned(operation: dict[str, Any], responses: dict[str, Any]) -> None:
    """What `common.schemas.versioned` said of the operation: its success's `ETag`, its `If-Match` and 412."""
    said = operation.pop(VERSIONED, None)
    if not said:
        return
    if said["etag"]:
        success = next(r for status, r in responses.items() if status.startswith("2"))
        success.setdefault("headers", {})["ETag"] = ETAG_HEADER
    if said["if_match"]:
        operation.setdefault("parameters", []).append(IF_MATCH_PARAMETER)
        responses["412"] = PRECONDITION_FAILED


api = AggloAPI(
    title="Agglo API",
    version="1",
    description="Virtual industrial cluster platform. Errors are RFC 9457 problem+json with field-level `errors`.",
    auth=ActorAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    renderer=Utf8Renderer(),
    parser=EmptyIsNothing(),
)
# before the routers, which inherit them: `mark` tells each request its operation, `guard` checks it once the caller
# is known and the parameters are parsed; `claim_key` then claims its Idempotency-Key, and `keep_answer` keeps the
# answer it got
api.add_decorator(mark, mode="view")
api.add_decorator(keep_answer, mode="view")
api.add_decorator(claiming(policy.standing), mode="operation")  # the last added wraps the others: `guard` checks first
api.add_decorator(guard, mode="operation")
api.add_router("", registry_router)
api.add_router("", access_router)
api.add_router("", profiles_router)
api.add_router("", market_router)
api.add_router("/matching", matching_router)
api.add_router("/factory", factory_router)
api.add_router("/ledger", ledger_router)
api.add_router("", policy_router)


LOCATIONS = ("body", "query", "path", "form", "file", "header", "cookie")


def _field_of(loc: list) -> str:
    # ninja reports locations like ["body", "payload", "name_zh"], ["query", "kind"] or ["file", "file"]; users want
    # the field. An item of a list is counted from 1, as the services name it: ["operations", 1, "after"] is
    # operations[2].after.
    parts = list(loc)
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:]
    if parts and parts[0] in ("payload", "filters", "data"):  # the view's name for the whole body, form or query
        parts = parts[1:]
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part + 1}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


MOMENT = gettext_lazy("Must be a moment, such as 2026-12-01T08:00:00Z, or a date, such as 2026-12-01.")
# The schema's type checks in the user's language (pydantic's own messages are English); other kinds keep them.
TYPE_MESSAGES = {
    "missing": gettext_lazy("This field is required."),
    "int_parsing": gettext_lazy("Must be a whole number."),
    "int_from_float": gettext_lazy("Must be a whole number."),
    # a strict field given text ("2019" for a year): the number is fine, its JSON type is not
    "int_type": gettext_lazy('Must be a whole number, as a JSON number: 5, not "5".'),
    "float_parsing": gettext_lazy("Must be a number."),
    "float_type": gettext_lazy("Must be a number."),
    "decimal_parsing": gettext_lazy("Must be a number."),
    "decimal_type": gettext_lazy("Must be a number."),
    "bool_parsing": gettext_lazy("Must be true or false."),
    "bool_type": gettext_lazy('Must be true or false, as JSON writes them: true, not "true" or "yes".'),
    "string_type": gettext_lazy("Must be text."),
    "date_parsing": gettext_lazy("Must be a date, such as 2026-12-31."),
    "date_from_datetime_parsing": gettext_lazy("Must be a date, such as 2026-12-31."),
    "date_from_datetime_inexact": gettext_lazy("Must be a date, such as 2026-12-31."),
    "date_type": gettext_lazy("Must be a date, such as 2026-12-31."),
    # a moment (`updated_after`): pydantic's own words were English whatever the caller's language
    "datetime_parsing": MOMENT,
    "datetime_from_date_parsing": MOMENT,
    "datetime_type": MOMENT,
    "list_type": gettext_lazy("Must be a list."),
    "extra_forbidden": gettext_lazy("This request does not take this field."),
    "model_attributes_type": gettext_lazy("Must be a JSON object."),
    "model_type": gettext_lazy("Must be a JSON object."),
    "dict_type": gettext_lazy("Must be a JSON object."),
    "finite_number": gettext_lazy("Must be a finite number."),
    "string_too_long": gettext_lazy("At most %(max_length)s characters."),
    "string_too_short": gettext_lazy("At least %(min_length)s characters."),
    "too_long": gettext_lazy("At most %(max_length)s items."),
    "too_short": gettext_lazy("At least %(min_length)s items."),
    "greater_than_equal": gettext_lazy("Must be at least %(ge)s."),
    "greater_than": gettext_lazy("Must be more than %(gt)s."),
    "less_than_equal": gettext_lazy("Must be at most %(le)s."),
    "less_than": gettext_lazy("Must be less than %(lt)s."),
    "literal_error": gettext_lazy("Choose one of: %(expected)s."),
    "enum": gettext_lazy("Choose one of: %(expected)s."),
    "json_invalid": gettext_lazy("Must be valid JSON."),
    "string_unicode": NOT_HALF,  # half a character in a field's name, which pydantic refuses itself
}


@api.exception_handler(ValidationError)
def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        kind, ctx = str(err.get("type", "")), err.get("ctx") or {}
        message = str(TYPE_MESSAGES.get(kind, err.get("msg", "invalid")))
        try:  # the rule's own figures (a length, a bound), as pydantic gives them
            message = message % {k: str(v) for k, v in ctx.items()}
        except (KeyError, TypeError, ValueError):
            message = str(err.get("msg", "invalid"))
        if "given_day" in ctx:  # a day the calendar has not is named, as the services name it (ninja drops input)
            message = date_fault(ctx["given_day"])
        errors.setdefault(_field_of(list(err.get("loc", []))), []).append(message)
    return problem_response(
        422, _("The input is not valid."), code="validation_failed", errors=errors, instance=request.path
    )


@api.exception_handler(DomainError)
def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = problem_response(exc.status, exc.message, code=exc.code, errors=exc.errors, instance=request.path)
    if exc.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="agglo"'
    return response


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = problem_response(
        401, _("Authentication failed."), code="unauthenticated", detail=exc.message, instance=request.path
    )
    response["WWW-Authenticate"] = 'Bearer realm="agglo"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    return too_many(request, exc)


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    detail = str(exc)
    if detail.startswith("Cannot parse request body"):
        return problem_response(
            400,
            _("The request body is not valid JSON."),
            code="malformed_body",
            errors={"body": [_("Send a JSON object (Content-Type: application/json).")]},
            instance=request.path,
        )
    return problem_response(exc.status_code, detail, code="http_error", instance=request.path)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(404, _("Not found."), code="not_found", instance=request.path)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return problem_response(403, _("Forbidden."), code="forbidden", instance=request.path)


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
    # Too many fields, an oversized body, and the like: the client's mistake, never a 500.
    if isinstance(exc, RequestDataTooBig):
        return problem_response(
            413, _("The request body is too large."), code="payload_too_large", instance=request.path
        )
    return problem_response(
        400, _("The request is malformed."), code="bad_request", detail=str(exc), instance=request.path
    )


@api.exception_handler(MultiPartParserError)
def _multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    return problem_response(
        400,
        _("The multipart body cannot be read."),
        code="malformed_body",
        errors={"body": [multipart_fault(exc)]},
        instance=request.path,
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unhandled API error on %s", request.path)
    return problem_response(500, _("Internal error; it has been logged."), code="internal_error", instance=request.path)
