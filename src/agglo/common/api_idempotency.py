"""The API's `Idempotency-Key` header: a POST or PATCH sent again under the same key gets the first answer.

Two django-ninja decorators share the work, since neither place sees all of it: `claim_key` runs as an operation
decorator, once the caller is known and the request's shape is checked (`api_guard.guard`), and claims the key
before the view acts; `keep_answer` wraps the whole
operation, so it sees the final response (errors included, as ninja renders them) and keeps or releases the claim.
`claim_key` is made by `claiming`, given how to sum up a caller's rights (`access.policy.standing`, which this inner
module does not import).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from agglo.common import idempotency
from agglo.common.problem import problem_response

HEADER = "Idempotency-Key"
METHODS = ("POST", "PATCH")
REPLAYED = "Idempotent-Replayed"


def claiming(standing: Callable[[Any], str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The "operation" decorator `claim_key`, with `standing` telling a caller's rights."""
    return functools.partial(claim_key, standing=standing)


def claim_key(view: Callable[..., Any], standing: Callable[[Any], str]) -> Callable[..., Any]:
    """An "operation" decorator: claim the request's key, or answer from the claim already made under it."""

    @functools.wraps(view)
    def claimed(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        sent = request.headers.get(HEADER)
        user = getattr(request, "auth", None)
        # an anonymous caller's key is not theirs alone (anyone may send it): it is not honoured, as documented
        if request.method not in METHODS or sent is None or not getattr(user, "is_authenticated", False):
            return view(request, *args, **kwargs)
        key = idempotency.key_parsed(sent)
        if key is None:
            return problem_response(
                400,
                _("The Idempotency-Key header is not a key."),
                code="bad_idempotency_key",
                errors={HEADER: [_("Give 1 to 255 printable ASCII characters, such as a UUID, in double quotes.")]},
                instance=request.path,
            )
        claim = idempotency.claim(user, idempotency.scoped("api", key), idempotency.fingerprint(request))
        if (
            claim.outcome == "replay"
            and claim.row is not None
            and not idempotency.replayable(claim.row, standing(user))
        ):
            return problem_response(
                409,
                _("Your access changed after this request was first sent under this Idempotency-Key."),
                code="idempotency_access_changed",
                detail=_(
                    "Its first answer is not given again. Read what it changed to see whether it was done, and send "
                    "it under a new key if it is still wanted."
                ),
                instance=request.path,
            )
        if claim.outcome == "replay" and claim.row is not None and claim.row.withheld:
            return problem_response(
                409,
                _("The request sent under this Idempotency-Key was done; its answer held a secret shown only once."),
                code="idempotency_key_done",
                detail=_("Revoke what it issued if its answer was lost, and send a new request under a new key."),
                instance=request.path,
            )
        if claim.outcome == "replay":
            return replayed(claim.row)
        if claim.outcome == "conflict":
            return problem_response(
                422,
                _("This Idempotency-Key was used for another request."),
                code="idempotency_key_reused",
                errors={HEADER: [_("Use a new key for a new request; a key names one request (method, path, body).")]},
                instance=request.path,
            )
        if claim.outcome == "busy":
            busy = problem_response(
                409,
                _("A request with this Idempotency-Key is still being processed."),
                code="idempotency_key_busy",
                detail=_("Send it again once the first request has been answered."),
                instance=request.path,
            )
            busy["Retry-After"] = "1"  # most requests are answered within a second; a plan may take its time limit
            return busy
        request.agglo_claim = claim.row  # type: ignore[attr-defined]
        request.agglo_claim_standing = standing  # type: ignore[attr-defined]
        request.agglo_claim_secret = getattr(view, idempotency.SECRET, False)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return claimed


def keep_answer(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A "view" decorator: keep the answer of a claimed request that succeeded; release the claim otherwise."""

    @functools.wraps(run)
    def kept(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            if (row := getattr(request, "agglo_claim", None)) is not None:
                idempotency.release(row)
            raise
        if (row := getattr(request, "agglo_claim", None)) is not None:
            if 200 <= response.status_code < 400 and not response.streaming:
                idempotency.settle(
                    row,
                    status=response.status_code,
                    location=response.get("Location", ""),
                    content_type=response.get("Content-Type", ""),
                    body=response.content,
                    withheld=getattr(request, "agglo_claim_secret", False),
                    standing=request.agglo_claim_standing(request.auth),  # type: ignore[attr-defined]
                )
            else:
                idempotency.release(row)
        return response

    return kept


def replayed(row: Any) -> HttpResponse:
    """The kept answer, marked as a replay."""
    response = HttpResponse(bytes(row.body), status=row.status, content_type=row.content_type or None)
    if row.location:
        response["Location"] = row.location
    response[REPLAYED] = "true"
    return response
