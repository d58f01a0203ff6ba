"""The member directory: text search with facets over the organizations the actor may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet

from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import ValidationFailed
from agglo.registry import search_index
from agglo.registry.kinds import Kind, Layer
from agglo.registry.models import Chain, Organization, Position, Region, Segment
from agglo.registry.models.organizations import KIND_LABELS, LAYER_LABELS
from agglo.registry.selectors.organizations import organization_list

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    kind: str = ""
    layer: str = ""
    area: str = ""  # province code, or a country code for foreign members
    chain: str = ""
    segment: str = ""
    status: str = ""  # only operators and auditors see other statuses than member


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


def _validate(filters: DirectoryFilters) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    resolved: dict[str, Any] = {}
    if filters.kind and filters.kind not in {k.value for k in Kind}:
        errors["kind"] = [f"Unknown kind {filters.kind!r}; choose one of {', '.join(k.value for k in Kind)}."]
    if filters.layer and filters.layer not in {v.value for v in Layer}:
        errors["layer"] = [f"Unknown layer {filters.layer!r}; choose core, auxiliary or external."]
    if filters.status and filters.status not in Organization.Status.values:
        errors["status"] = [f"Unknown status {filters.status!r}."]
    if filters.area and not Region.objects.filter(code=filters.area).exclude(level="prefecture").exists():
        errors["area"] = [f"Unknown province or country code {filters.area!r}."]
    if filters.chain:
        resolved["chain"] = Chain.objects.filter(code=filters.chain).first()
        if resolved["chain"] is None:
            errors["chain"] = [f"Unknown chain {filters.chain!r}."]
    if filters.segment:
        resolved["segment"] = Segment.objects.filter(code=filters.segment).first()
        if resolved["segment"] is None:
            errors["segment"] = [f"Unknown chain segment {filters.segment!r}."]
    if errors:
        raise ValidationFailed(errors)
    return resolved


def _facet(qs: QuerySet, key: str) -> dict[Any, int]:
    return dict(qs.order_by().values_list(key).annotate(n=Count("id")).values_list(key, "n"))


def organization_search(
    *,
    actor: Any,
    filters: DirectoryFilters,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    with_facets: bool = True,
) -> DirectoryPage:
    """One page of organizations matching the text query and facet filters, best match first, with facet counts."""
    if page < 1:
        raise ValidationFailed({"page": ["Must be 1 or more."]})
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed({"page_size": [f"Must be between 1 and {MAX_PAGE_SIZE}."]})
    resolved = _validate(filters)
    if filters.status and filters.status not in PUBLIC_ORG_STATUSES:
        base = organization_list(actor=actor).filter(status=filters.status)
    else:  # members are visible to everyone (access.policy), so the common case skips the per-actor filter
        base = Organization.objects.select_related("region", "area").filter(status__in=PUBLIC_ORG_STATUSES)
    ranked = base.order_by("name_zh", "id")
    if filters.q.strip():
        searched = search_index.apply_text_search(base, filters.q)
        if searched is None:
            base = base.none()
            ranked = base
        else:
            base, ranked = searched
    query = _Narrowing(base, filters, resolved)
    matched = query.apply(base)
    total = matched.count()
    offset = (page - 1) * page_size
    items = list(query.apply(ranked)[offset : offset + page_size]) if offset < total else []
    facets = _facets(query, resolved) if with_facets else {}
    return DirectoryPage(items=items, total=total, page=page, page_size=page_size, facets=facets)


class _Narrowing:
    """Applies the facet filters; facet counts leave their own filter out, so users see where else to go."""

    def __init__(self, base: QuerySet, filters: DirectoryFilters, resolved: dict[str, Any]) -> None:
        self.base = base
        self.fields = {
            "kind": {"kind": filters.kind} if filters.kind else {},
            "layer": {"layer": filters.layer} if filters.layer else {},
            "area": {"area_id": filters.area} if filters.area else {},
        }
        self.chain = resolved.get("chain")
        self.segment = resolved.get("segment")

    def apply(self, qs: QuerySet, skip: str = "") -> QuerySet:
        for name, cond in self.fields.items():
            if name != skip and cond:
                qs = qs.filter(**cond)
        if skip != "chain" and self.chain is not None:
            qs = qs.filter(pk__in=Position.objects.filter(segment__chain=self.chain).values("organization_id"))
        if skip != "segment" and self.segment is not None:
            qs = qs.filter(pk__in=Position.objects.filter(segment=self.segment).values("organization_id"))
        return qs

    def without(self, facet: str) -> QuerySet:
        return self.apply(self.base, skip=facet)


def _facets(query: _Narrowing, resolved: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    kinds = _facet(query.without("kind"), "kind")
    layers = _facet(query.without("layer"), "layer")
    areas = _facet(query.without("area"), "area_id")
    area_names = {r.code: r for r in Region.objects.filter(code__in=list(areas))}
    chain_counts = dict(
        Position.objects.filter(organization_id__in=query.without("chain").values("pk"))
        .order_by()
        .values_list("segment__chain__code")
        .annotate(n=Count("organization_id", distinct=True))
        .values_list("segment__chain__code", "n")
    )
    chains = {c.code: c for c in Chain.objects.all()}
    facets: dict[str, list[dict[str, Any]]] = {
        "kind": [
            {"value": k.value, "label": str(KIND_LABELS[k]), "count": kinds[k.value]}
            for k in Kind
            if kinds.get(k.value)
        ],
        "layer": [
            {"value": v.value, "label": str(LAYER_LABELS[v]), "count": layers[v.value]}
            for v in Layer
            if layers.get(v.value)
        ],
        "area": sorted(
            (
                {"value": code, "label": area_names[code].name if code in area_names else code, "count": n}
                for code, n in areas.items()
            ),
            key=lambda f: (-f["count"], f["value"]),
        ),
        "chain": [
            {"value": code, "label": chains[code].name, "count": n}
            for code, n in sorted(chain_counts.items())
            if code in chains
        ],
    }
    chain = resolved.get("chain")
    if chain is not None:
        seg_counts = dict(
            Position.objects.filter(organization_id__in=query.without("segment").values("pk"), segment__chain=chain)
            .order_by()
            .values_list("segment__code")
            .annotate(n=Count("organization_id", distinct=True))
            .values_list("segment__code", "n")
        )
        facets["segment"] = [
            {"value": s.code, "label": s.name, "count": seg_counts[s.code]}
            for s in chain.segments.all()
            if seg_counts.get(s.code)
        ]
    return facets
