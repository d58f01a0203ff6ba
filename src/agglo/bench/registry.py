"""Registry benchmark: directory search and organization pages through the full Django stack.

The baseline is the same search done the naive way (substring LIKE over names, description and tags,
no index), measured in the same run on the same data, so the ratio shows what the full-text index buys.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.test import Client

from agglo.registry import facet_index
from agglo.registry.models import Chain, Organization, Region
from agglo.registry.selectors import DirectoryFilters, organization_search

TERMS = [
    "集成电路",
    "半导体",
    "芯片",
    "动力电池",
    "机器人",
    "光伏",
    "生物医药",
    "医疗器械",
    "自动化",
    "新能源",
    "深圳",
    "苏州",
    "杭州",
    "北京",
    "上海",
    "研究院",
    "华芯",
    "智能装备",
    "battery",
    "robotics",
    "semiconductor",
    "Shenzhen",
    "Biotech",
    "Photovoltaic",
    "科技 深圳",
    "电池 江苏",
    "芯片 设计",
]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[index], 2)


def timed(requests: list[Callable[[], Any]], warmup: int = 10) -> dict[str, float]:
    for call in requests[:warmup]:
        call()
    samples = []
    for call in requests:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "p50_ms": percentile(samples, 50),
        "p95_ms": percentile(samples, 95),
        "mean_ms": round(statistics.fmean(samples), 2),
        "n": len(samples),
    }


def search_params(rng: random.Random) -> list[dict[str, str]]:
    """Realistic directory queries: a term, often with one facet, now and then a later page."""
    kinds = ["tech_sme", "enterprise", "university", "research_institute", "bank"]
    areas = list(Region.objects.filter(level="province").values_list("code", flat=True))
    chains = list(Chain.objects.values_list("code", flat=True))
    out = []
    for _ in range(400):
        params = {"q": rng.choice(TERMS)}
        facet = rng.random()
        if facet < 0.25:
            params["kind"] = rng.choice(kinds)
        elif facet < 0.5:
            params["area"] = rng.choice(areas)
        elif facet < 0.7:
            params["chain"] = rng.choice(chains)
        if rng.random() < 0.1:
            params["page"] = str(rng.randint(2, 3))
        out.append(params)
    return out


def check(response: Any) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']} answered {response.status_code}")


def indexed_search(params: dict[str, str]) -> list[int]:
    """The platform's own selector, without HTTP, for a like-for-like comparison with the baseline."""
    filters = DirectoryFilters(**{k: v for k, v in params.items() if k != "page"})
    result = organization_search(actor=AnonymousUser(), filters=filters, page=int(params.get("page", 1)))
    return [o.pk for o in result.items]


def like_search(params: dict[str, str]) -> list[int]:
    """The baseline: every word as a substring of name, description or tags, no index, same facets and page."""
    qs = Organization.objects.filter(status="member")
    for word in params["q"].split():
        qs = qs.filter(
            Q(name_zh__icontains=word)
            | Q(name_en__icontains=word)
            | Q(description__icontains=word)
            | Q(tags__icontains=word)
            | Q(region__name_zh__icontains=word)
            | Q(region__name_en__icontains=word)
        )
    if "kind" in params:
        qs = qs.filter(kind=params["kind"])
    if "area" in params:
        qs = qs.filter(area_id=params["area"])
    if "chain" in params:
        qs = qs.filter(positions__segment__chain__code=params["chain"]).distinct()
    page = int(params.get("page", 1))
    qs.count()
    for field in ("kind", "layer", "area_id"):  # the same facet counts the indexed search computes
        list(qs.order_by().values_list(field).distinct())
    return list(qs.order_by("name_zh", "id").values_list("id", flat=True)[(page - 1) * 20 : page * 20])


def run(requests: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    # The first directory request of a process loads the facet table; measured apart from the steady state.
    facet_index.forget()
    start = time.perf_counter()
    facet_index.current()
    facet_load_ms = round((time.perf_counter() - start) * 1000, 1)
    client = Client()
    params = search_params(rng)[:requests]
    ids = list(Organization.objects.filter(status="member").values_list("id", flat=True))
    profile_ids = [rng.choice(ids) for _ in range(requests)]
    page = timed([lambda p=p: check(client.get("/directory/", p)) for p in params])
    api = timed([lambda p=p: check(client.get("/api/v1/organizations", p)) for p in params])
    profile = timed([lambda i=i: check(client.get(f"/organizations/{i}/")) for i in profile_ids])
    indexed = timed([lambda p=p: indexed_search(p) for p in params])
    baseline = timed([lambda p=p: like_search(p) for p in params])
    found = [client.get("/api/v1/organizations", p).json()["count"] for p in params[:50]]
    return {
        "metrics": {
            "search_p95_ms": page["p95_ms"],
            "search_p50_ms": page["p50_ms"],
            "search_requests": page["n"],
            "api_search_p95_ms": api["p95_ms"],
            "api_search_p50_ms": api["p50_ms"],
            "profile_p95_ms": profile["p95_ms"],
            "profile_p50_ms": profile["p50_ms"],
            "profile_requests": profile["n"],
            "median_hits_per_query": statistics.median(found),
            "facet_table_load_ms": facet_load_ms,
        },
        "baseline": {
            "indexed_selector_p95_ms": indexed["p95_ms"],
            "indexed_selector_p50_ms": indexed["p50_ms"],
            "like_selector_p95_ms": baseline["p95_ms"],
            "like_selector_p50_ms": baseline["p50_ms"],
            "note": "the same queries without HTTP: the full-text selector vs substring LIKE over names, "
            "description, tags and region with the same facets and page",
        },
        "ratio": {
            "like_over_indexed_p95": round(baseline["p95_ms"] / indexed["p95_ms"], 2) if indexed["p95_ms"] else None
        },
    }
