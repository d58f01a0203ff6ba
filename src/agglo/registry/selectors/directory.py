"""The member directory: text search with facets over the organizations the actor may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from agglo.access import policy
from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import ValidationFailed
from agglo.common.language import choice_words
from agglo.registry import facet_index, facets, search_index, uscc
from agglo.registry.facet_index import Vocabulary
from agglo.registry.kinds import Kind, Layer
from agglo.registry.models import Chain, Organization, Region, Segment
from agglo.registry.models.organizations import KIND_LABELS, LAYER_LABELS
from agglo.registry.text import query_tokens

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY_LENGTH = 200
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
    if len(filters.q) > MAX_QUERY_LENGTH:
        errors["q"] = [_("At most %(n)d characters.") % {"n": MAX_QUERY_LENGTH}]
    if not 1 <= page <= 10_000:
        errors["page"] = [_("Must be between 1 and 10,000.")]
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        errors["page_size"] = [_("Must be between 1 and %(n)d.") % {"n": MAX_PAGE_SIZE}]
    if filters.kind and filters.kind not in {k.value for k in Kind}:
        errors["kind"] = [
            _("Unknown kind “%(value)s”; choose one of: %(choices)s.")
            % {"value": filters.kind, "choices": choice_words((k.value, KIND_LABELS[k]) for k in Kind)}
        ]
    if filters.layer and filters.layer not in {v.value for v in Layer}:
        errors["layer"] = [
            _("Unknown layer “%(value)s”; choose one of: %(choices)s.")
            % {"value": filters.layer, "choices": choice_words((v.value, LAYER_LABELS[v]) for v in Layer)}
        ]
    if filters.status and filters.status not in Organization.Status.values:
        errors["status"] = [_("Unknown status “%(value)s”.") % {"value": filters.status}]
    elif filters.status and filters.status not in PUBLIC_ORG_STATUSES and not policy.sees_all_organizations(actor):
        errors["status"] = [_("Only operators and auditors may list organizations that are not members.")]
    if filters.area and not Region.objects.filter(code=filters.area).exclude(level="prefecture").exists():
        errors["area"] = [_("Unknown province or country code “%(value)s”.") % {"value": filters.area}]
    if filters.chain:
        resolved["chain"] = Chain.objects.filter(code=filters.chain).first()
        if resolved["chain"] is None:
            errors["chain"] = [_("Unknown chain “%(value)s”.") % {"value": filters.chain}]
    if filters.segment:
        resolved["segment"] = Segment.objects.select_related("chain").filter(code=filters.segment).first()
        if resolved["segment"] is None:
            errors["segment"] = [_("Unknown chain segment “%(value)s”.") % {"value": filters.segment}]
    if errors:
        raise ValidationFailed(errors)
    return resolved


def organization_search(
    *, actor: Any, filters: DirectoryFilters, page: int = 1, page_size: int = PAGE_SIZE, with_facets: bool = True
) -> DirectoryPage:
    """One page of organizations matching the text query and facet filters, best match first, with facet counts.

    The database finds the ids that match the text (best first); totals and facet counts are then counted in
    memory over those ids (registry.facets), each facet leaving its own filter out so users see where else to go.
    Members are public (access.policy), so the common case needs no per-actor restriction.
    """
    resolved = _validate(actor, filters, page, page_size)
    status = filters.status or Organization.Status.MEMBER
    ids = None
    text = None
    code = uscc.normalize(filters.q)
    if uscc.problem(code) is None:  # a credit code looks its holder up, as on a business register
        text = search_index.TextQuery((code,), "", 1)
        ids = np.fromiter(Organization.objects.filter(uscc=code).values_list("pk", flat=True), dtype=np.int32)
    elif filters.q.strip():
        tokens = query_tokens(filters.q)
        if not tokens:  # only punctuation: nothing can match
            return DirectoryPage(items=[], total=0, page=page, page_size=page_size)
        text = search_index.text_query(tokens)
        ids = search_index.match_ids(text)
    table, vocab = facet_index.current()
    selection = facets.Selection(
        status=vocab.code("status", status),
        **{name: vocab.code(name, getattr(filters, name)) for name in ("kind", "layer", "area", "chain", "segment")},
    )
    counts = facets.count(table, ids, selection)
    offset = (page - 1) * page_size
    items: list[Organization] = []
    if offset < counts.total:
        if text is None:  # browsing: alphabetical
            qs = _narrowed(Organization.objects.select_related("region", "area").filter(status=status), filters)
            items = list(qs.order_by("name_zh", "id")[offset : offset + page_size])
        else:  # searching: best match first, or newest first for very broad queries
            ranked = text.matches <= search_index.RANK_LIMIT
            chosen = (
                counts.rows[offset : offset + page_size] if ranked else facets.newest(counts.rows, offset, page_size)
            )
            found = Organization.objects.select_related("region", "area").in_bulk([int(i) for i in chosen])
            # Status checked again (in Python: a status filter in SQL would steer SQLite off the primary key):
            # the facet table may lag a concurrent change by a moment.
            items = [found[int(i)] for i in chosen if int(i) in found and found[int(i)].status == status]
    return DirectoryPage(
        items=items,
        total=counts.total,
        page=page,
        page_size=page_size,
        facets=_facets(counts, vocab, resolved, filters) if with_facets else {},
    )


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
    counts: facets.FacetCounts, vocab: Vocabulary, resolved: dict[str, Any], filters: DirectoryFilters
) -> dict[str, list[dict[str, Any]]]:
    """Each facet's values with their counts; a chosen value is listed at 0 too, so that it can be taken off
    (walk review 45 F4: it vanished, and went on narrowing every search unseen)."""
    by_value = {
        name: {vocab.value(name, code): n for code, n in getattr(counts, name).items() if n}
        for name in ("kind", "layer", "area", "chain", "segment")
    }
    for name in by_value:
        chosen = getattr(filters, name)
        if chosen and not by_value[name].get(chosen):
            by_value[name][chosen] = 0
    areas = {r.code: r for r in Region.objects.filter(code__in=list(by_value["area"]))}
    chains = {c.code: c for c in Chain.objects.all()}
    out: dict[str, list[dict[str, Any]]] = {
        "kind": [
            {"value": k.value, "label": str(KIND_LABELS[k]), "count": by_value["kind"][k.value]}
            for k in Kind
            if k.value in by_value["kind"]
        ],
        "layer": [
            {"value": v.value, "label": str(LAYER_LABELS[v]), "count": by_value["layer"][v.value]}
            for v in Layer
            if v.value in by_value["layer"]
        ],
        "area": sorted(
            (
                {"value": code, "label": areas[code].name if code in areas else code, "count": n}
                for code, n in by_value["area"].items()
            ),
            key=lambda f: (-f["count"], f["value"]),
        ),
        "chain": [
            {"value": code, "label": chains[code].name, "count": n}
            for code, n in sorted(by_value["chain"].items())
            if code in chains
        ],
    }
    chain = resolved.get("chain") or (resolved["segment"].chain if resolved.get("segment") else None)
    if chain is not None:
        out["segment"] = [
            {"value": s.code, "label": s.name, "count": by_value["segment"][s.code]}
            for s in chain.segments.all()
            if s.code in by_value["segment"]
        ]
    return out
