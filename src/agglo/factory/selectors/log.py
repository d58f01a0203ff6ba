"""A piece of work's entries on the public log, opened for its parties. The log keeps each fact as a keyed digest
(`services.work.audit_step`); here every digest is checked against what the platform recorded of that step (the
audit row written in the same transaction) and the work's own terms, and shown in the clear where it checks out,
so a party reads what the log says without computing a single HMAC itself."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from agglo.common.models import AuditEvent
from agglo.factory.models import Allocation
from agglo.ledger.entries import EntryError, decode, sealed, sealed_ref
from agglo.ledger.models import LogEntry
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import in_language

KIND = "factory.allocation"


@dataclass(frozen=True)
class OpenedEntry:
    index: int
    event: str  # the log's type: factory.allocation_accepted …
    logged_at: dt.datetime
    by: str  # "buyer", "factory", "platform", or "" where the actor does not check out
    # (name, value, what it names, opened): a sealed value that checked out, or one in the clear, with the
    # organization, order or process an id stands for; else the digest, not opened
    fields: tuple[tuple[str, str, str, bool], ...]


def log_subject(allocation: Allocation) -> str:
    """The subject the public log names this piece of work by (a keyed digest of its id)."""
    return sealed_ref(KIND, f"{KIND}:{allocation.pk}", allocation.text_key)


def opened_entries(allocations: list[Allocation]) -> dict[int, list[OpenedEntry]]:
    """Each logged piece's entries, oldest first, with their values opened (keyed by allocation id)."""
    pieces = {log_subject(a): a for a in allocations if a.text_key}
    if not pieces:
        return {}
    steps: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for event, subject_id, payload in (
        AuditEvent.objects.filter(subject_type=KIND, subject_id__in=[str(a.pk) for a in pieces.values()])
        .order_by("id")
        .values_list("event", "subject_id", "payload")
    ):
        steps[int(subject_id), event].append(payload or {})
    buyers = {
        pk: in_language(zh, en)
        for pk, zh, en in Organization.objects.filter(pk__in={a.order.buyer_id for a in pieces.values()}).values_list(
            "pk", "name_zh", "name_en"
        )
    }
    seen: dict[tuple[int, str], int] = defaultdict(int)
    opened: dict[int, list[OpenedEntry]] = defaultdict(list)
    for entry in LogEntry.objects.filter(subject__in=list(pieces)).order_by("index"):
        a = pieces[entry.subject]
        try:
            content = decode(bytes(entry.data))
        except EntryError:
            continue  # an altered entry: `agglo ledger audit` names it
        # the n-th entry of a kind for a piece goes with the n-th audit row of that kind (one transaction wrote
        # both); the other rows of that kind are tried after it, since entries logged before subjects were sealed
        # are not found here and shift the count
        n = seen[a.pk, entry.type]
        seen[a.pk, entry.type] += 1
        kind = steps[a.pk, entry.type]
        recorded = kind[n : n + 1] + kind[:n] + kind[n + 1 :]
        fields = [_opened(name, value, a, recorded) for name, value in content["payload"].items()]
        opened[a.pk].append(
            OpenedEntry(
                index=entry.index,
                event=entry.type,
                logged_at=entry.logged_at,
                by=_who(content["actor"], a),
                fields=tuple((name, value, _named(name, a, buyers) if ok else "", ok) for name, value, ok in fields),
            )
        )
    return dict(opened)


def _named(name: str, a: Allocation, buyers: dict[int, str]) -> str:
    """What an opened id stands for, as the reader's pages name it."""
    return {
        "factory": a.factory.name,
        "buyer": buyers.get(a.order.buyer_id, ""),
        "order": a.order.product,
        "process": a.operation.process.name,
    }.get(name, "")


def _who(actor: str, a: Allocation) -> str:
    if actor == "operator":
        return "platform"
    for side, org in (("buyer", a.order.buyer_id), ("factory", a.factory_id)):
        if actor == sealed_ref("party", f"org:{org}", a.text_key):
            return side
    return ""


def _opened(name: str, value: Any, a: Allocation, recorded: list[dict[str, Any]]) -> tuple[str, str, bool]:
    if not (isinstance(value, str) and value.startswith("hmac-sha256:")):
        return name, str(value).lower() if isinstance(value, bool) else str(value), True  # in the clear
    for candidate in _candidates(name, a, recorded):
        if sealed(f"{name}:{candidate}", a.text_key) == value:
            return name, str(candidate), True
    return name, value, False


def _candidates(name: str, a: Allocation, recorded: list[dict[str, Any]]) -> list[Any]:
    """What a sealed fact may say: the step's recorded value, or the work's terms (a delay moved its week, a taken
    counter-offer changed its quantity)."""
    moved = [r.get(k) for r in recorded for k in ("from", "to")]
    terms: dict[str, list[Any]] = {
        "order": [a.order_id],
        "buyer": [a.order.buyer_id],
        "factory": [a.factory_id],
        "process": [a.operation.process_id],
        "quantity": [a.quantity, a.counter_quantity],
        "week": [a.week.isoformat(), a.promised_week.isoformat() if a.promised_week else None, *moved],
    }
    found = [r[name] for r in recorded if name in r]
    return [c for c in found + terms.get(name, []) if c is not None]
