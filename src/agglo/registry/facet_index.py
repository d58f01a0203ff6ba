"""The directory's facet table (registry.facets), loaded from the database and kept current in each process.

Every request compares a cheap marker (lowest and highest organization id, latest update, number of segments)
with the loaded one: unchanged, the table is reused; new or updated organizations are patched in; anything
else (rows removed, chains changed) reloads the table. The services bump `updated_at` whenever they change a
faceted field, so the marker sees every change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from agglo.registry.facets import NONE, FacetTable, empty_table
from agglo.registry.kinds import Kind, Layer
from agglo.registry.models import Chain, Organization, Segment

UNKNOWN = -2  # a chosen value no organization has: matches nothing
REREAD_WINDOW = timedelta(seconds=60)


@dataclass
class Vocabulary:
    """Codes of facet values: position in each list. Areas grow as organizations from new places arrive."""

    status: list[str]
    kind: list[str]
    layer: list[str]
    area: list[str]
    chain: list[str]
    segment: list[str]

    def code(self, facet: str, value: str) -> int:
        if not value:
            return NONE
        values: list[str] = getattr(self, facet)
        return values.index(value) if value in values else UNKNOWN

    def value(self, facet: str, code: int) -> str:
        values: list[str] = getattr(self, facet)
        return values[code]


@dataclass
class _Loaded:
    table: FacetTable
    vocab: Vocabulary
    marker: tuple[Any, ...]


_lock = threading.Lock()
_loaded: _Loaded | None = None


def _marker() -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        # One aggregate per subquery, so each is an index lookup rather than a scan.
        cursor.execute(
            "SELECT (SELECT min(id) FROM registry_organization), (SELECT max(id) FROM registry_organization), "
            "(SELECT max(updated_at) FROM registry_organization), (SELECT count(*) FROM registry_segment)"
        )
        return tuple(cursor.fetchone())


def current() -> tuple[FacetTable, Vocabulary]:
    """The facet table as of now, loading or patching it when the organizations changed."""
    global _loaded
    marker = _marker()
    with _lock:
        state = _loaded
        if state is not None and state.marker == marker:
            return state.table, state.vocab
        reload = state is None or _needs_reload(state.marker, marker)
        state = _load_all(marker) if state is None or reload else _patch(state, marker)
        _loaded = state
        return state.table, state.vocab


def forget() -> None:
    """Drop the loaded table (tests switch databases under it)."""
    global _loaded
    with _lock:
        _loaded = None


def _needs_reload(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    if new[0] is None or old[0] is None:
        return True
    return new[0] != old[0] or new[1] < old[1] or new[3] != old[3] or (old[2] and new[2] and new[2] < old[2])


def _vocabulary() -> Vocabulary:
    return Vocabulary(
        status=list(Organization.Status.values),
        kind=[k.value for k in Kind],
        layer=[v.value for v in Layer],
        area=[],
        chain=list(Chain.objects.order_by("code").values_list("code", flat=True)),
        segment=list(Segment.objects.order_by("code").values_list("code", flat=True)),
    )


def _load_all(marker: tuple[Any, ...]) -> _Loaded:
    vocab = _vocabulary()
    rows = _rows("", [])
    size = (max((r[0] for r in rows), default=-1)) + 1
    table = _grow(empty_table(len(vocab.chain), len(vocab.segment)), size)
    _write(table, vocab, rows)
    return _Loaded(table, vocab, marker)


def _patch(state: _Loaded, marker: tuple[Any, ...]) -> _Loaded:
    old = state.marker
    # Re-read a window before the last change seen: a transaction stamped earlier may have committed later.
    since = _as_datetime(old[2]) - REREAD_WINDOW
    rows = list(
        Organization.objects.filter(Q(updated_at__gte=since) | Q(id__gt=old[1]))
        .order_by()
        .values_list("id", "status", "kind", "layer", "area_id", "chain_codes", "segment_codes")
    )
    size = max(state.table.size, (max((r[0] for r in rows), default=-1)) + 1)
    table = _grow(state.table, size)  # a copy: readers of the old table are not disturbed
    _write(table, state.vocab, rows)
    return _Loaded(table, state.vocab, marker)


def _rows(where: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, status, kind, layer, area_id, chain_codes, segment_codes FROM registry_organization " + where,
            params,
        )
        return list(cursor.fetchall())


def _as_datetime(value: Any) -> datetime:
    """The marker's timestamp as an aware datetime (SQLite returns the stored UTC text)."""
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)
    parsed = parse_datetime(str(value))
    if parsed is None:
        raise ValueError(f"unreadable timestamp {value!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _grow(table: FacetTable, size: int) -> FacetTable:
    def column(old: np.ndarray, fill: int) -> np.ndarray:
        out = np.full(size, fill, dtype=np.int32)
        out[: old.shape[0]] = old
        return out

    def flags(old: np.ndarray) -> np.ndarray:
        out = np.zeros((size, old.shape[1]), dtype=bool)
        out[: old.shape[0]] = old
        return out

    return FacetTable(
        status=column(table.status, NONE),
        kind=column(table.kind, NONE),
        layer=column(table.layer, NONE),
        area=column(table.area, NONE),
        chains=flags(table.chains),
        segments=flags(table.segments),
    )


def _write(table: FacetTable, vocab: Vocabulary, rows: list[tuple[Any, ...]]) -> None:
    area_code = {a: i for i, a in enumerate(vocab.area)}
    chain_code = {c: i for i, c in enumerate(vocab.chain)}
    segment_code = {s: i for i, s in enumerate(vocab.segment)}
    status_code = {s: i for i, s in enumerate(vocab.status)}
    kind_code = {k: i for i, k in enumerate(vocab.kind)}
    layer_code = {v: i for i, v in enumerate(vocab.layer)}
    for pk, status, kind, layer, area, chains, segments in rows:
        if area not in area_code:
            area_code[area] = len(vocab.area)
            vocab.area.append(area)
        table.status[pk] = status_code.get(status, NONE)
        table.kind[pk] = kind_code.get(kind, NONE)
        table.layer[pk] = layer_code.get(layer, NONE)
        table.area[pk] = area_code[area]
        table.chains[pk] = False
        table.segments[pk] = False
        for code in chains.split("|"):
            if code in chain_code:
                table.chains[pk, chain_code[code]] = True
        for code in segments.split("|"):
            if code in segment_code:
                table.segments[pk, segment_code[code]] = True
