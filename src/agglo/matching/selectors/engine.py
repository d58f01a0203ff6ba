"""The process's engine, kept in step with the stored documents: loaded in full on first use, then on each
use brought up to date with the documents changed since (the engine takes single changes without a rebuild),
and the behaviour signal re-read every minute. Each web process and worker holds its own."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from agglo.matching.models import MatchDocument, document_key
from agglo.matching.ranking import Engine, Item, OrgSignals, Weights
from agglo.matching.reference import chain_map
from agglo.matching.selectors.events import behaviour_scores

OVERLAP = dt.timedelta(minutes=5)
BEHAVIOUR_EVERY_S = 60.0
WINDOW_READ_S = 60.0  # the sync window is read whole at least this often, even when its figures stand


def weights() -> Weights:
    """The ranking weights, with any overrides from AGGLO_MATCHING_WEIGHTS."""
    return Weights(**settings.AGGLO_MATCHING_WEIGHTS)


def to_item(source: str, object_id: int, organization_id: int, tokens: str, f: dict[str, Any]) -> Item:
    return Item(
        key=document_key(source, object_id),
        side=f["side"],
        kind=f["kind"],
        org=organization_id,
        area=f.get("area") or "",
        tokens=tuple(tokens.split()),
        segments=tuple(f.get("segments") or ()),
        subkind=f.get("subkind", ""),
        amount_min=f.get("amount_min"),
        amount_max=f.get("amount_max"),
        term_min=f.get("term_min"),
        term_max=f.get("term_max"),
        rate_min=f.get("rate_min"),
        rate_max=f.get("rate_max"),
        collateral=frozenset(f.get("collateral") or ()),
        deadline=f.get("deadline"),
        visibility=f.get("visibility", "members"),
        region_rule=f.get("region_rule", "anywhere"),
        regions=frozenset(f.get("regions") or ()),
        published=f.get("published") or 0,
    )


def to_vector(stored: bytes | memoryview) -> Any:
    return np.frombuffer(bytes(stored), dtype=np.float32)


def to_signals(f: dict[str, Any]) -> OrgSignals:
    return OrgSignals(
        trust=float(f.get("trust", 0.0)),
        trust_notes=tuple(f.get("trust_notes", ())),
        wants=frozenset(f.get("wants", ())),
    )


class LiveEngine:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._engine: Engine | None = None
        self._seen: dict[int, dt.datetime] = {}
        self._gives: dict[int, frozenset[str]] = {}
        self._watermark: dt.datetime | None = None
        self._window: dict[str, Any] | None = None  # the count and newest time of the window last read
        self._reading: dict[str, Any] | None = None
        self._read_at = 0.0
        self._behaviour_at = 0.0

    def get(self) -> Engine:
        with self._lock:
            if self._engine is None:
                self._load()
            else:
                self._sync()
            assert self._engine is not None
            if time.monotonic() - self._behaviour_at > BEHAVIOUR_EVERY_S:
                # Documents deleted with their organization leave no row to sync from: a count below what the
                # engine has seen means some are gone.
                if MatchDocument.objects.count() != len(self._seen):
                    self._forget_deleted()
                self._engine.set_behaviour(behaviour_scores())
                self._behaviour_at = time.monotonic()
            return self._engine

    def gives(self, org_id: int) -> frozenset[str]:
        """What an organization offers (concept and kind tokens of its offers), for reciprocity."""
        return self._gives.get(org_id, frozenset())

    def reset(self) -> None:
        with self._lock:
            self._engine = None

    def _rows(self) -> Any:
        return MatchDocument.objects.values_list(
            "source", "object_id", "organization_id", "tokens", "features", "live", "updated_at", "vector"
        )

    def _load(self) -> None:
        items: list[Item] = []
        vectors: dict[int, Any] = {}
        orgs: dict[int, OrgSignals] = {}
        self._seen, self._gives, latest = {}, {}, None
        self._window = None
        rows = self._rows().iterator(chunk_size=2000)
        for source, object_id, org_id, tokens, features, live, updated, vector in rows:
            self._seen[document_key(source, object_id)] = updated
            latest = max(latest, updated) if latest else updated
            if not live:
                continue
            items.append(to_item(source, object_id, org_id, tokens, features))
            if vector is not None:
                vectors[items[-1].key] = to_vector(vector)
            if source == MatchDocument.Source.ORGANIZATION:
                orgs[org_id] = to_signals(features)
                self._gives[org_id] = frozenset(features.get("gives", ()))
        self._engine = Engine(items, chains=chain_map(), orgs=orgs, weights=weights(), vectors=vectors)
        self._watermark = latest or timezone.now()
        self._behaviour_at = 0.0

    def _changed(self) -> Any:
        """The rows changed since the engine last saw them. The window overlaps the last sync (commits land out of
        order), and after a rebuild or bulk import holds every document: so it is read as keys and times first, and
        only rows that changed are read whole (decoding every row's features took most of a page's time)."""
        assert self._watermark is not None
        window = MatchDocument.objects.filter(updated_at__gte=self._watermark - OVERLAP)
        # After a bulk write (a demo load, an import) the window holds the bulk's last minutes until something
        # newer is written, and every request re-read them whole (perf review 58: 0.9 s a page). Its count and
        # newest time, from the index alone, say whether anything was committed into it since it was read; a
        # window started from the last sync instead would miss a row committed later than OVERLAP after it was
        # stamped (recheck 58 M5).
        # An update committed late into the window under an older stamp changes neither figure: the window is
        # then read whole at least every WINDOW_READ_S all the same.
        signature = window.aggregate(n=Count("pk"), last=Max("updated_at"))
        if signature == self._window and time.monotonic() - self._read_at < WINDOW_READ_S:
            return
        self._reading = signature  # kept by `_sync` once every row of it is taken in
        self._read_at = time.monotonic()
        changed = [
            pk
            for pk, source, object_id, updated in window.values_list("pk", "source", "object_id", "updated_at")
            if self._seen.get(document_key(source, object_id)) != updated
        ]
        for first in range(0, len(changed), 500):  # within SQLite's bound on query parameters
            yield from MatchDocument.objects.filter(pk__in=changed[first : first + 500]).values_list(
                "source", "object_id", "organization_id", "tokens", "features", "live", "updated_at", "vector"
            )

    def _forget_deleted(self) -> None:
        """Take out the documents whose rows are gone, found by their keys alone (a reload decodes every row)."""
        assert self._engine is not None
        rows = MatchDocument.objects.values_list("source", "object_id").iterator(chunk_size=5000)
        present = {document_key(source, object_id) for source, object_id in rows}
        if not present <= self._seen.keys():  # a row the sync missed (committed past the overlap): start again
            self._load()
            return
        gone = [key for key in self._seen if key not in present]
        for key in gone:
            del self._seen[key]
            if key < 0:  # an organization's own document: its signals go with it
                self._gives.pop(-key, None)
        self._engine.remove(gone)
        if orgs := {-key: OrgSignals() for key in gone if key < 0}:
            self._engine.set_orgs(orgs)

    def _sync(self) -> None:
        assert self._engine is not None and self._watermark is not None
        upserts: list[Item] = []
        vectors: dict[int, Any] = {}
        removals: list[int] = []
        orgs: dict[int, OrgSignals] = {}
        for source, object_id, org_id, tokens, features, live, updated, vector in self._changed():
            key = document_key(source, object_id)
            if self._seen.get(key) == updated:
                continue
            self._seen[key] = updated
            self._watermark = max(self._watermark, updated)
            if live:
                upserts.append(to_item(source, object_id, org_id, tokens, features))
                if vector is not None:
                    vectors[key] = to_vector(vector)
            else:
                removals.append(key)
            if source == MatchDocument.Source.ORGANIZATION:
                orgs[org_id] = to_signals(features) if live else OrgSignals()
                self._gives[org_id] = frozenset(features.get("gives", ())) if live else frozenset()
        if removals:
            self._engine.remove(removals)
        if upserts:
            self._engine.upsert(upserts, vectors)
        if orgs:
            self._engine.set_orgs(orgs)
        if self._reading is not None:
            self._window, self._reading = self._reading, None


LIVE = LiveEngine()
