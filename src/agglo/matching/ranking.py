"""The matching engine: hard filters, relevance and soft signals, diversity, and an explanation per result.
Pure: no Django; the platform feeds it items and organizations (matching.live) and asks it queries.

Score = text·w_text + chain·w_chain + trust·w_trust + reciprocity·w_reciprocity + cross_region·w_cross_region
        + freshness·w_freshness + behaviour·w_behaviour, each signal in [0, 1];
text is BM25 divided by the best BM25 among the admissible candidates. A candidate needs some text or chain
relevance to be listed at all; the other signals only reorder. Hard filters (side, kind, region rules both ways,
budget overlap, deadline, visibility, not one's own) are applied before scoring and are never traded off.

Items are held in a large base segment and a small delta segment: changes go to the delta and mark the base copy
deleted; when the delta grows past a tenth of the base, both are merged. Until then document frequencies still
count deleted base copies (as Lucene does), which shifts IDF slightly.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from agglo.matching import bm25
from agglo.matching.vocabulary import CONCEPT_PREFIX

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float32]

NEED, OFFER, ORG = "need", "offer", "org"
VISIBILITY_LEVELS = {"public": 0, "members": 1, "partners": 2}
# Kinds that answer each other besides the same kind: capital needs meet financing products and back.
KIND_PARTNERS = {"capital": frozenset({"financing"}), "financing": frozenset({"capital"})}
KIND_TOKEN = "k:"  # what an organization wants or gives names each listing's kind so (`services.index`)
FIRMS = frozenset({"tech_sme", "enterprise"})
RESEARCH = frozenset({"university", "research_institute"})
FINANCE = frozenset({"bank", "securities", "fund", "leasing_guarantee"})
SERVICES = frozenset({"intermediary", "service_firm", "association"})
ORG_KINDS_FOR = {
    "capital": FINANCE,
    "financing": FINANCE,
    "technology": FIRMS | RESEARCH,
    "talent": RESEARCH | SERVICES,
    "legal": SERVICES,
    "equipment": FIRMS | RESEARCH,
    "capacity": FIRMS,
    "market": FIRMS | SERVICES,
    "service": SERVICES | RESEARCH,
}
# Which kinds of organization an offer of each kind serves, where that differs from who else offers it: money
# goes to firms, not to the lender's competitors (policy review 58 H1).
ORG_KINDS_SERVED = {"capital": FIRMS, "financing": FIRMS}
# Collateral of a loan, as bits. On a financing product, what it accepts ("credit": unsecured, so any borrower's
# means do); on a capital need, what the firm can give ("credit": nothing but its credit).
COLLATERAL_BITS = {"credit": 1, "guarantee": 2, "mortgage": 4, "pledge": 8}
UNSECURED = COLLATERAL_BITS["credit"]


def collateral_bits(codes: Iterable[str]) -> int:
    return sum(COLLATERAL_BITS.get(c, 0) for c in set(codes))


MIN_MERGE = 2000
SIGNALS = ("text", "semantic", "chain", "trust", "reciprocity", "cross_region", "freshness", "behaviour")
# Below this cosine an embedding alone does not make a candidate (unrelated texts sit around 0.1–0.3).
SEMANTIC_FLOOR = 0.4
PROJECTED_DIMENSIONS = 128


@dataclass(frozen=True)
class Weights:
    """How much each signal counts; `diversity` multiplies a result's score for every earlier result of the
    same organization (1 turns diversity off); `freshness_days` is the half-life of freshness."""

    text: float = 1.0
    semantic: float = 0.6
    chain: float = 0.35
    trust: float = 0.1
    reciprocity: float = 0.15
    cross_region: float = 0.1
    freshness: float = 0.05
    behaviour: float = 0.15
    diversity: float = 0.6
    freshness_days: float = 60.0

    def of(self, signal: str) -> float:
        return float(getattr(self, signal))


# Plain BM25: the baseline the engine is measured against.
TEXT_ONLY = Weights(
    text=1.0,
    semantic=0.0,
    chain=0.0,
    trust=0.0,
    reciprocity=0.0,
    cross_region=0.0,
    freshness=0.0,
    behaviour=0.0,
    diversity=1.0,
)


@dataclass(frozen=True)
class Item:
    """A published need, offer or member organization as the engine sees it. Dates are ordinals
    (date.toordinal()); amounts are compared only, so floats do."""

    key: int
    side: str
    kind: str
    org: int
    area: str
    tokens: tuple[str, ...]
    segments: tuple[str, ...] = ()
    subkind: str = ""
    amount_min: float | None = None
    amount_max: float | None = None
    # loan terms (capital needs, financing products): months, percent a year, collateral codes
    term_min: float | None = None
    term_max: float | None = None
    rate_min: float | None = None
    rate_max: float | None = None
    collateral: frozenset[str] = frozenset()
    deadline: int | None = None
    visibility: str = "members"
    region_rule: str = "anywhere"
    regions: frozenset[str] = frozenset()
    published: int = 0


@dataclass(frozen=True)
class OrgSignals:
    """What the engine knows of an organization beyond its items: trust in [0, 1] with the facts behind it,
    and what it wants (concept and kind tokens of its needs), for reciprocity."""

    trust: float = 0.0
    trust_notes: tuple[str, ...] = ()
    wants: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Viewer:
    """Who asks: what they may see. Operators see everything; members see members-level items; partners'
    partners-level items; nobody is shown their own organizations' items."""

    member: bool = True
    partner_orgs: frozenset[int] = frozenset()
    own_orgs: frozenset[int] = frozenset()
    sees_all: bool = False


