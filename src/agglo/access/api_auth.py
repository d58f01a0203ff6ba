"""API authentication: a node's signed request (RFC 9421), a bearer token, or the browser session (CSRF on writes).

Unknown, revoked or expired credentials are refused outright (401), never treated as anonymous."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from agglo.access import ratelimit
from agglo.access.signatures import SignatureRefused, is_signed, verify_request
from agglo.access.tokens import api_token_resolve
from agglo.common.errors import Forbidden

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


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
                raise AuthenticationError(message=f"Signature refused: {exc}.") from None
            request.agglo_node = key.node  # type: ignore[attr-defined]
            ratelimit.check("node", str(key.node_id))
            return key.node.user
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, clear = header.partition(" ")
            token = api_token_resolve(clear.strip()) if scheme.lower() == "bearer" else None
            if token is None:
                raise AuthenticationError(message="Unknown, revoked or expired token.")
            if unsafe and token.scope == token.Scope.READ:
                raise Forbidden("This token may only read; issue a write token for changes.")
            ratelimit.check("token", str(token.pk))
            if token.node_id:
                request.agglo_node = token.node  # type: ignore[attr-defined]
                ratelimit.check("node", str(token.node_id))
            return token.user
        user = request.user
        if user.is_authenticated and unsafe and check_csrf(request) is not None:
            raise AuthenticationError(message="CSRF check failed: send the X-CSRFToken header.")
        return user
