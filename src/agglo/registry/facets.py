"""Facet counting over columns held in memory ("doc values"), the way search engines count facets.

Each organization id is a row; its facet values are small integer codes (and boolean columns for the chains and
segments it holds positions on). Given the ids that match a text query (or all rows), `count()` returns the total
that pass every filter and, per facet, the counts that pass every *other* filter, so users see where else to go.
Pure: numpy only, no Django; the database side lives in registry.facet_index.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

NONE = -1  # "no filter" / "no value" code
Codes = npt.NDArray[np.int32]
Flags = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FacetTable:
    """Facet codes by organization id: row i describes organization i; rows of unknown ids have status NONE."""

    status: Codes
    kind: Codes
    layer: Codes
    area: Codes
    chains: Flags  # [rows, number of chains]
    segments: Flags  # [rows, number of segments]

    @property
    def size(self) -> int:
        return int(self.status.shape[0])


@dataclass(frozen=True)
class Selection:
    """The chosen value code of each facet, NONE where the user chose nothing."""

    status: int
    kind: int = NONE
    layer: int = NONE
    area: int = NONE
    chain: int = NONE
    segment: int = NONE


@dataclass(frozen=True)
class FacetCounts:
    total: int
    rows: Codes  # ids passing every filter, in the order they were given
    kind: dict[int, int] = field(default_factory=dict)
    layer: dict[int, int] = field(default_factory=dict)
    area: dict[int, int] = field(default_factory=dict)
    chain: dict[int, int] = field(default_factory=dict)
    segment: dict[int, int] = field(default_factory=dict)


def empty_table(chains: int = 0, segments: int = 0) -> FacetTable:
    none = np.zeros(0, dtype=np.int32)
    return FacetTable(none, none, none, none, np.zeros((0, chains), bool), np.zeros((0, segments), bool))


def _tally(codes: Codes) -> dict[int, int]:
    values, counts = np.unique(codes[codes != NONE], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts, strict=True)}


def _columns(flags: Flags) -> dict[int, int]:
    sums = flags.sum(axis=0)
    return {int(i): int(n) for i, n in enumerate(sums) if n}


def count(table: FacetTable, ids: Codes | None, selection: Selection) -> FacetCounts:
    """Totals and facet counts for `ids` (None: every row); each facet leaves its own filter out."""
    rows = np.arange(table.size, dtype=np.int32) if ids is None else ids[(ids >= 0) & (ids < table.size)]
    rows = rows[table.status[rows] == selection.status]
    kind, layer, area = table.kind[rows], table.layer[rows], table.area[rows]
    everything = np.ones(rows.shape[0], dtype=bool)
    nothing = np.zeros(rows.shape[0], dtype=bool)

    def column_pass(flags: Flags, code: int) -> Flags:
        if code == NONE:
            return everything
        return flags[rows, code] if 0 <= code < flags.shape[1] else nothing  # an unknown value matches nothing

    passes = {
        "kind": kind == selection.kind if selection.kind != NONE else everything,
        "layer": layer == selection.layer if selection.layer != NONE else everything,
        "area": area == selection.area if selection.area != NONE else everything,
        "chain": column_pass(table.chains, selection.chain),
        "segment": column_pass(table.segments, selection.segment),
    }

    def others(name: str) -> Flags:
        mask = everything
        for other, passed in passes.items():
            if other != name:
                mask = mask & passed
        return mask

    kept = rows[_all(passes, everything)]
    return FacetCounts(
        total=int(kept.shape[0]),
        rows=kept,
        kind=_tally(kind[others("kind")]),
        layer=_tally(layer[others("layer")]),
        area=_tally(area[others("area")]),
        chain=_columns(table.chains[rows[others("chain")]]),
        segment=_columns(table.segments[rows[others("segment")]]),
    )


def _all(passes: dict[str, Flags], everything: Flags) -> Flags:
    mask = everything
    for passed in passes.values():
        mask = mask & passed
    return mask


def newest(rows: Codes, offset: int, limit: int) -> Codes:
    """Ids of one page, highest (newest) id first."""
    if rows.shape[0] <= offset:
        return rows[:0]
    wanted = min(rows.shape[0], offset + limit)
    top = np.partition(rows, rows.shape[0] - wanted)[rows.shape[0] - wanted :] if wanted < rows.shape[0] else rows
    return np.sort(top)[::-1][offset : offset + limit]
