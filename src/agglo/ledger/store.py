"""Reading the stored tree: node hashes by (level, index), and the latest checkpoint."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from agglo.ledger import checkpoint as checkpoint_format
from agglo.ledger import note
from agglo.ledger.keys import log_verifier
from agglo.ledger.merkle import Node
from agglo.ledger.models import SignedCheckpoint, TreeNode, node_key

_NODES = TreeNode._meta.db_table


class LedgerIntegrityError(Exception):
    """Stored data no longer matches what the log signed: never served, always reported."""


def read_nodes(nodes: Sequence[Node]) -> list[bytes]:
    keys = [node_key(level, index) for level, index in nodes]
    if not keys:
        return []
    # Plain SQL: proofs are served on every verification and the ORM would cost more than the lookup.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, hash FROM {_NODES} WHERE key IN ({', '.join(['%s'] * len(keys))})", keys)
        found = dict(cursor.fetchall())
    missing = [nodes[i] for i, key in enumerate(keys) if key not in found]
    if missing:
        raise LedgerIntegrityError(f"stored tree nodes are missing: {missing[:5]}")
    return [bytes(found[key]) for key in keys]


def read_row(level: int, first: int, count: int) -> list[bytes]:
    """`count` consecutive stored hashes of one tree level (a tile's contents)."""
    low = node_key(level, first)
    rows = list(TreeNode.objects.filter(key__gte=low, key__lt=low + count).order_by("key").values_list("key", "hash"))
    if len(rows) != count:
        raise LedgerIntegrityError(f"stored tree nodes are missing at level {level} from {first}")
    return [bytes(h) for _, h in rows]


def latest() -> SignedCheckpoint | None:
    return SignedCheckpoint.objects.order_by("-size").first()


def latest_size() -> int:
    """The size of the newest signed checkpoint (0 before the first)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX(size) FROM {SignedCheckpoint._meta.db_table}")
        row = cursor.fetchone()
    return int(row[0] or 0)


def opened(row: SignedCheckpoint) -> checkpoint_format.Checkpoint:
    """The checkpoint a stored row says, after checking the log's signature and that the columns agree."""
    try:
        body = note.open_note(row.note, [log_verifier()]).text
        parsed = checkpoint_format.parse(body)
    except (note.NoteError, checkpoint_format.CheckpointError) as exc:
        raise LedgerIntegrityError(f"checkpoint {row.size}: {exc}") from None
    if parsed.size != row.size or parsed.root != bytes(row.root):
        raise LedgerIntegrityError(f"checkpoint {row.size}: the stored size or root differs from the signed one")
    return parsed
