"""API bearer tokens: issue, resolve, revoke. The clear token is shown once and never stored.

A user's own token acts as the user. A node's token acts as the node, with a scope (read or write) and an expiry,
and dies with the node."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access.models import ApiToken
from agglo.access.policy import is_node_account
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed

TOKEN_PREFIX = "agg_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(
    *,
    actor: Any,
    user: Any,
    name: str,
    node: Any = None,
    scope: str = ApiToken.Scope.WRITE,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiToken, str]:
    """Store a new token's digest; returns the row and the clear token. Callers check who may issue it."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed({"name": [_("Give the token a name of 1 to 100 characters.")]})
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, node=node, name=name, scope=scope, expires_at=expires_at, prefix=clear[:12], digest=_digest(clear)
    )
    record(
        "access.token_created",
        actor=actor,
        subject=token,
        payload={"user": user.get_username(), "name": name, "scope": scope, "node": getattr(node, "pk", None)},
    )
    return token, clear


@transaction.atomic
def api_token_create(*, actor: Any, user: Any, name: str) -> tuple[ApiToken, str]:
    """Issue a token for `user`; returns the row and the clear token (shown once). A node's account gets none: its
    tokens are its organization admins' to issue (`nodes.node_token_issue`), scoped, expiring and bound to it, so
    that a leaked node token cannot mint a lasting one."""
    if is_node_account(user):
        raise Forbidden(_("A node's tokens are issued by its organization's admins, on the node."))
    if actor.pk != user.pk and not getattr(actor, "is_superuser", False):
        from agglo.access.policy import is_operator

        if not is_operator(actor):
            raise Forbidden(_("Only the user or an operator may issue a token."))
    return issue(actor=actor, user=user, name=name)


def api_token_resolve(clear: str) -> ApiToken | None:
    """The live token behind a clear string (with its user and node), or None: unknown, revoked, expired, or its
    node or user disabled."""
    if not clear.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "node")
        .filter(digest=_digest(clear), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at <= now):
        return None
    if token.node is not None and token.node.revoked_at is not None:
        return None
    # Touch at most once a minute so reads do not turn into a write per request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken) -> bool:
    """Revoke a token; the owner, the node's organization admins or an operator may. False when it was revoked
    already (it keeps its first time, and the history one record)."""
    from agglo.access.policy import can_edit_organization, is_operator

    if is_node_account(actor):  # nor revoke: a leaked token must not cut off the others
        raise Forbidden(_("A node cannot manage nodes, tokens or keys; its organization's admins do."))
    allowed = token.user_id == actor.pk or is_operator(actor)
    if token.node_id is not None:
        allowed = allowed or can_edit_organization(actor, token.node.organization_id)
    if not allowed:
        raise Forbidden(_("Only the token's owner or an operator may revoke it."))
    if token.revoked_at is not None:
        return False
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record("access.token_revoked", actor=actor, subject=token)
    return True


@transaction.atomic
def api_tokens_revoke_all(*, actor: Any, user: Any) -> int:
    """Revoke every personal token of `user` (its nodes' tokens are its organization's): after its password is
    reset, or changed with this asked for, whoever held the account before keeps no way in (review 49 F5).
    Returns how many were revoked."""
    tokens = list(ApiToken.objects.select_for_update().filter(user=user, node__isnull=True, revoked_at__isnull=True))
    now = timezone.now()
    for token in tokens:
        token.revoked_at = now
        record("access.token_revoked", actor=actor, subject=token)
    ApiToken.objects.bulk_update(tokens, ["revoked_at"])
    return len(tokens)
