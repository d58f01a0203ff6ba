"""Matching benchmark: the engine against plain BM25 on a synthetic market with planted relevant pairs
(matching.synthetic describes the market; docs/benchmarks.md its limits).

`build_s`: tokenising every listing with the vocabulary analyzer and building the engine (postings and feature
arrays); `engine_build_s` is the second part alone, what a process pays at start from the stored tokens.
`memory_mb`: the process's resident memory growth over the build (the analyzer's dictionary included).
Query times include tokenising the need's text, the hard filters, scoring, diversity and the explanations of the
50 results asked for.
`filter_violations`: results that fail `matching.evaluation.admissible`, an item-by-item restatement of the hard
filters apart from the engine's vectorised masks. The baseline ranks by BM25 alone over jieba's plain tokens (no
vocabulary), with the same hard filters, so the comparison isolates the ranking.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track

from agglo.bench.registry import percentile
from agglo.matching import embeddings, evaluation, synthetic
from agglo.matching.concepts import glossary_concepts, segment_concepts, term_concepts
from agglo.matching.ranking import TEXT_ONLY, ChainMap, Engine, Query
from agglo.matching.vocabulary import Analyzer, plain_tokens

DATA = Path(__file__).resolve().parent.parent
CHAINS = DATA / "registry" / "data" / "chains.json"
CATALOGUE = DATA / "profiles" / "data" / "capabilities.json"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 2**20


def reference() -> tuple[list[Any], list[Any], list[Any], synthetic.Chains, ChainMap, dict[str, tuple[str, str]]]:
    chains = json.loads(CHAINS.read_text(encoding="utf-8"))
    segments = [s for c in chains for s in c["segments"]]
    terms = term_concepts(json.loads(CATALOGUE.read_text(encoding="utf-8")))
    seg_concepts = segment_concepts(segments)
    glossary = glossary_concepts()
    links = tuple((a, b) for c in chains for a, b in c["links"])
    by_chain = {c["code"]: tuple(s["code"] for s in c["segments"]) for c in chains}
    chain_of = {s: c for c, segs in by_chain.items() for s in segs}
    names = {s["code"]: (s["name_zh"], s["name_en"]) for s in segments}
    return terms, seg_concepts, glossary, synthetic.Chains(by_chain, links), ChainMap(chain_of, links), names


def run(size: int, seed: int, err: Console, model: str = "") -> dict[str, Any]:
    terms, seg_concepts, glossary, chains, chain_map, names = reference()
    err.print(f"bench matching: generating a market of {size:,} listings")
    market = synthetic.generate(size, terms=terms, glossary=glossary, chains=chains, segment_names=names, seed=seed)
    rss_before = _rss_mb()
    start = time.perf_counter()
    analyzer = Analyzer([*terms, *seg_concepts, *glossary])
    items = [
        replace(listing.item, tokens=tuple(analyzer.tokens(listing.title, listing.description)))
        for listing in track(market.listings, description="tokenising", console=err, transient=True)
    ]
    tokenised = time.perf_counter()
    engine = Engine(items, chains=chain_map, orgs=market.orgs)
    build_s = time.perf_counter() - start
    engine_s = time.perf_counter() - tokenised
    memory_mb = _rss_mb() - rss_before
    start = time.perf_counter()
    plain = [
        replace(listing.item, tokens=tuple(plain_tokens(listing.title, listing.description)))
        for listing in market.listings
    ]
    baseline_engine = Engine(plain, chains=chain_map, orgs=market.orgs, weights=TEXT_ONLY)
    baseline_build_s = time.perf_counter() - start
    by_key = {item.key: item for item in items}

    def measure(
        engine_: Engine, tokenize: Any, encoder: embeddings.Encoder | None = None
    ) -> tuple[dict[str, float], list[float], int]:
        totals = {"ndcg10": 0.0, "recall50": 0.0, "mrr": 0.0}
        samples: list[float] = []
        violations = 0
        for query, text, grades in zip(market.queries, market.query_texts, market.relevant, strict=True):
            began = time.perf_counter()
            asked: Query = replace(query, tokens=tuple(tokenize(text)))
            if encoder is not None:  # the need's embedding is computed when it is asked, as on the platform
                asked = replace(asked, vector=encoder.encode([text])[0])
            ranked = [m.key for m in engine_.search(asked)]
            samples.append((time.perf_counter() - began) * 1000)
            violations += sum(not evaluation.admissible(asked, by_key[k]) for k in ranked)
            totals["ndcg10"] += evaluation.ndcg(ranked, grades, 10)
            totals["recall50"] += evaluation.recall(ranked, grades, 50)
            totals["mrr"] += evaluation.reciprocal_rank(ranked, grades)
        n = len(market.queries)
        return {k: round(v / n, 4) for k, v in totals.items()}, samples, violations

    def query_tokens(text: str) -> list[str]:
        return analyzer.tokens(text, query=True)

    trap_errors = sum(
        evaluation.admissible(q, by_key[t])
        for q, traps in zip(market.queries, market.traps, strict=True)
        for t in traps
    )
    if trap_errors:
        raise RuntimeError(f"the generator planted {trap_errors} traps that pass the filters")
    err.print(f"measuring {len(market.queries)} queries")
    measure(engine, query_tokens)  # warm-up: per-area filter caches, numpy code paths
    quality, samples, violations = measure(engine, query_tokens)
    base_quality, base_samples, base_violations = measure(baseline_engine, plain_tokens)
    # Ablations: what the vocabulary and the chain signal each bring (nDCG@10 of the engine without them).
    full_weights = engine.weights
    engine.weights = replace(full_weights, chain=0.0)
    no_chain = measure(engine, query_tokens)[0]["ndcg10"]
    engine.weights = replace(TEXT_ONLY)
    vocabulary_only = measure(engine, query_tokens)[0]["ndcg10"]
    engine.weights = full_weights
    baseline_engine.weights = full_weights
    no_vocabulary = measure(baseline_engine, plain_tokens)[0]["ndcg10"]
    blended = None
    if model:
        encoder = embeddings.load(model)
        assert encoder is not None
        err.print(f"embedding {len(items):,} listings with {model}")
        start = time.perf_counter()
        vectors = encoder.encode([f"{x.title}\n{x.description}" for x in market.listings])
        inference_s = time.perf_counter() - start
        rss_before = _rss_mb()
        start = time.perf_counter()
        engine = Engine(items, chains=chain_map, orgs=market.orgs, vectors=dict(zip(by_key, vectors, strict=True)))
        blended_build_s = time.perf_counter() - start
        blended_memory = _rss_mb() - rss_before
        measure(engine, query_tokens, encoder)  # warm-up
        blended_quality, blended_samples, blended_violations = measure(engine, query_tokens, encoder)
        blended = {
            "model": model,
            "inference_s": round(inference_s, 1),
            "engine_build_s": round(blended_build_s, 2),
            "memory_mb": round(blended_memory, 1),
            **blended_quality,
            "query_p50_ms": percentile(blended_samples, 50),
            "query_p95_ms": percentile(blended_samples, 95),
            "filter_violations": blended_violations,
        }
    return {
        "metrics": {
            **quality,
            "query_p50_ms": percentile(samples, 50),
            "query_p95_ms": percentile(samples, 95),
            "build_s": round(build_s, 2),
            "engine_build_s": round(engine_s, 2),
            "memory_mb": round(memory_mb, 1),
            "filter_violations": violations,
            "ndcg10_vs_baseline": round(quality["ndcg10"] / base_quality["ndcg10"], 3)
            if base_quality["ndcg10"]
            else None,
        },
        "baseline": {
            **base_quality,
            "query_p50_ms": percentile(base_samples, 50),
            "query_p95_ms": percentile(base_samples, 95),
            "build_s": round(baseline_build_s, 2),
            "filter_violations": base_violations,
        },
        "ablation_ndcg10": {
            "without_chain_signal": no_chain,
            "vocabulary_text_only": vocabulary_only,
            "without_vocabulary": no_vocabulary,
        },
        "embeddings": blended,
        "market": {
            "listings": len(items),
            "organizations": len(market.orgs),
            "queries": len(market.queries),
            "relevant_per_query": round(sum(len(r) for r in market.relevant) / len(market.queries), 2),
            "traps_per_query": round(sum(len(t) for t in market.traps) / len(market.queries), 2),
            "embeddings": model or None,
        },
    }
