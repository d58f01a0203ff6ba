"""API bearer tokens: issue, verify, revoke. The clear token is shown once and never stored."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from agglo.access.models import ApiToken
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed

TOKEN_PREFIX = "agg_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, actor: Any, user: Any, name: str) -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns the row and the clear token (shown once)."""
    if actor.pk != user.pk and not getattr(actor, "is_superuser", False):
        from agglo.access.policy import is_operator

        if not is_operator(actor):
            raise Forbidden("Only the user or an operator may issue a token.")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed({"name": ["Give the token a name of 1 to 100 characters."]})
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, prefix=clear[:12], digest=_digest(clear))
    record(
        "access.token_created",
        actor=actor,
        subject=token,
        payload={"user": user.get_username(), "name": name},
    )
    return token, clear


def api_token_user(clear: str) -> Any | None:
    """The active user behind a clear token, or None."""
    if not clear.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=_digest(clear), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute so reads do not turn into a write per request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> None:
    """Revoke a token; the owner or an operator may."""
    from agglo.access.policy import is_operator

    if token.user_id != actor.pk and not is_operator(actor):
        raise Forbidden("Only the token's owner or an operator may revoke it.")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record("access.token_revoked", actor=actor, subject=token)
