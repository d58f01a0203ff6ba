"""Reads of the transparency log: the checkpoint as served, entries, proofs, tiles, a member's entries, receipts."""

from __future__ import annotations

import base64
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.common.errors import NotFound, ValidationFailed
from agglo.ledger import merkle, tiles
from agglo.ledger.keys import log_verifier, origin
from agglo.ledger.models import LogEntry, SignedCheckpoint
from agglo.ledger.store import latest, latest_size, read_nodes, read_row

RECEIPT_FORMAT = "agglo-ledger-receipt/v1"


def served_note(row: SignedCheckpoint) -> str:
    """The signed checkpoint with the witnesses' cosignatures appended as further signature lines."""
    lines = row.cosignatures.filter(witness__active=True).order_by("witness__name").values_list("line", flat=True)
    return row.note + "".join(lines)


def checkpoint_current() -> SignedCheckpoint:
    row = latest()
    if row is None:
        raise NotFound(_("The log has no checkpoint yet."))
    return row


def checkpoint_list(*, after: int = -1) -> QuerySet[SignedCheckpoint]:
    return SignedCheckpoint.objects.filter(size__gt=after).order_by("size").prefetch_related("cosignatures")


def published_size() -> int:
    return latest_size()


def entry_get(index: int) -> LogEntry:
    """An entry covered by a published checkpoint: entries are public, by design free of personal data."""
    if index < 0 or index >= published_size():
        raise NotFound(_("No published entry has index %(index)s.") % {"index": index})
    return LogEntry.objects.get(index=index)


def _size_problem(name: str, value: int, published: int) -> dict[str, list[str]]:
    return {
        name: [
            _("Must be between 1 and the published tree size %(size)s, got %(value)s.")
            % {"size": published, "value": value}
        ]
    }


def inclusion_proof(index: int, size: int) -> list[bytes]:
    published = published_size()
    if not 1 <= size <= published:
        raise ValidationFailed(_size_problem("size", size, published))
    if not 0 <= index < size:
        raise ValidationFailed({"index": [_("Must be at least 0 and below size, got %(value)s.") % {"value": index}]})
    return merkle.inclusion_proof(index, size, read_nodes)


def consistency_proof(old: int, new: int) -> list[bytes]:
    published = published_size()
    if not 1 <= new <= published:
        raise ValidationFailed(_size_problem("to", new, published))
    if not 1 <= old <= new:
        raise ValidationFailed({"from": [_("Must be between 1 and to, got %(value)s.") % {"value": old}]})
    return merkle.consistency_proof(old, new, read_nodes)


def tile_data(path: str) -> bytes:
    """The bytes of a tile or entry bundle that the latest checkpoint's tree has; NotFound otherwise."""
    try:
        tile = tiles.parse_path(path)
    except tiles.TileError as exc:
        raise NotFound(str(exc)) from None
    if not tiles.available(tile, published_size()):
        raise NotFound(_("The published tree has no such tile."))
    first, end = tile.span()
    if tile.is_entries:
        rows = LogEntry.objects.filter(index__gte=first, index__lt=end).order_by("index").values_list("data", flat=True)
        return tiles.bundle([bytes(d) for d in rows])
    return b"".join(read_row(tile.tree_level, first, tile.width))


def entries_for(actor: Any) -> QuerySet[LogEntry]:
    """The entries about the actor's organizations (all of them for operators and auditors), newest first."""
    qs = LogEntry.objects.order_by("-index")
    if policy.sees_all_organizations(actor):
        return qs
    return qs.filter(parties__organization_id__in=policy.organization_ids(actor)).distinct()


def receipt(actor: Any, index: int) -> dict[str, Any]:
    """Entry + inclusion proof + the checkpoint (with cosignatures) that covers it: verifiable without the platform.

    Uses the newest checkpoint that active witnesses cosigned (only theirs are served), if it covers the entry,
    else the newest one."""
    entry = entries_for(actor).filter(index=index).first()
    published = latest()
    if entry is None or published is None or index >= published.size:
        raise NotFound(_("No entry of yours has index %(index)s.") % {"index": index})
    row = (
        SignedCheckpoint.objects.filter(size__gt=index, cosignatures__witness__active=True).order_by("-size").first()
        or published
    )
    proof = merkle.inclusion_proof(index, row.size, read_nodes)
    return {
        "format": RECEIPT_FORMAT,
        "origin": origin(),
        "log_key": log_verifier().encode(),
        "index": index,
        "entry": base64.b64encode(bytes(entry.data)).decode(),
        "size": row.size,
        "inclusion_proof": [base64.b64encode(h).decode() for h in proof],
        "checkpoint": served_note(row),
    }
