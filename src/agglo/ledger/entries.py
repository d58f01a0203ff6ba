"""Log entries: the RFC 8785 canonical JSON of {type, time, actor, subject, payload}.

Entries are public to whoever may read them and can never be erased, so they carry references and digests, not
personal data: organizations by id, documents and free text by their SHA-256 (`digest`), or short free text
between two parties by a keyed digest only they can check (`sealed`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from agglo.ledger.tiles import MAX_ENTRY

_TYPE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_REF = re.compile(r"^[a-z][a-z0-9_.]*:[A-Za-z0-9_-]{1,64}$")
# Longer text in an entry is almost always copied content; it belongs behind a digest.
MAX_TEXT = 200
KEYS = ("actor", "payload", "subject", "time", "type")


class EntryError(ValueError):
    """An entry would break the rules; the message names the field."""


@dataclass(frozen=True)
class Entry:
    type: str
    time: dt.datetime
    actor: str  # "org:12", "operator", "system"
    subject: str  # "market.interest:34"
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not _TYPE.match(self.type):
            raise EntryError(f"type: {self.type!r} must look like app.event_name")
        if self.time.tzinfo is None:
            raise EntryError("time: must carry a time zone")
        for name in ("actor", "subject"):
            value = getattr(self, name)
            if not (_REF.match(value) or value in ("operator", "system")):
                raise EntryError(f"{name}: {value!r} must be kind:id, 'operator' or 'system'")
        _check_value("payload", self.payload)

    def canonical(self) -> bytes:
        """The exact bytes that are logged and hashed."""
        data = rfc8785.dumps(
            {
                "type": self.type,
                "time": _rfc3339(self.time),
                "actor": self.actor,
                "subject": self.subject,
                "payload": dict(self.payload),
            }
        )
        if len(data) > MAX_ENTRY:
            raise EntryError(f"payload: the entry is {len(data)} bytes, at most {MAX_ENTRY}")
        return data


def _rfc3339(moment: dt.datetime) -> str:
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _check_value(path: str, value: Any) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if abs(value) > 2**53 - 1:
            raise EntryError(f"{path}: integers beyond ±2^53 are not exact in JSON; log them as text")
        return
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise EntryError(f"{path}: text over {MAX_TEXT} characters belongs in a document logged by its digest")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_value(f"{path}[{i}]", item)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise EntryError(f"{path}: keys must be text")
            _check_value(f"{path}.{key}", item)
        return
    raise EntryError(f"{path}: {type(value).__name__} is not allowed; use text, whole numbers, true/false, lists")


def digest(document: Any) -> str:
    """`sha256:<hex>` of a document: bytes as they are, anything else as its canonical JSON."""
    data = document if isinstance(document, bytes) else rfc8785.dumps(document)
    return "sha256:" + hashlib.sha256(data).hexdigest()


def sealed(text: str, key: str) -> str:
    """`hmac-sha256:<hex>` of UTF-8 text under a hex key that only its parties hold. A plain digest of a short text
    lets anyone confirm a guess; this one proves what was said only to those who have the key."""
    return "hmac-sha256:" + _keyed(text, key)


def sealed_facts(facts: Mapping[str, Any], key: str) -> dict[str, str]:
    """Each fact sealed with its name ("quantity:300"), so that equal values do not show as equal digests; facts
    that are None are left out."""
    return {name: sealed(f"{name}:{value}", key) for name, value in facts.items() if value is not None}


def sealed_ref(kind: str, ref: str, key: str) -> str:
    """`kind:<hex>`, the keyed digest of a reference such as `org:12`: who acted, in an entry whose parties do not
    want the public to read it; they hold `key` and can check it, nobody else can test a guess."""
    return f"{kind}:" + _keyed(ref, key)


def _keyed(text: str, key: str) -> str:
    return hmac.new(bytes.fromhex(key), text.encode(), hashlib.sha256).hexdigest()


def decode(data: bytes) -> dict[str, Any]:
    """Read logged bytes back, checking that they are the canonical form of an entry."""
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EntryError(f"not JSON: {exc}") from None
    if not isinstance(value, dict) or tuple(sorted(value)) != KEYS:
        raise EntryError(f"an entry has exactly the keys {', '.join(KEYS)}")
    if rfc8785.dumps(value) != data:
        raise EntryError("the bytes are not the RFC 8785 canonical form")
    return value
