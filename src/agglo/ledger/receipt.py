"""Receipts: an entry, its inclusion proof and the signed checkpoint, checked with nothing but trusted keys."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agglo.ledger import checkpoint, entries, merkle, note

FORMAT = "agglo-ledger-receipt/v1"


class ReceiptError(ValueError):
    """The receipt does not verify; the message says which check failed."""


@dataclass(frozen=True)
class Verified:
    index: int
    size: int
    entry: dict[str, Any]
    cosigned_by: tuple[str, ...]


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ReceiptError(f"{what}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptError(f"{what}: not valid base64") from None


def verify(
    data: Mapping[str, Any],
    log_key: str,
    witness_keys: Iterable[str] = (),
    *,
    min_cosignatures: int = 0,
) -> Verified:
    """Check a receipt against the log's verifier key (and optionally witnesses'), never trusting its own fields."""
    if data.get("format") != FORMAT:
        raise ReceiptError(f"format: expected {FORMAT}")
    try:
        log = note.Verifier.parse(log_key)
        witnesses = [note.Verifier.parse(k) for k in witness_keys]
        signed = note.open_note(str(data.get("checkpoint", "")), [log])
        head = checkpoint.parse(signed.text)
    except (note.NoteError, checkpoint.CheckpointError) as exc:
        raise ReceiptError(f"checkpoint: {exc}") from None
    if head.origin != log.name:
        raise ReceiptError(f"checkpoint: origin {head.origin!r} is not the log {log.name!r}")
    index, size = data.get("index"), data.get("size")
    if (
        not isinstance(index, int)
        or not isinstance(size, int)
        or isinstance(index, bool)  # JSON's true is no index
        or isinstance(size, bool)
        or size != head.size
    ):
        raise ReceiptError("index and size must be whole numbers, size that of the checkpoint")
    raw = _b64(data.get("entry"), "entry")
    proof = [_b64(h, "inclusion_proof") for h in data.get("inclusion_proof", [])]
    try:
        merkle.verify_inclusion(index, size, merkle.leaf_hash(raw), proof, head.root)
        entry = entries.decode(raw)
    except (merkle.ProofError, entries.EntryError) as exc:
        raise ReceiptError(f"entry: {exc}") from None
    # A quorum counts witnesses, not lines or names: each public key once, however often its line is repeated or
    # its key given (review 49 H3: the platform, which writes receipts, could otherwise meet any quorum alone).
    cosigners, keys = [], set()
    for w in witnesses:
        if w.public_key in keys:
            continue
        for sig in signed.signatures:
            if (sig.name, sig.key_id) == (w.name, w.key_id):
                try:
                    note.verify_cosignature(signed.text, sig, w)
                except note.NoteError as exc:
                    raise ReceiptError(f"cosignature: {exc}") from None
                cosigners.append(w.name)
                keys.add(w.public_key)
                break
    if len(cosigners) < min_cosignatures:
        raise ReceiptError(
            f"cosignatures: {len(cosigners)} distinct witnesses of those given, {min_cosignatures} required"
        )
    return Verified(index=index, size=size, entry=entry, cosigned_by=tuple(cosigners))
