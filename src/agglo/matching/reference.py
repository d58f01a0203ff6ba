"""The vocabulary and chain map the engine works with, read once per process from the reference data."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings

from agglo.market.models import Listing
from agglo.matching import embeddings
from agglo.matching.concepts import glossary_concepts, segment_concepts, term_concepts
from agglo.matching.embeddings import Encoder
from agglo.matching.ranking import ChainMap
from agglo.matching.vocabulary import Analyzer
from agglo.profiles.models import CapabilityTerm
from agglo.registry.models import Segment, SegmentLink


@lru_cache(maxsize=1)
def analyzer() -> Analyzer:
    """Catalogue terms, chain segments and the glossary; `reference_reset` after changing them."""
    terms = term_concepts(CapabilityTerm.objects.values("code", "name_zh", "name_en", "synonyms"))
    segments = segment_concepts(Segment.objects.values("code", "name_zh", "name_en"))
    return Analyzer([*terms, *segments, *glossary_concepts()])


@lru_cache(maxsize=1)
def chain_map() -> ChainMap:
    chain_of = dict(Segment.objects.values_list("code", "chain__code"))
    links = SegmentLink.objects.values_list("upstream__code", "downstream__code")
    return ChainMap(chain_of, list(links))


@lru_cache(maxsize=1)
def term_names() -> dict[str, tuple[str, str]]:
    """Catalogue term code → (Chinese name, English name)."""
    return {code: (zh, en) for code, zh, en in CapabilityTerm.objects.values_list("code", "name_zh", "name_en")}


def listing_texts(listing: Listing, names: dict[str, tuple[str, str]]) -> list[str]:
    """The texts a listing is found by (and searches with): titles, descriptions, tags, its terms' names."""
    return [
        listing.title_zh,
        listing.title_en,
        listing.description_zh,
        listing.description_en,
        " ".join(listing.tags),
        *(name for code in listing.terms for name in names.get(code, ())),
    ]


def loan_terms(listing: Listing) -> dict[str, Any]:
    """A listing's loan terms as the engine compares them (`ranking.Item`, `ranking.Query`)."""
    number = {k: getattr(listing, k) for k in ("term_months_min", "term_months_max", "rate_min", "rate_max")}
    plain = {k: float(v) if v is not None else None for k, v in number.items()}
    return {
        "term_min": plain["term_months_min"],
        "term_max": plain["term_months_max"],
        "rate_min": plain["rate_min"],
        "rate_max": plain["rate_max"],
        "collateral": sorted(listing.collateral),
    }


def embedding_text(listing: Listing) -> str:
    """What a listing's embedding is computed from: its titles and descriptions."""
    parts = (listing.title_zh, listing.title_en, listing.description_zh, listing.description_en)
    return "\n".join(p for p in parts if p)


def encoder() -> Encoder | None:
    """The sentence encoder named by AGGLO_MATCHING_EMBEDDINGS (loaded once per process), or None."""
    return _encoder(settings.AGGLO_MATCHING_EMBEDDINGS)


@lru_cache(maxsize=2)
def _encoder(name: str) -> Encoder | None:
    return embeddings.load(name)


def reference_reset() -> None:
    analyzer.cache_clear()
    chain_map.cache_clear()
    term_names.cache_clear()