@dataclass(frozen=True)
class Query:
    """What to find (`target` side and kind) for a seeker, with the seeker's own rules."""

    target: str
    kind: str
    tokens: tuple[str, ...]
    today: int
    viewer: Viewer
    org: int | None = None
    area: str = ""
    segments: tuple[str, ...] = ()
    subkind: str = ""
    offering: bool = False  # the seeker offers `kind` (organizations it serves), rather than needs it
    amount_min: float | None = None
    amount_max: float | None = None
    term_min: float | None = None
    term_max: float | None = None
    rate_min: float | None = None
    rate_max: float | None = None
    collateral: frozenset[str] = frozenset()
    region_rule: str = "anywhere"
    regions: frozenset[str] = frozenset()
    gives: frozenset[str] = frozenset()
    exclude: frozenset[int] = frozenset()
    limit: int = 10
    # The need's sentence embedding, when the platform uses an encoder.
    vector: FloatArray | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Match:
    """One result and why: the query terms it matched, its chain relation to the seeker, its trust facts,
    and the contribution of every signal that moved it (after diversity)."""

    key: int
    org: int
    score: float
    matched: tuple[str, ...]
    relation: str
    relation_segments: tuple[str, str] | None
    signals: tuple[tuple[str, float], ...]
    trust_notes: tuple[str, ...]
    cross_region: bool
    diversity_factor: float = 1.0


class ChainMap:
    """Relations between chain segments from the seeker's point of view, as a small matrix."""

    # relation → strength
    STRENGTH = {"upstream": 1.0, "downstream": 1.0, "same_segment": 0.5, "near": 0.4, "same_chain": 0.2}

    def __init__(self, chain_of: Mapping[str, str], links: Iterable[tuple[str, str]]) -> None:
        self.codes = sorted(chain_of)
        self.index = {c: i for i, c in enumerate(self.codes)}
        n = len(self.codes)
        # The last row and column stand for "no segment".
        self.strength = np.zeros((n + 1, n + 1), dtype=np.float32)
        self.relation: dict[tuple[int, int], str] = {}
        ups: dict[str, set[str]] = {c: set() for c in self.codes}
        downs: dict[str, set[str]] = {c: set() for c in self.codes}
        for up, down in links:
            if up in ups and down in ups:
                downs[up].add(down)
                ups[down].add(up)
        for a in self.codes:
            for b in self.codes:
                if chain_of[a] != chain_of[b]:
                    continue
                if a == b:
                    rel = "same_segment"
                elif b in ups[a]:
                    rel = "upstream"  # b supplies a
                elif b in downs[a]:
                    rel = "downstream"  # b uses a's output
                elif any(b in ups[u] or b in downs[u] for u in ups[a] | downs[a]):
                    rel = "near"
                else:
                    rel = "same_chain"
                i, j = self.index[a], self.index[b]
                self.strength[i, j] = self.STRENGTH[rel]
                self.relation[(i, j)] = rel

    def ids(self, segments: Sequence[str], width: int) -> list[int]:
        found = [self.index[s] for s in segments if s in self.index][:width]
        return found + [len(self.codes)] * (width - len(found))

    def best(self, seeker: Sequence[str], candidate: Sequence[str]) -> tuple[str, tuple[str, str] | None]:
        best, pair, top = "", None, 0.0
        for a in seeker:
            for b in candidate:
                i, j = self.index.get(a), self.index.get(b)
                if i is None or j is None:
                    continue
                if self.strength[i, j] > top:
                    top, best, pair = float(self.strength[i, j]), self.relation[(i, j)], (a, b)
        return best, pair


