"""HTTP Message Signatures (RFC 9421) from member nodes, checked with the http-message-signatures library.

A signed request covers at least `@method`, `@target-uri` and, when it has a body, `content-digest` (RFC 9530);
it carries `created` (at most MAX_AGE old, never ahead of a minute) and the `keyid` of a registered node key. A
signed write (any method but GET, HEAD and OPTIONS) is taken once: the same signed message again while its signature
is fresh is refused (RFC 9421 §7.2.2), unless it is a POST or PATCH whose signature covers its `Idempotency-Key`,
whose repeats get the first answer (`common.api_idempotency`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from agglo.access.models import NodeKey, SeenSignature
from agglo.common.api_idempotency import METHODS as IDEMPOTENT_METHODS

MAX_AGE = dt.timedelta(minutes=5)
KEPT_PAST_AGE = HTTPMessageVerifier.max_clock_skew + dt.timedelta(minutes=1)
REQUIRED = ("@method", "@target-uri")
READS = ("GET", "HEAD", "OPTIONS")


class SignatureRefused(Exception):
    """The request's signature is missing, malformed, stale, or by an unknown or revoked key. `rule` names which,
    for the API to say it in the reader's language; a refusal by the signature library (`library`) keeps its words
    as the message."""

    def __init__(self, message: str, rule: str = "library") -> None:
        super().__init__(message)
        self.rule = rule


@dataclass
class _Message:
    method: str
    url: str
    headers: dict[str, str]


class _NodeKeys(HTTPSignatureKeyResolver):
    def __init__(self) -> None:
        self.used: NodeKey | None = None
        self.refused: SignatureRefused | None = None

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
        key = NodeKey.objects.select_related("node").filter(key_id=key_id).first()
        if key is None or key.revoked_at is not None or key.node.revoked_at is not None:
            self.refused = SignatureRefused(f"unknown or revoked node key {key_id!r}", rule="unknown_key")
            raise self.refused  # the library may wrap it in its own exception: `verify_request` unwraps it
        self.used = key
        return Ed25519PublicKey.from_public_bytes(bytes(key.public_key))

    def resolve_private_key(self, key_id: str) -> Any:  # pragma: no cover - the server never signs
        raise NotImplementedError


def is_signed(request: HttpRequest) -> bool:
    return "Signature-Input" in request.headers or "Signature" in request.headers


def verify_request(request: HttpRequest) -> NodeKey:
    """The node key that signed `request`, or SignatureRefused saying why."""
    keys = _NodeKeys()
    verifier = HTTPMessageVerifier(signature_algorithm=algorithms.ED25519, key_resolver=keys)
    message = _Message(method=request.method or "GET", url=request.build_absolute_uri(), headers=dict(request.headers))
    body = request.body
    required = REQUIRED + (("content-digest",) if body else ())
    try:
        results = verifier.verify(message, max_age=MAX_AGE, require_components=required, body=body or None)
    except SignatureRefused:
        raise
    except (HTTPMessageSignaturesException, ValueError) as exc:
        raise keys.refused or SignatureRefused(str(exc) or type(exc).__name__) from None
    created = results[0].parameters.get("created")
    if isinstance(created, int) and created > timezone.now().timestamp() + 60:
        raise SignatureRefused("the signature is dated in the future", rule="future")
    if keys.used is None:  # pragma: no cover - the library always resolves a key
        raise SignatureRefused("no key")
    key = keys.used
    now = timezone.now()
    if request.method not in READS and not _answered_once(request.method or "", results[0].covered_components):
        _taken_once(results[0].covered_components, created if isinstance(created, int) else None, now)
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        NodeKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def _answered_once(method: str, covered: dict[str, str]) -> bool:
    """Whether the idempotency layer answers a repeat of this request with its first answer: a POST or PATCH whose
    `Idempotency-Key` the signature covers (a key added to a copied request is not signed, and does not count)."""
    signed = {component.split(";")[0].strip('"') for component in covered}
    return method in IDEMPOTENT_METHODS and "idempotency-key" in signed


def _taken_once(covered: dict[str, str], created: int | None, now: dt.datetime) -> None:
    """Keep a digest of the signed message (what the signature covers, its parameters too: not the header's
    unsigned label or extra parameters, which a copier may change) until the signature is too old to be taken
    anyway, with the verifier's allowance for clocks and a minute more; a digest kept already is a replay."""
    expires = (dt.datetime.fromtimestamp(created, tz=dt.UTC) if created else now) + MAX_AGE + KEPT_PAST_AGE
    digest = hashlib.sha256("\n".join(f"{k}: {v}" for k, v in covered.items()).encode()).hexdigest()
    try:
        with transaction.atomic():  # a savepoint: the replay's refusal leaves the caller's transaction usable
            SeenSignature.objects.create(digest=digest, expires_at=expires)
    except IntegrityError:
        raise SignatureRefused("this signed request was received before", rule="replayed") from None
    SeenSignature.objects.filter(expires_at__lt=now).delete()  # the table holds minutes of signed writes at most
