"""Ranking quality measures and an independent check of the hard filters. Pure: no Django.

`admissible` restates the hard filters item by item in plain Python, apart from the engine's vectorised masks,
so that a benchmark or a test can count violations without trusting the code it checks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from agglo.matching.ranking import KIND_PARTNERS, ORG, ORG_KINDS_FOR, ORG_KINDS_SERVED, Item, Query


def admissible(query: Query, item: Item) -> bool:
    """Whether the item may be shown for the query at all."""
    if item.side != query.target:
        return False
    if query.target == ORG:
        allowed = (ORG_KINDS_SERVED if query.offering else ORG_KINDS_FOR).get(query.kind)
        if allowed is not None and item.kind not in allowed:
            return False
    else:
        if item.kind != query.kind and item.kind not in KIND_PARTNERS.get(query.kind, ()):
            return False
        if query.subkind and item.subkind and item.subkind != query.subkind:
            return False
    if query.region_rule == "only" and item.area not in query.regions:
        return False
    if query.region_rule == "exclude" and item.area in query.regions:
        return False
    if item.region_rule == "only" and query.area not in item.regions:
        return False
    if item.region_rule == "exclude" and query.area in item.regions:
        return False
    if query.amount_max is not None and item.amount_min is not None and item.amount_min > query.amount_max:
        return False
    if query.amount_min is not None and item.amount_max is not None and item.amount_max < query.amount_min:
        return False
    if item.deadline is not None and item.deadline < query.today:
        return False
    viewer = query.viewer
    if item.org in viewer.own_orgs or item.org == query.org or item.key in query.exclude:
        return False
    if viewer.sees_all or item.visibility == "public":
        return True
    if item.visibility == "members":
        return viewer.member
    return item.org in viewer.partner_orgs


def ndcg(ranked: Sequence[int], grades: Mapping[int, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain at k, with gains 2^grade − 1."""
    dcg = sum((2 ** grades.get(key, 0) - 1) / math.log2(i + 2) for i, key in enumerate(ranked[:k]))
    ideal = sorted(grades.values(), reverse=True)[:k]
    best = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / best if best else 0.0


def recall(ranked: Sequence[int], grades: Mapping[int, int], k: int = 50) -> float:
    relevant = {key for key, g in grades.items() if g > 0}
    return len(relevant.intersection(ranked[:k])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: Sequence[int], grades: Mapping[int, int]) -> float:
    for i, key in enumerate(ranked):
        if grades.get(key, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0