SEGMENT_WIDTH = 3
CODE_NONE = -1


class Segment:
    """Items with their postings and their features as arrays, for vectorised filtering and scoring."""

    def __init__(
        self,
        items: Sequence[Item],
        chains: ChainMap,
        codes: dict[str, int],
        avg_length: float | None,
        vectors: Mapping[int, FloatArray] | None = None,
    ):
        self.items = list(items)
        self.position = {item.key: i for i, item in enumerate(self.items)}
        self.postings = bm25.Postings([item.tokens for item in self.items], avg_length=avg_length)
        n = len(self.items)

        def code(value: str) -> int:
            return codes.setdefault(value, len(codes))

        def column(values: Iterable[float], dtype: type = np.float64) -> npt.NDArray[Any]:
            return np.fromiter(values, dtype=dtype, count=n)

        self.alive = np.ones(n, dtype=np.bool_)
        self.key = column((i.key for i in self.items), np.int64)
        self.org = column((i.org for i in self.items), np.int64)
        self.side = column((code(i.side) for i in self.items), np.int32)
        self.kind = column((code(i.kind) for i in self.items), np.int32)
        self.subkind = column((code(i.subkind) for i in self.items), np.int32)
        self.area = column((code(i.area) for i in self.items), np.int32)
        self.level = column((VISIBILITY_LEVELS.get(i.visibility, 2) for i in self.items), np.int8)
        inf = math.inf
        self.amount_min = column(-inf if i.amount_min is None else i.amount_min for i in self.items)
        self.amount_max = column(inf if i.amount_max is None else i.amount_max for i in self.items)
        self.term_min = column(-inf if i.term_min is None else i.term_min for i in self.items)
        self.term_max = column(inf if i.term_max is None else i.term_max for i in self.items)
        self.rate_min = column(-inf if i.rate_min is None else i.rate_min for i in self.items)
        self.rate_max = column(inf if i.rate_max is None else i.rate_max for i in self.items)
        self.collateral = column((collateral_bits(i.collateral) for i in self.items), np.int8)
        self.deadline = column((2**31 if i.deadline is None else i.deadline for i in self.items), np.int64)
        self.published = column((i.published for i in self.items), np.int64)
        self.segments = np.array([chains.ids(i.segments, SEGMENT_WIDTH) for i in self.items], dtype=np.int32)
        self.segments = self.segments.reshape(n, SEGMENT_WIDTH)
        # Items with a region rule of their own (few have one), and per seeker area the items their rules block.
        self.ruled = [(d, i.region_rule, i.regions) for d, i in enumerate(self.items) if i.region_rule != "anywhere"]
        self._blocked: dict[str, BoolArray] = {}
        self.behaviour = np.zeros(n, dtype=np.float32)
        # Embeddings (already projected and normalised by the engine): one matrix-vector product per query.
        self.semantic: FloatArray | None = None
        if vectors:
            width = len(next(iter(vectors.values())))
            matrix = np.zeros((n, width), dtype=np.float32)
            for d, item in enumerate(self.items):
                vector = vectors.get(item.key)
                if vector is not None:
                    matrix[d] = vector
            self.semantic = matrix

    def __len__(self) -> int:
        return len(self.items)

    def blocked_for(self, area: str) -> BoolArray:
        """Items whose own region rule keeps out a seeker from `area`."""
        blocked = self._blocked.get(area)
        if blocked is None:
            blocked = np.zeros(len(self.items), dtype=np.bool_)
            for d, rule, regions in self.ruled:
                blocked[d] = (area in regions) != (rule == "only")
            self._blocked[area] = blocked
        return blocked

    def _secured(self, query: Query) -> BoolArray | bool:
        """Loans whose collateral fits: a product accepts something the firm can give, or lends unsecured; either
        side left silent fits any."""
        wanted = collateral_bits(query.collateral)
        if not wanted or query.target == ORG:
            return True
        fits: BoolArray
        if query.target == OFFER:  # a capital need seeking products
            fits = (self.collateral == 0) | ((self.collateral & (UNSECURED | wanted)) != 0)
        elif wanted & UNSECURED:  # a product lending unsecured serves every need
            return True
        else:
            fits = (self.collateral == 0) | ((self.collateral & wanted) != 0)
        return fits

    def mask(self, query: Query, codes: Mapping[str, int]) -> BoolArray:
        """Items passing every hard filter for the query."""
        m: BoolArray = self.alive & (self.side == codes.get(query.target, CODE_NONE))
        if query.target == ORG:
            kinds = (ORG_KINDS_SERVED if query.offering else ORG_KINDS_FOR).get(query.kind)
        else:
            kinds = frozenset({query.kind}) | KIND_PARTNERS.get(query.kind, frozenset())
        if kinds is not None:
            m &= np.isin(self.kind, [codes.get(k, CODE_NONE) for k in kinds])
        if query.subkind and query.target != ORG:
            # a listing of another type is out; one of no type (a capital need) is not, so a loan meets it
            m &= (self.subkind == codes.get(query.subkind, CODE_NONE)) | (self.subkind == codes.get("", CODE_NONE))
        if query.region_rule != "anywhere":
            listed = np.isin(self.area, [codes.get(r, CODE_NONE) for r in query.regions])
            m &= listed if query.region_rule == "only" else ~listed
        m &= ~self.blocked_for(query.area)
        # amounts, terms and rates: the seeker's range and the item's meet (an end left open is no limit)
        for low, high, lows, highs in (
            (query.amount_min, query.amount_max, self.amount_min, self.amount_max),
            (query.term_min, query.term_max, self.term_min, self.term_max),
            (query.rate_min, query.rate_max, self.rate_min, self.rate_max),
        ):
            m &= (lows <= (math.inf if high is None else high)) & (highs >= (-math.inf if low is None else low))
        m &= self._secured(query)
        m &= self.deadline >= query.today
        viewer = query.viewer
        if not viewer.sees_all:
            seen = self.level == 0
            if viewer.member:
                seen |= self.level == 1
            if viewer.partner_orgs:
                seen |= (self.level == 2) & np.isin(self.org, list(viewer.partner_orgs))
            m &= seen
        hidden = set(viewer.own_orgs) | ({query.org} if query.org is not None else set())
        if hidden:
            m &= ~np.isin(self.org, list(hidden))
        if query.exclude:
            m &= ~np.isin(self.key, list(query.exclude))
        return m


