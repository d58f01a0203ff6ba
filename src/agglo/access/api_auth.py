"""API authentication: a bearer token for machine clients, or the browser session (with CSRF on writes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security.base import AuthBase
from ninja.utils import check_csrf

from agglo.access.tokens import api_token_user


class ActorAuth(AuthBase):
    """Resolves the acting user. Anonymous callers pass as AnonymousUser; endpoints decide what they may do."""

    openapi_type = "http"
    openapi_scheme = "bearer"

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            user = api_token_user(token.strip()) if scheme.lower() == "bearer" else None
            if user is None:
                raise AuthenticationError()
            return user
        user = request.user
        unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
        if user.is_authenticated and unsafe and check_csrf(request) is not None:
            raise AuthenticationError(message="CSRF check failed: send the X-CSRFToken header.")
        return user
