"""C2SP tlog-tiles: tile paths, which stored hashes a tile holds, and entry bundles.

A tile at level L, index N holds the hashes of tree level 8·L, indexes 256·N to 256·N + W - 1: level 0 holds leaf
hashes, level 1 the roots of full level-0 tiles, and so on. The log keeps every complete node, so a tile is one range
of stored hashes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY = 0xFFFF  # entry bundles prefix each entry with a big-endian uint16 length

_PATH = re.compile(
    r"^(?:(?P<level>0|[1-9][0-9]?)|entries)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<width>[1-9][0-9]{0,2}))?$"
)


class TileError(ValueError):
    """A tile path is malformed or names a tile the tree does not have."""


@dataclass(frozen=True)
class Tile:
    level: int  # tile level; -1 for an entry bundle
    index: int
    width: int  # TILE_WIDTH for a full tile

    @property
    def is_entries(self) -> bool:
        return self.level < 0

    @property
    def tree_level(self) -> int:
        return max(self.level, 0) * TILE_HEIGHT

    def path(self) -> str:
        head = "entries" if self.is_entries else str(self.level)
        tail = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"{head}/{encode_index(self.index)}{tail}"

    def span(self) -> tuple[int, int]:
        """The stored-hash (or entry) indexes the tile holds, at `tree_level`: [first, first + width)."""
        first = self.index * TILE_WIDTH
        return first, first + self.width


def encode_index(n: int) -> str:
    """1234067 → 'x001/x234/067': zero-padded 3-digit elements, all but the last prefixed with x."""
    if n < 0:
        raise TileError("a tile index is never negative")
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def parse_path(path: str) -> Tile:
    """Read `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]` (the part after `tile/`)."""
    match = _PATH.match(path)
    if not match:
        raise TileError(f"not a tile path: {path!r}")
    level_text = match.group("level")
    level = -1 if level_text is None else int(level_text)
    if level > 63:
        raise TileError("a tile level is at most 63")
    digits = match.group("index").replace("x", "").split("/")
    if len(digits) > 1 and digits[0] == "000":
        raise TileError("a tile index has no leading zero elements")
    width = int(match.group("width") or TILE_WIDTH)
    if match.group("width") and width >= TILE_WIDTH:
        raise TileError("a partial tile holds 1 to 255 hashes")
    return Tile(level=level, index=int("".join(digits)), width=width)


def available(tile: Tile, size: int) -> bool:
    """Whether a tree of `size` leaves has this tile: full tiles once complete; partial ones of every width the
    tree has had, not only the present right edge, because a client that read an earlier checkpoint asks for that
    one's partial tiles (tlog-tiles: logs MUST serve them for every checkpoint). A partial tile is the first
    `width` hashes of its tile, so it never changes once the tree has them."""
    count = size >> (max(tile.level, 0) * TILE_HEIGHT)  # hashes (or entries) on this row
    full = count // TILE_WIDTH
    if tile.width == TILE_WIDTH:
        return tile.index < full
    return tile.index < full or (tile.index == full and tile.width <= count % TILE_WIDTH)


def bundle(entries: Sequence[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry of {len(entry)} bytes does not fit a bundle")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def unbundle(data: bytes) -> list[bytes]:
    entries, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise TileError("the bundle ends inside a length")
        n = int.from_bytes(data[i : i + 2], "big")
        if i + 2 + n > len(data):
            raise TileError("the bundle ends inside an entry")
        entries.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    return entries
