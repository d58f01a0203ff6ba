"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and C2SP tlog-cosignature/v1 cosignatures.

Key strings use the encodings of the Go reference implementation (golang.org/x/mod/sumdb/note), so its tools and
every witness built on it read our keys: a verifier key is `<name>+<key ID, 8 hex digits>+<base64(type || public
key)>`, a signer key `PRIVATE+KEY+<name>+<key ID>+<base64(type || 32-byte seed)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01  # signed-note Ed25519 signatures
COSIGNATURE_V1 = 0x04  # tlog-cosignature timestamped Ed25519 cosignatures
MAX_SIGNATURES = 100
DASH = "\u2014"


class NoteError(ValueError):
    """A note, key or signature is malformed or does not verify; the message says what, in English (for the
    command line and logs), and `rule` names the rule broken, for the platform to say it in the reader's language."""

    def __init__(self, message: str, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


def key_id(name: str, sig_type: int, public_key: bytes) -> bytes:
    """The 4-byte key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteError(f"key name {name!r}: must be non-empty, with no spaces and no '+'", rule="key_name")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: not valid base64", rule="base64") from None


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    """A public key that can check signatures of one type under one name."""

    name: str
    sig_type: int
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public_key)

    def encode(self) -> str:
        data = base64.b64encode(bytes([self.sig_type]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{data}"

    @classmethod
    def parse(cls, text: str) -> Verifier:
        """Read a verifier key string; the key ID must match the key."""
        name, _, rest = text.strip().partition("+")
        hex_id, _, data = rest.partition("+")
        _check_name(name)
        if len(hex_id) != 8 or hex_id.lower() != hex_id or any(c not in "0123456789abcdef" for c in hex_id):
            raise NoteError("verifier key: the key ID must be 8 lowercase hex digits", rule="key_id")
        raw = _b64decode(data, "verifier key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError(
                "verifier key: expected type 0x01 or 0x04 and a 32-byte Ed25519 public key", rule="verifier_type"
            )
        verifier = cls(name=name, sig_type=raw[0], public_key=raw[1:])
        if verifier.key_id.hex() != hex_id:
            raise NoteError("verifier key: the key ID does not match the name and key", rule="key_id_mismatch")
        return verifier

    def verify(self, message: bytes, signature: bytes) -> None:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            raise NoteError(f"the signature by {self.name} does not verify", rule="not_verified") from None


@dataclass(frozen=True)
class Signer:
    """A private Ed25519 key under a name, signing notes (type 0x01) or cosigning checkpoints (type 0x04)."""

    name: str
    seed: bytes
    sig_type: int = ED25519

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.seed) != 32:
            raise NoteError("signer key: the Ed25519 seed must be 32 bytes")

    @classmethod
    def generate(cls, name: str, sig_type: int = ED25519) -> Signer:
        seed = Ed25519PrivateKey.generate().private_bytes_raw()
        return cls(name=name, seed=seed, sig_type=sig_type)

    @property
    def _key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.sig_type, _raw_public(self._key.public_key()))

    def encode(self) -> str:
        data = base64.b64encode(bytes([self.sig_type]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{data}"

    @classmethod
    def parse(cls, text: str) -> Signer:
        prefix, _, rest = text.strip().partition("+KEY+")
        if prefix != "PRIVATE":
            raise NoteError("signer key: must start with PRIVATE+KEY+")
        name, _, rest = rest.partition("+")
        hex_id, _, data = rest.partition("+")
        raw = _b64decode(data, "signer key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise NoteError("signer key: expected type 0x01 or 0x04 and a 32-byte seed")
        signer = cls(name=name, seed=raw[1:], sig_type=raw[0])
        if signer.verifier.key_id.hex() != hex_id:
            raise NoteError("signer key: the key ID does not match the name and key")
        return signer

    def sign_line(self, message: bytes, prefix: bytes = b"") -> str:
        """One note signature line over `message`; `prefix` goes between the key ID and the signature."""
        signature = self._key.sign(message)
        blob = base64.b64encode(self.verifier.key_id + prefix + signature).decode()
        return f"{DASH} {self.name} {blob}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    data: bytes  # everything after the key ID

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.data).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse(raw: str | bytes) -> Note:
    """Split a signed note into its text and signature lines, checking the format strictly."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("the note is not valid UTF-8", rule="utf8") from None
    if any(ord(ch) < 0x20 and ch != "\n" for ch in raw):
        raise NoteError("the note contains control characters", rule="control")
    cut = raw.rfind("\n\n")
    if cut < 0 or not raw.endswith("\n"):
        raise NoteError("the note has no blank line before its signatures")
    text, block = raw[: cut + 1], raw[cut + 2 :]
    signatures = []
    for line in block[:-1].split("\n"):
        head, _, rest = line.partition(" ")
        name, _, blob = rest.partition(" ")
        if head != DASH or not name or " " in blob:
            raise NoteError(f"malformed signature line {line!r}", rule="line")
        _check_name(name)
        data = _b64decode(blob, "signature")
        if len(data) < 5:
            raise NoteError("a signature is too short", rule="short")
        signatures.append(Signature(name=name, key_id=data[:4], data=data[4:]))
    if not signatures:
        raise NoteError("the note has no signatures")
    if len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    return Note(text=text, signatures=tuple(signatures))


def sign(text: str, signers: Iterable[Signer]) -> str:
    """The signed note of `text` (which must end in a newline)."""
    if not text.endswith("\n") or text.endswith("\n\n"):
        raise NoteError("the note text must end in exactly one newline")
    body = text.encode()
    return text + "\n" + "".join(s.sign_line(body) for s in signers)


def open_note(raw: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Verify the note's signatures by known Ed25519 keys: unknown keys are ignored, a bad known one fails."""
    note = parse(raw)
    known = {(v.name, v.key_id): v for v in verifiers if v.sig_type == ED25519}
    verified = 0
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        verifier.verify(note.text.encode(), sig.data)
        verified += 1
    if not verified:
        raise NoteError("no signature by a known key", rule="unknown_key")
    return note


def cosignature_message(text: str, timestamp: int) -> bytes:
    """What a tlog-cosignature/v1 signs: a header line, a time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def cosign(text: str, signer: Signer, timestamp: int) -> str:
    """A cosignature line for checkpoint body `text` at POSIX time `timestamp`."""
    if signer.sig_type != COSIGNATURE_V1:
        raise NoteError("a cosigner key must have type 0x04", rule="cosigner_type")
    if not 0 <= timestamp < 2**63:
        raise NoteError("the cosignature time is out of range", rule="time_range")
    return signer.sign_line(cosignature_message(text, timestamp), prefix=timestamp.to_bytes(8, "big"))


def verify_cosignature(text: str, signature: Signature, verifier: Verifier) -> int:
    """Check one cosignature of checkpoint body `text`; returns its timestamp."""
    if verifier.sig_type != COSIGNATURE_V1:
        raise NoteError("a cosigner key must have type 0x04", rule="cosigner_type")
    if (signature.name, signature.key_id) != (verifier.name, verifier.key_id):
        raise NoteError("the cosignature is by another key", rule="other_key")
    if len(signature.data) != 8 + 64:
        raise NoteError("a cosignature is 8 bytes of time and a 64-byte signature", rule="cosignature_length")
    timestamp = int.from_bytes(signature.data[:8], "big")
    if timestamp >= 2**63:
        raise NoteError("the cosignature time is out of range", rule="time_range")
    verifier.verify(cosignature_message(text, timestamp), signature.data[8:])
    return timestamp
