"""API authentication: a node's signed request (RFC 9421), a bearer token, or the browser session (CSRF on writes).

Unknown, revoked or expired credentials are refused outright (401), never treated as anonymous."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import AuthenticationError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from agglo.access import ratelimit
from agglo.access.signatures import SignatureRefused, is_signed, verify_request
from agglo.access.tokens import api_token_resolve
from agglo.common.errors import Forbidden

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def refusal(exc: SignatureRefused) -> str:
    """Why a signature was refused, in the reader's language; the signature library's own words are quoted."""
    if exc.rule == "unknown_key":
        return _("the key is not a registered node's, or it was revoked")
    if exc.rule == "future":
        return _("the signature is dated in the future")
    if exc.rule == "replayed":
        return _(
            "this signed request was received before; sign each request anew, or send an Idempotency-Key to retry "
            "one safely"
        )
    return _("the signature library says “%(words)s”") % {"words": exc}


class ActorAuth(AuthBase):
    """Resolves the acting user. Anonymous callers pass as AnonymousUser; endpoints decide what they may do."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        unsafe = request.method not in SAFE_METHODS
        if is_signed(request):
            try:
                key = verify_request(request)
            except SignatureRefused as exc:
                raise AuthenticationError(message=_("Signature refused: %(why)s.") % {"why": refusal(exc)}) from None
            request.agglo_node = key.node  # type: ignore[attr-defined]
            ratelimit.check("node", str(key.node_id))
            return key.node.user
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _space, clear = header.partition(" ")
            token = api_token_resolve(clear.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                raise AuthenticationError(message=_("Unknown, revoked or expired token."))
            if unsafe and token.scope == token.Scope.READ:
                raise Forbidden(_("This token may only read; issue a write token for changes."))
            ratelimit.check("token", str(token.pk))
            if token.node_id:
                request.agglo_node = token.node  # type: ignore[attr-defined]
                ratelimit.check("node", str(token.node_id))
            return token.user
        user = request.user
        if user.is_authenticated and unsafe and check_csrf(request) is not None:
            raise AuthenticationError(message=_("CSRF check failed: send the X-CSRFToken header."))
        return user


class MemberAuth(ActorAuth):
    """As `ActorAuth`, but a caller who gives no identity at all is refused (401): the endpoints behind it serve
    members' own data, and an empty answer would read as "you have none"."""

    def __call__(self, request: HttpRequest) -> Any:
        user = super().__call__(request)
        if not getattr(user, "is_authenticated", False):
            raise AuthenticationError(message=_("Log in, or send a token (Authorization: Bearer …)."))
        return user
