"""The transparency log's faults in the reader's language: the signed-note core (`ledger.note`) names the rule a
key or signature breaks, in English for the command line; pages and the API say it with these words."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from agglo.ledger.note import NoteError

NOTE_RULES = {
    "key_name": _("the key name must not be empty, and may hold no spaces and no “+”"),
    "base64": _("a part of it is not valid base64"),
    "key_id": _("the key ID must be 8 lowercase hexadecimal digits"),
    "verifier_type": _("it must be of type 0x01 or 0x04, with a 32-byte Ed25519 public key"),
    "key_id_mismatch": _("the key ID does not match the name and the key"),
    "not_verified": _("the signature does not match the checkpoint"),
    "utf8": _("the text is not valid UTF-8"),
    "control": _("the text contains control characters"),
    "line": _("a signature line is “— <name> <base64 signature>”"),
    "short": _("the signature is too short"),
    "unknown_key": _("it is signed by no known key"),
    "other_key": _("the cosignature is by another key"),
    "cosignature_length": _("a cosignature is 8 bytes of time and a 64-byte signature"),
    "cosigner_type": _("a witness's key must be of type 0x04 (cosignature/v1)"),
    "time_range": _("the cosignature's time is out of range"),
}


def note_fault(exc: NoteError) -> str:
    """What is wrong, in the reader's language where the rule is known (else the core's own words)."""
    said = NOTE_RULES.get(exc.rule)
    return str(said) if said is not None else str(exc)
