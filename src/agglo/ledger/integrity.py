"""`agglo ledger audit`: recompute the whole log from the stored entries and compare with what was signed.

Finds entries whose bytes changed, stored tree nodes that no longer match, gaps, and checkpoints whose signature or
root no longer holds. Read-only: it reports, it never repairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agglo.ledger import entries, merkle
from agglo.ledger.models import LogEntry, LogHead, SignedCheckpoint, TreeNode, node_key
from agglo.ledger.store import LedgerIntegrityError, opened

CHUNK = 4000


@dataclass
class AuditReport:
    entries: int = 0
    nodes: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit(progress: Callable[[int], None] | None = None, max_problems: int = 100) -> AuditReport:
    report = AuditReport()
    signed: dict[int, bytes] = {}
    for row in SignedCheckpoint.objects.order_by("size"):
        report.checkpoints += 1
        try:
            signed[row.size] = opened(row).root
        except LedgerIntegrityError as exc:
            report.problems.append(str(exc))
    head = LogHead.objects.filter(pk=1).first()
    size = head.tree_size if head else 0
    if signed and max(signed) != size:
        report.problems.append(f"the head says {size} entries are hashed, the newest checkpoint says {max(signed)}")
    if 0 in signed and signed[0] != merkle.EMPTY_ROOT:
        report.problems.append("checkpoint 0 does not have the empty root")
    edge = merkle.CompactRange()
    expected_index = 0
    for start in range(0, size, CHUNK):
        rows = list(
            LogEntry.objects.filter(index__gte=start, index__lt=min(size, start + CHUNK))
            .order_by("index")
            .values_list("index", "data")
        )
        made: list[tuple[merkle.Node, bytes]] = []
        for index, data in rows:
            if index != expected_index:
                report.problems.append(f"entries {expected_index}–{index - 1} are missing")
                return report
            raw = bytes(data)
            try:
                entries.decode(raw)
            except entries.EntryError as exc:
                report.problems.append(f"entry {index}: {exc}")
            made.extend(edge.append(merkle.leaf_hash(raw)))
            expected_index += 1
            if edge.size in signed and edge.root() != signed[edge.size]:
                report.problems.append(f"checkpoint {edge.size}: the entries no longer hash to its signed root")
        _compare_nodes(made, report)
        report.entries = edge.size
        if progress:
            progress(edge.size)
        if len(report.problems) >= max_problems:
            break
    if expected_index != size and len(report.problems) < max_problems:
        report.problems.append(f"entries {expected_index}–{size - 1} are missing")
    return report


def _compare_nodes(made: list[tuple[merkle.Node, bytes]], report: AuditReport) -> None:
    for i in range(0, len(made), CHUNK):
        part = made[i : i + CHUNK]
        keys = [node_key(level, index) for (level, index), _ in part]
        stored = dict(TreeNode.objects.filter(key__in=keys).values_list("key", "hash"))
        for key, ((level, index), h) in zip(keys, part, strict=True):
            report.nodes += 1
            value = stored.get(key)
            if value is None:
                report.problems.append(f"tree node ({level}, {index}) is missing")
            elif bytes(value) != h:
                report.problems.append(
                    f"entry {index}: its bytes changed after it was logged"
                    if level == 0
                    else f"tree node ({level}, {index}) is altered"
                )
