"""Quality measures, and the synthetic market the benchmark runs on."""

import math

from agglo.bench.matching import reference
from agglo.matching import evaluation, synthetic


def test_measures_on_known_rankings():
    grades = {1: 2, 2: 1}
    assert evaluation.ndcg([1, 2, 3], grades) == 1.0
    swapped = (1 / 1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert math.isclose(evaluation.ndcg([2, 1], grades), swapped)
    assert evaluation.ndcg([3, 4], grades) == 0.0
    assert evaluation.recall([5, 2], grades, 50) == 0.5
    assert evaluation.reciprocal_rank([7, 8, 2], grades) == 1 / 3
    assert evaluation.reciprocal_rank([7], grades) == 0.0


def test_synthetic_market_is_deterministic_and_its_judgements_hold():
    terms, _segments, glossary, chains, chain_map, names = reference()

    def make(seed):
        return synthetic.generate(3000, terms=terms, glossary=glossary, chains=chains, segment_names=names, seed=seed)

    market = make(7)
    assert len(market.listings) == 3000 and len(market.queries) >= 25
    assert [x.title for x in market.listings[:50]] == [x.title for x in make(7).listings[:50]]
    items = {x.item.key: x.item for x in market.listings}
    for query, relevant, traps in zip(market.queries, market.relevant, market.traps, strict=True):
        assert sorted(relevant.values()).count(2) == 6 and len(relevant) == 9
        assert all(evaluation.admissible(query, items[k]) for k in relevant)
        assert traps and not any(evaluation.admissible(query, items[k]) for k in traps)
        adjacent = [chain_map.best(query.segments, items[k].segments)[0] for k, g in relevant.items() if g == 2]
        assert set(adjacent) <= {"upstream", "downstream"}
