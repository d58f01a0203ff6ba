"""C2SP tlog-checkpoint bodies: origin, tree size, root hash, then optional extension lines."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from agglo.ledger.merkle import HASH_SIZE


class CheckpointError(ValueError):
    """The checkpoint body breaks the format; the message names the line."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CheckpointError("origin: must be one non-empty line")
        if self.size < 0:
            raise CheckpointError("size: must not be negative")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root: must be {HASH_SIZE} bytes")
        if any(not line or "\n" in line for line in self.extensions):
            raise CheckpointError("extension lines must be non-empty single lines")

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "\n".join(lines) + "\n"


def parse(body: str) -> Checkpoint:
    """Read a checkpoint body (the note text, signatures already removed)."""
    if not body.endswith("\n"):
        raise CheckpointError("the checkpoint must end in a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("a checkpoint has at least three lines: origin, size, root hash")
    origin, size_text, root_text, *extensions = lines
    if not size_text.isascii() or not size_text.isdigit() or (len(size_text) > 1 and size_text[0] == "0"):
        raise CheckpointError(f"size: {size_text!r} is not a decimal number without leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError("root hash: not valid base64") from None
    return Checkpoint(origin=origin, size=int(size_text), root=root, extensions=tuple(extensions))
