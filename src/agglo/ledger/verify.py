"""Full verification of a log from its public resources (tlog-tiles layout), over HTTP or from a mirror folder.

Every entry is rehashed, the tree rebuilt, every listed checkpoint's signature and root checked against the
rebuilt tree, and every tile, at every level, compared with the rebuilt tree's hashes.
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
    # hashes of tree level 8·L (tile level L ≥ 1) not yet compared with their tile: (index of the first, hashes)
    upper: dict[int, tuple[int, list[bytes]]] = {}
    for data in entries(fetch, head.size):
        leaf = merkle.leaf_hash(data)
        leaves.append(leaf)
        for (level, index), h in edge.append(leaf)[1:]:
            if level % tiles.TILE_HEIGHT == 0:
                first, row = upper.setdefault(level // tiles.TILE_HEIGHT, (index, []))
                row.append(h)
                if len(row) == tiles.TILE_WIDTH:
                    _compare(
                        fetch, tiles.Tile(level // tiles.TILE_HEIGHT, first // tiles.TILE_WIDTH, len(row)), row, report
                    )
                    del upper[level // tiles.TILE_HEIGHT]
        if edge.size in wanted and edge.root() != wanted[edge.size]:
            raise VerifyError(f"the entries do not hash to the root signed for size {edge.size}")
        if len(leaves) == tiles.TILE_WIDTH or edge.size == head.size:
            _compare_tile(fetch, edge.size, leaves, report)
            leaves = []
        if progress and edge.size % 10_000 == 0:
            progress(edge.size)
    for tile_level, (first, row) in sorted(upper.items()):  # the partial tiles at the tree's right edge
        _compare(fetch, tiles.Tile(tile_level, first // tiles.TILE_WIDTH, len(row)), row, report)
    report.entries = edge.size
    if edge.root() != head.root:
        raise VerifyError("the entries do not hash to the current checkpoint's root")
    return report


def _compare_tile(fetch: Fetch, size: int, leaves: list[bytes], report: Report) -> None:
    _compare(fetch, tiles.Tile(0, (size - 1) // tiles.TILE_WIDTH, len(leaves)), leaves, report)


def _compare(fetch: Fetch, tile: tiles.Tile, hashes: list[bytes], report: Report) -> None:
    """Whether the log serves `tile` as the rebuilt tree's `hashes`; a problem named in the report if not."""
    if fetch("tile/" + tile.path()) != b"".join(hashes):
        what = "its entries" if tile.level == 0 else "the subtrees below it"
        report.problems.append(f"tile/{tile.path()} does not hold the hashes of {what}")