@dataclass
class _Scored:
    segment: Segment
    docs: npt.NDArray[np.intp]
    text: FloatArray
    signals: dict[str, FloatArray] = field(default_factory=dict)


class Engine:
    """Ranks items for queries; items can be changed one by one while it serves."""

    def __init__(
        self,
        items: Iterable[Item],
        *,
        chains: ChainMap,
        orgs: Mapping[int, OrgSignals] | None = None,
        weights: Weights = Weights(),
        vectors: Mapping[int, FloatArray] | None = None,
    ) -> None:
        self.chains = chains
        self.weights = weights
        self.codes: dict[str, int] = {}
        self.orgs: dict[int, OrgSignals] = dict(orgs or {})
        self.behaviour: dict[int, float] = {}
        self._items: dict[int, Item] = {i.key: i for i in items}
        # Embeddings are kept projected onto the principal directions of the first ones given (those directions
        # barely move as a market grows), so a process holds 128 numbers per item, not 512.
        self.projection: FloatArray | None = fit_projection(list(vectors.values())) if vectors else None
        self._vectors: dict[int, FloatArray] = self._project(vectors or {})
        self._delta: dict[int, Item] = {}
        self._wants: dict[str, set[int]] = {}
        self._index_wants()
        self._merge()

    # ---- building and changing ------------------------------------------------------------------------------
    def _project(self, vectors: Mapping[int, FloatArray]) -> dict[int, FloatArray]:
        if not vectors:
            return {}
        if self.projection is None:
            self.projection = fit_projection(list(vectors.values()))
        return {key: normalised(vector @ self.projection) for key, vector in vectors.items()}

    def _merge(self) -> None:
        self.base = Segment(list(self._items.values()), self.chains, self.codes, None, self._vectors)
        self._delta = {}
        self.delta = Segment([], self.chains, self.codes, self.base.postings.avg_length)
        self._trust_cache: npt.NDArray[np.float32] | None = None
        self._apply_behaviour(self.base)

    def __len__(self) -> int:
        return len(self._items)

    def upsert(self, items: Iterable[Item], vectors: Mapping[int, FloatArray] | None = None) -> None:
        """Add or replace items (by key), with their embeddings if the platform uses an encoder."""
        changed = False
        projected = self._project(vectors or {})
        for item in items:
            self._drop(item.key)
            self._items[item.key] = item
            self._delta[item.key] = item
            if item.key in projected:
                self._vectors[item.key] = projected[item.key]
            changed = True
        if changed:
            self._rebuild_delta()

    def remove(self, keys: Iterable[int]) -> None:
        """Take items out (unknown keys are ignored)."""
        dropped = False
        for key in keys:
            dropped = self._drop(key) or dropped
        if dropped:
            self._rebuild_delta()

    def _drop(self, key: int) -> bool:
        if key not in self._items:
            return False
        del self._items[key]
        self._delta.pop(key, None)
        self._vectors.pop(key, None)
        at = self.base.position.get(key)
        if at is not None:
            self.base.alive[at] = False
        return True

    def _rebuild_delta(self) -> None:
        if len(self._delta) > max(MIN_MERGE, len(self.base) // 10):
            self._merge()
            return
        # the base's average length, as a merge would give the delta's documents; with no base (an engine filled
        # by updates alone), the delta's own, as an engine built from the same documents has (hypothesis found it)
        average = self.base.postings.avg_length if len(self.base) else None
        self.delta = Segment(list(self._delta.values()), self.chains, self.codes, average, self._vectors)
        self._apply_behaviour(self.delta)

    def set_orgs(self, orgs: Mapping[int, OrgSignals]) -> None:
        """Replace the signals of the given organizations."""
        self.orgs.update(orgs)
        self._index_wants()

    def _index_wants(self) -> None:
        wants: dict[str, set[int]] = {}
        for org, signals in self.orgs.items():
            for token in signals.wants:
                wants.setdefault(token, set()).add(org)
        self._wants = wants
        self._trust_cache = None

    def set_behaviour(self, values: Mapping[int, float]) -> None:
        """Learned per-item signal in [0, 1] (from impressions, clicks, interests and acceptances)."""
        self.behaviour = {k: min(1.0, max(0.0, v)) for k, v in values.items()}
        self._apply_behaviour(self.base)
        self._apply_behaviour(self.delta)

    def _apply_behaviour(self, segment: Segment) -> None:
        segment.behaviour = np.fromiter(
            (self.behaviour.get(i.key, 0.0) for i in segment.items), dtype=np.float32, count=len(segment)
        )

    # ---- querying ---------------------------------------------------------------------------------------------
    def search(self, query: Query) -> list[Match]:
        """The best `query.limit` admissible items, diversified by organization, with explanations."""
        segments = [s for s in (self.base, self.delta) if len(s)]
        total = len(self.base) + len(self.delta)  # deleted base copies still count in df, so in N too
        counts = Counter(query.tokens)
        factors = {
            t: bm25.idf(total, sum(s.postings.doc_freq(t) for s in segments)) * (1 + math.log(c))
            for t, c in counts.items()
        }
        scored: list[_Scored] = []
        reciprocal = self._reciprocal(query)
        for segment in segments:
            mask = segment.mask(query, self.codes)
            text = segment.postings.scores(factors) if factors else np.zeros(len(segment), np.float32)
            chain = self._chain(segment, query)
            semantic = self._semantic(segment, query)
            relevant = (text > 0) | (chain > 0)
            if semantic is not None:
                relevant |= semantic >= SEMANTIC_FLOOR
            if query.target == ORG and reciprocal:  # an organization that wants what the seeker gives is a partner
                relevant |= np.isin(segment.org, list(reciprocal))
            docs = np.flatnonzero(mask & relevant)
            meaning = semantic[docs] if semantic is not None else np.zeros(len(docs), np.float32)
            scored.append(_Scored(segment, docs, text[docs], {"chain": chain[docs], "semantic": meaning}))
        best_text = max((float(s.text.max()) for s in scored if len(s.docs)), default=0.0)
        candidates: list[tuple[float, int, int]] = []  # (score, segment number, doc)
        for number, s in enumerate(scored):
            if not len(s.docs):
                continue
            s.signals["text"] = s.text / best_text if best_text > 0 else np.zeros_like(s.text)
            s.signals.update(self._soft(s.segment, s.docs, query, reciprocal))
            total_score = np.zeros(len(s.docs), dtype=np.float32)
            for name in SIGNALS:
                total_score += np.float32(self.weights.of(name)) * s.signals[name]
            keep = min(len(s.docs), max(query.limit * 5, 50))
            top = np.argpartition(-total_score, keep - 1)[:keep] if keep < len(s.docs) else np.arange(len(s.docs))
            candidates.extend((float(total_score[t]), number, int(t)) for t in top)
        picked = self._diversify(candidates, scored, query.limit)
        return [self._explain(scored[n], t, score, factor, query) for score, n, t, factor in picked]

    def _chain(self, segment: Segment, query: Query) -> FloatArray:
        if not query.segments or not len(segment):
            return np.zeros(len(segment), dtype=np.float32)
        rows = self.chains.strength[self.chains.ids(query.segments, len(query.segments))]
        row = rows.max(axis=0)
        result: FloatArray = row[segment.segments].max(axis=1)
        return result

    def _semantic(self, segment: Segment, query: Query) -> FloatArray | None:
        if segment.semantic is None or query.vector is None or self.projection is None:
            return None
        cosine: FloatArray = segment.semantic @ normalised(query.vector @ self.projection)
        return np.maximum(cosine, 0, dtype=np.float32)

    def _trust(self) -> npt.NDArray[np.float32]:
        if self._trust_cache is None:
            top = max(self.orgs, default=0)
            table = np.zeros(top + 1, dtype=np.float32)
            for org, signals in self.orgs.items():
                table[org] = signals.trust
            self._trust_cache = table
        return self._trust_cache

    def _reciprocal(self, query: Query) -> set[int]:
        """Organizations that want what the seeker gives: a concept, or a kind of listing (a capital need wants
        what a financing product gives, and back)."""
        found: set[int] = set()
        for token in query.gives:
            found |= self._wants.get(token, set())
            if token.startswith(KIND_TOKEN):
                for kind in KIND_PARTNERS.get(token.removeprefix(KIND_TOKEN), ()):
                    found |= self._wants.get(KIND_TOKEN + kind, set())
        return found

    def _soft(
        self, segment: Segment, docs: npt.NDArray[np.intp], query: Query, reciprocal: set[int]
    ) -> dict[str, FloatArray]:
        orgs = segment.org[docs]
        table = self._trust()
        inside = orgs < len(table)
        trust = np.zeros(len(docs), dtype=np.float32)
        trust[inside] = table[orgs[inside]]
        reciprocity = np.isin(orgs, list(reciprocal)).astype(np.float32)
        area = self.codes.get(query.area, CODE_NONE)
        cross = ((segment.area[docs] != area) & bool(query.area)).astype(np.float32)
        age = np.maximum(query.today - segment.published[docs], 0)
        freshness = np.exp2(-age / self.weights.freshness_days).astype(np.float32)
        return {
            "trust": trust,
            "reciprocity": reciprocity,
            "cross_region": cross,
            "freshness": freshness,
            "behaviour": segment.behaviour[docs],
        }

    def _diversify(
        self, candidates: list[tuple[float, int, int]], scored: list[_Scored], limit: int
    ) -> list[tuple[float, int, int, float]]:
        """Greedy: each further result of an organization already listed counts `diversity` times less.
        Ties break by key so rankings are deterministic."""
        heap = [(-score, int(scored[n].segment.key[scored[n].docs[t]]), n, t, 0, score) for score, n, t in candidates]
        heapq.heapify(heap)
        picked: list[tuple[float, int, int, float]] = []
        per_org: Counter[int] = Counter()
        while heap and len(picked) < limit:
            _, key, n, t, seen, raw = heapq.heappop(heap)
            org = int(scored[n].segment.org[scored[n].docs[t]])
            if per_org[org] != seen:  # the organization gained a result since: back in line with its new penalty
                factor = self.weights.diversity ** per_org[org]
                heapq.heappush(heap, (-raw * factor, key, n, t, per_org[org], raw))
                continue
            factor = self.weights.diversity**seen
            per_org[org] += 1
            picked.append((raw * factor, n, t, factor))
        return picked

    def _explain(self, s: _Scored, t: int, score: float, factor: float, query: Query) -> Match:
        doc = int(s.docs[t])
        item = s.segment.items[doc]
        matched = tuple(dict.fromkeys(tok for tok in query.tokens if s.segment.postings.contains(tok, doc)))
        relation, pair = self.chains.best(query.segments, item.segments)
        contributions = tuple(
            sorted(
                (
                    (name, round(self.weights.of(name) * float(s.signals[name][t]) * factor, 4))
                    for name in SIGNALS
                    if self.weights.of(name) * float(s.signals[name][t]) > 0
                ),
                key=lambda pair_: -pair_[1],
            )
        )
        signals = self.orgs.get(item.org, OrgSignals())
        return Match(
            key=item.key,
            org=item.org,
            score=round(score, 4),
            matched=matched,
            relation=relation,
            relation_segments=pair,
            signals=contributions,
            trust_notes=signals.trust_notes,
            cross_region=bool(query.area) and item.area != query.area,
            diversity_factor=round(factor, 4),
        )


def normalised(vector: FloatArray) -> FloatArray:
    norm = float(np.linalg.norm(vector))
    result: FloatArray = (vector / norm).astype(np.float32) if norm > 0 else vector.astype(np.float32)
    return result


def fit_projection(vectors: Sequence[FloatArray], dimensions: int = PROJECTED_DIMENSIONS) -> FloatArray:
    """The principal directions of the embeddings (from a sample of at most 20,000): scoring in fewer dimensions
    keeps a query to one small matrix-vector product. Fewer vectors than dimensions keep them all."""
    width = len(vectors[0])
    if len(vectors) <= dimensions or width <= dimensions:
        return np.eye(width, dtype=np.float32)
    step = max(1, len(vectors) // 20_000)
    sample = np.asarray(vectors[::step], dtype=np.float32)
    _u, _s, components = np.linalg.svd(sample, full_matrices=False)
    projection: FloatArray = components[:dimensions].T.astype(np.float32)
    return projection


def concept_tokens(tokens: Iterable[str]) -> frozenset[str]:
    """The vocabulary concepts among tokens (what an organization offers or wants, for reciprocity)."""
    return frozenset(t for t in tokens if t.startswith(CONCEPT_PREFIX))


CREDIT = {"AAA": 1.0, "AA": 0.9, "A": 0.8, "BBB": 0.65, "BB": 0.5, "B": 0.35, "CCC": 0.2, "CC": 0.1, "C": 0.0}
UNRATED = 0.4
CASES_FULL = 5


def trust_of(grade: str | None, confirmed_cases: int, mean_rating: float | None) -> tuple[float, tuple[str, ...]]:
    """Trust in [0, 1] with the facts behind it as notes ("credit:AA", "cases:3", "rating:4.5"):
    half the credit grade (unrated counts a little below the middle), three tenths the confirmed cases (five
    or more count fully), two tenths the partners' mean rating (none counts as the middle)."""
    credit = CREDIT.get(grade or "", UNRATED)
    cases = min(confirmed_cases, CASES_FULL) / CASES_FULL
    rating = (mean_rating - 1) / 4 if mean_rating is not None else 0.5
    notes = []
    if grade:
        notes.append(f"credit:{grade}")
    if confirmed_cases:
        notes.append(f"cases:{confirmed_cases}")
    if mean_rating is not None:
        notes.append(f"rating:{mean_rating:.1f}")
    return round(0.5 * credit + 0.3 * cases + 0.2 * rating, 4), tuple(notes)
