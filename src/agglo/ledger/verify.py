"""Full verification of a log from its public resources (tlog-tiles layout), over HTTP or from a mirror folder.

Every entry is rehashed, the tree rebuilt, every listed checkpoint's signature and root checked against the
rebuilt tree, and every level-0 tile compared with the rehashed entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from agglo.ledger import checkpoint, merkle, note, tiles

# Returns the bytes at a path relative to the log prefix ("checkpoint", "tile/0/000"), or None if absent.
Fetch = Callable[[str], bytes | None]


class VerifyError(ValueError):
    """The log does not verify; the message names the first thing that failed."""


@dataclass
class Report:
    size: int = 0
    entries: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)


def open_checkpoint(raw: bytes | str, log: note.Verifier) -> checkpoint.Checkpoint:
    try:
        cp = checkpoint.parse(note.open_note(raw, [log]).text)
    except (note.NoteError, checkpoint.CheckpointError) as exc:
        raise VerifyError(f"checkpoint: {exc}") from None
    if cp.origin != log.name:
        raise VerifyError(f"checkpoint: origin {cp.origin!r} is not the log {log.name!r}")
    return cp


def tile_paths(size: int, level: int = -1) -> Iterator[tiles.Tile]:
    """The tiles (entry bundles for level -1) that cover a tree of `size` at one level."""
    count = size >> (max(level, 0) * tiles.TILE_HEIGHT)
    full, rest = divmod(count, tiles.TILE_WIDTH)
    for n in range(full):
        yield tiles.Tile(level, n, tiles.TILE_WIDTH)
    if rest:
        yield tiles.Tile(level, full, rest)


def entries(fetch: Fetch, size: int) -> Iterator[bytes]:
    for tile in tile_paths(size):
        data = fetch("tile/" + tile.path())
        if data is None:
            raise VerifyError(f"tile/{tile.path()}: missing")
        bundle = tiles.unbundle(data)
        if len(bundle) != tile.width:
            raise VerifyError(f"tile/{tile.path()}: holds {len(bundle)} entries, expected {tile.width}")
        yield from bundle


def verify_log(
    fetch: Fetch,
    log: note.Verifier,
    history: Iterable[bytes | str] = (),
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify the current checkpoint and every checkpoint in `history` against the entries the log serves."""
    raw = fetch("checkpoint")
    if raw is None:
        raise VerifyError("checkpoint: missing")
    head = open_checkpoint(raw, log)
    wanted: dict[int, bytes] = {head.size: head.root}
    report = Report(size=head.size)
    for old in history:
        cp = open_checkpoint(old, log)
        report.checkpoints += 1
        if cp.size > head.size:
            raise VerifyError(f"checkpoint {cp.size} is beyond the current size {head.size}: a rollback")
        if wanted.setdefault(cp.size, cp.root) != cp.root:
            raise VerifyError(f"two checkpoints of size {cp.size} have different roots: a split view")
    edge = merkle.CompactRange()
    if 0 in wanted and wanted[0] != merkle.EMPTY_ROOT:
        raise VerifyError("checkpoint 0 does not have the empty root")
    leaves: list[bytes] = []
    for data in entries(fetch, head.size):
        leaf = merkle.leaf_hash(data)
        leaves.append(leaf)
        edge.append(leaf)
        if edge.size in wanted and edge.root() != wanted[edge.size]:
            raise VerifyError(f"the entries do not hash to the root signed for size {edge.size}")
        if len(leaves) == tiles.TILE_WIDTH or edge.size == head.size:
            _compare_tile(fetch, edge.size, leaves, report)
            leaves = []
        if progress and edge.size % 10_000 == 0:
            progress(edge.size)
    report.entries = edge.size
    if edge.root() != head.root:
        raise VerifyError("the entries do not hash to the current checkpoint's root")
    return report


def _compare_tile(fetch: Fetch, size: int, leaves: list[bytes], report: Report) -> None:
    index = (size - 1) // tiles.TILE_WIDTH
    tile = tiles.Tile(0, index, len(leaves))
    served = fetch("tile/" + tile.path())
    if served != b"".join(leaves):
        report.problems.append(f"tile/{tile.path()} does not hold the hashes of its entries")
