"""Member nodes: register a system under an organization with Ed25519 keys, rotate and revoke keys, revoke nodes,
and issue scoped, expiring tokens bound to a node."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.models import ApiToken, Membership, Node, NodeKey
from agglo.access.tokens import issue
from agglo.common.audit import record
from agglo.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agglo.common.numbers import whole_number

MAX_TOKEN_DAYS = 365


def key_id_of(public_key: bytes) -> str:
    """The keyid a node puts in its signatures: the first 32 hex digits of SHA-256 of the raw public key."""
    return hashlib.sha256(public_key).hexdigest()[:32]


def parse_public_key(text: str) -> bytes:
    """A raw 32-byte Ed25519 public key from base64 (standard or URL-safe) or a PEM SubjectPublicKeyInfo."""
    text = (text or "").strip()
    if text.startswith("-----BEGIN"):
        try:
            key = load_pem_public_key(text.encode())
        except ValueError:
            raise ValidationFailed({"public_key": [_("Not a readable PEM public key.")]}) from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValidationFailed({"public_key": [_("Only Ed25519 keys are accepted.")]})
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if ("-" in text or "_" in text) else None)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValidationFailed({"public_key": [_("Give the Ed25519 public key as 32 bytes in base64, or as PEM.")]})
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValidationFailed({"public_key": [_("Not a valid Ed25519 public key.")]}) from None
    return raw


def _require_admin(actor: Any, organization_id: int) -> None:
    """Nodes are managed by the organization's admins in person: a node, even one acting as an admin, manages none
    (its own tokens and keys included)."""
    if policy.is_node_account(actor):
        raise Forbidden(_("A node cannot manage nodes, tokens or keys; its organization's admins do."))
    if not policy.can_edit_organization(actor, organization_id):
        raise Forbidden(_("Only the organization's admins manage its nodes."))


def _add_key(node: Node, raw: bytes) -> NodeKey:
    try:
        with transaction.atomic():
            return NodeKey.objects.create(node=node, key_id=key_id_of(raw), public_key=raw)
    except IntegrityError:
        raise Conflict(
            _("This key is already registered."), errors={"public_key": [_("Already registered.")]}
        ) from None


@transaction.atomic
def node_register(*, actor: Any, organization_id: int, name: str, public_key: str, role: str = "member") -> NodeKey:
    """Register a node with its first key; it acts through its own account with `role` in the organization."""
    organizations = Node._meta.get_field("organization").related_model._default_manager
    # the organization's row first, as a change of its standing takes it: a withdrawal committed meanwhile is seen
    # here (its admins' rights read again), or sees this node and revokes it (review 111)
    held = list(organizations.select_for_update(no_key=True).filter(pk=organization_id).values_list("pk", flat=True))
    policy.forget(actor)
    _require_admin(actor, organization_id)
    if not held:
        raise NotFound(_("No organization with id %(id)s.") % {"id": organization_id})
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        errors["name"] = [_("Give the node a name of 1 to 100 characters.")]
    if role not in Node.Role.values:
        errors["role"] = [_("Must be admin or member.")]
    try:
        raw = parse_public_key(public_key)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    if Node.objects.filter(organization_id=organization_id, name=name).exists():
        raise Conflict(_("A node of this name exists."), errors={"name": [_("Already used.")]})
    account = get_user_model()(username=f"node-{organization_id}-{key_id_of(raw)[:12]}")
    account.set_unusable_password()
    account.save()
    Membership.objects.create(user=account, organization_id=organization_id, role=role)
    node = Node.objects.create(organization_id=organization_id, name=name, role=role, user=account)
    key = _add_key(node, raw)
    record(
        "access.node_registered",
        actor=actor,
        subject=node,
        payload={"name": name, "role": role, "key_id": key.key_id},
        organization_id=organization_id,
    )
    return key


@transaction.atomic
def node_key_add(*, actor: Any, node: Node, public_key: str) -> NodeKey:
    """Add a key beside the current ones: the node switches to it, then the old key is revoked."""
    _require_admin(actor, node.organization_id)
    if node.revoked_at:
        raise ValidationFailed({"node": [_("The node is revoked.")]})
    key = _add_key(node, parse_public_key(public_key))
    record(
        "access.node_key_added",
        actor=actor,
        subject=node,
        payload={"key_id": key.key_id},
        organization_id=node.organization_id,
    )
    return key


@transaction.atomic
def node_key_revoke(*, actor: Any, key: NodeKey) -> NodeKey:
    _require_admin(actor, key.node.organization_id)
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        record(
            "access.node_key_revoked",
            actor=actor,
            subject=key.node,
            payload={"key_id": key.key_id},
            organization_id=key.node.organization_id,
        )
    return key


def _revoke(node: Node, actor: Any, payload: dict[str, Any]) -> None:
    now = timezone.now()
    node.revoked_at = now
    node.save(update_fields=["revoked_at"])
    node.keys.filter(revoked_at__isnull=True).update(revoked_at=now)
    node.tokens.filter(revoked_at__isnull=True).update(revoked_at=now)
    type(node.user).objects.filter(pk=node.user_id).update(is_active=False)
    record("access.node_revoked", actor=actor, subject=node, payload=payload, organization_id=node.organization_id)


@transaction.atomic
def node_revoke(*, actor: Any, node: Node) -> Node:
    """Refuse the node from now on: its keys and tokens stop working and its account is disabled."""
    _require_admin(actor, node.organization_id)
    if node.revoked_at is None:
        _revoke(node, actor, {})
    return node


@transaction.atomic
def nodes_revoke_departed(*, actor: Any, organization_id: int) -> list[str]:
    """Revoke every node of an organization that left the platform, as its admins would (keys, tokens, account),
    each revocation in its history as the organization's leaving. A node acts for its organization alone, which
    has no one left to act for; the people keep their logins and personal tokens (they may belong elsewhere too).
    The caller (`registry.services.standing`) checks who may withdraw it. Returns the revoked nodes' names."""
    nodes = list(
        Node.objects.select_for_update()
        .filter(organization_id=organization_id, revoked_at__isnull=True)
        .order_by("name")
    )
    for node in nodes:
        _revoke(node, actor, {"organization_left": True})
    return [node.name for node in nodes]


@transaction.atomic
def node_token_issue(*, actor: Any, node: Node, name: str, scope: str = "read", days: Any = 30) -> tuple[ApiToken, str]:
    """A bearer token bound to the node: `scope` read or write, expiring after `days` (1–365)."""
    _require_admin(actor, node.organization_id)
    errors: dict[str, list[str]] = {}
    if node.revoked_at:
        errors["node"] = [_("The node is revoked.")]
    if scope not in ApiToken.Scope.values:
        errors["scope"] = [_("Must be read or write.")]
    lifetime = whole_number(days) or 0  # not `true`, 5.5 or an infinity
    if not 1 <= lifetime <= MAX_TOKEN_DAYS:
        errors["days"] = [_("Must be a whole number of days from 1 to %(n)d.") % {"n": MAX_TOKEN_DAYS}]
    if errors:
        raise ValidationFailed(errors)
    return issue(
        actor=actor,
        user=node.user,
        name=name,
        node=node,
        scope=scope,
        expires_at=timezone.now() + dt.timedelta(days=lifetime),
    )
