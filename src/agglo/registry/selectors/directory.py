"""The member directory: text search with facets over the organizations the actor may see."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from agglo.access import policy
from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import ValidationFailed
from agglo.registry import search_index
from agglo.registry.kinds import Kind, Layer
from agglo.registry.models import Chain, Organization, Region, Segment
from agglo.registry.models.organizations import KIND_LABELS, LAYER_LABELS
from agglo.registry.search_index import FacetGroup
from agglo.registry.text import query_tokens

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
FACETS = ("kind", "layer", "area", "chain")


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    kind: str = ""
    layer: str = ""
    area: str = ""  # province code, or a country code for foreign members
    chain: str = ""
    segment: str = ""
    status: str = ""  # only operators and auditors may ask for other statuses than member


@dataclass
class DirectoryPage:
    items: list[Organization]
    total: int
    page: int
    page_size: int
    facets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _validate(actor: Any, filters: DirectoryFilters, page: int, page_size: int) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    resolved: dict[str, Any] = {}
    if page < 1:
        errors["page"] = ["Must be 1 or more."]
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["page_size"] = [f"Must be between 1 and {MAX_PAGE_SIZE}."]
    if filters.kind and filters.kind not in {k.value for k in Kind}:
        errors["kind"] = [f"Unknown kind {filters.kind!r}; choose one of {', '.join(k.value for k in Kind)}."]
    if filters.layer and filters.layer not in {v.value for v in Layer}:
        errors["layer"] = [f"Unknown layer {filters.layer!r}; choose core, auxiliary or external."]
    if filters.status and filters.status not in Organization.Status.values:
        errors["status"] = [f"Unknown status {filters.status!r}."]
    elif filters.status and filters.status not in PUBLIC_ORG_STATUSES and not policy.sees_all_organizations(actor):
        errors["status"] = ["Only operators and auditors may list organizations that are not members."]
    if filters.area and not Region.objects.filter(code=filters.area).exclude(level="prefecture").exists():
        errors["area"] = [f"Unknown province or country code {filters.area!r}."]
    if filters.chain:
        resolved["chain"] = Chain.objects.filter(code=filters.chain).first()
        if resolved["chain"] is None:
            errors["chain"] = [f"Unknown chain {filters.chain!r}."]
    if filters.segment:
        resolved["segment"] = Segment.objects.select_related("chain").filter(code=filters.segment).first()
        if resolved["segment"] is None:
            errors["segment"] = [f"Unknown chain segment {filters.segment!r}."]
    if errors:
        raise ValidationFailed(errors)
    return resolved


def _selected(group: FacetGroup, filters: DirectoryFilters, skip: str = "") -> bool:
    """Whether a facet group passes the active filters, leaving out the facet `skip`."""
    return (
        (skip == "kind" or not filters.kind or group.kind == filters.kind)
        and (skip == "layer" or not filters.layer or group.layer == filters.layer)
        and (skip == "area" or not filters.area or group.area == filters.area)
        and (skip == "chain" or not filters.chain or filters.chain in group.chains)
        and (skip == "segment" or not filters.segment or filters.segment in group.segments)
    )


def organization_search(
    *, actor: Any, filters: DirectoryFilters, page: int = 1, page_size: int = PAGE_SIZE, with_facets: bool = True
) -> DirectoryPage:
    """One page of organizations matching the text query and facet filters, best match first, with facet counts.

    Totals and facet counts come from one grouped pass over the text matches (search_index.facet_groups); each
    facet leaves its own filter out, so users can see where else to go. Members are public (access.policy), so
    the common case needs no per-actor restriction.
    """
    resolved = _validate(actor, filters, page, page_size)
    status = filters.status or Organization.Status.MEMBER
    text = None
    if filters.q.strip():
        tokens = query_tokens(filters.q)
        if not tokens:  # only punctuation: nothing can match
            return DirectoryPage(items=[], total=0, page=page, page_size=page_size)
        text = search_index.text_query(tokens)
    # Segments are grouped for the chosen chain, or for the chain of a segment chosen on its own.
    segment = resolved.get("segment")
    chain = filters.chain or (segment.chain.code if segment is not None else None)
    groups = search_index.facet_groups(status=status, text=text, chain=chain)
    total = sum(g.count for g in groups if _selected(g, filters))
    offset = (page - 1) * page_size
    items = _page(filters, status, text, total, offset, page_size) if offset < total else []
    facets = _facets(groups, filters, resolved) if with_facets else {}
    return DirectoryPage(items=items, total=total, page=page, page_size=page_size, facets=facets)


def _page(
    filters: DirectoryFilters, status: str, text: search_index.TextQuery | None, total: int, offset: int, limit: int
) -> list[Organization]:
    qs = Organization.objects.select_related("region", "area")
    narrow = {name: getattr(filters, name) for name in ("kind", "layer", "area", "chain", "segment")}
    if text is not None:
        ids = search_index.page_ids(status=status, text=text, narrow=narrow, total=total, offset=offset, limit=limit)
        if ids is not None:
            found = qs.in_bulk(ids)
            return [found[i] for i in ids if i in found]
    qs = _narrowed(qs.filter(status=status), filters)
    qs = search_index.ordered(qs, text, total=total) if text else qs.order_by("name_zh", "id")
    return list(qs[offset : offset + limit])


def _narrowed(qs: QuerySet, filters: DirectoryFilters) -> QuerySet:
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.layer:
        qs = qs.filter(layer=filters.layer)
    if filters.area:
        qs = qs.filter(area_id=filters.area)
    if filters.chain:
        qs = qs.filter(chain_codes__contains=f"|{filters.chain}|")
    if filters.segment:
        qs = qs.filter(segment_codes__contains=f"|{filters.segment}|")
    return qs


def _facets(
    groups: list[FacetGroup], filters: DirectoryFilters, resolved: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    counts: dict[str, Counter[str]] = {name: Counter() for name in (*FACETS, "segment")}
    for group in groups:
        for name in ("kind", "layer", "area"):
            if _selected(group, filters, skip=name):
                counts[name][getattr(group, name)] += group.count
        if _selected(group, filters, skip="chain"):
            for code in group.chains:
                counts["chain"][code] += group.count
        if _selected(group, filters, skip="segment"):
            for code in group.segments:
                counts["segment"][code] += group.count
    areas = {r.code: r for r in Region.objects.filter(code__in=list(counts["area"]))}
    chains = {c.code: c for c in Chain.objects.all()}
    facets: dict[str, list[dict[str, Any]]] = {
        "kind": [
            {"value": k.value, "label": str(KIND_LABELS[k]), "count": counts["kind"][k.value]}
            for k in Kind
            if counts["kind"][k.value]
        ],
        "layer": [
            {"value": v.value, "label": str(LAYER_LABELS[v]), "count": counts["layer"][v.value]}
            for v in Layer
            if counts["layer"][v.value]
        ],
        "area": sorted(
            (
                {"value": code, "label": areas[code].name if code in areas else code, "count": n}
                for code, n in counts["area"].items()
            ),
            key=lambda f: (-f["count"], f["value"]),
        ),
        "chain": [
            {"value": code, "label": chains[code].name, "count": n}
            for code, n in sorted(counts["chain"].items())
            if code in chains
        ],
    }
    chain = resolved.get("chain")
    if chain is not None:
        facets["segment"] = [
            {"value": s.code, "label": s.name, "count": counts["segment"][s.code]}
            for s in chain.segments.all()
            if counts["segment"][s.code]
        ]
    return facets
