from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.utils.translation import gettext as _

from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import NotFound
from agglo.registry.chains import depth
from agglo.registry.models import Chain, Position, Segment, SegmentLink


def chain_list() -> QuerySet[Chain]:
    return Chain.objects.prefetch_related(
        Prefetch("segments", queryset=Segment.objects.order_by("order", "code"))
    ).order_by("code")


def segment_list() -> QuerySet[Segment]:
    """Every segment with its chain, chain by chain, upstream first."""
    return Segment.objects.select_related("chain").order_by("chain__code", "order", "code")


def chain_get(code: str) -> Chain:
    chain = chain_list().filter(code=code).first()
    if chain is None:
        raise NotFound(_("No industry chain with code %(code)s.") % {"code": code})
    return chain


def chain_links(chain: Chain) -> list[tuple[str, str]]:
    return list(
        SegmentLink.objects.filter(upstream__chain=chain)
        .order_by("id")
        .values_list("upstream__code", "downstream__code")
    )


@dataclass
class SegmentCell:
    """One segment on the chain map: member counts per role, how many provinces/countries they come from."""

    segment: Segment
    column: int
    roles: dict[str, int] = field(default_factory=dict)
    members: int = 0
    areas: int = 0

    @property
    def is_gap(self) -> bool:
        return self.members == 0


@dataclass
class ChainMap:
    chain: Chain
    columns: list[list[SegmentCell]]
    links: list[tuple[str, str]]
    members: int
    areas: int

    @property
    def gaps(self) -> list[SegmentCell]:
        return [cell for column in self.columns for cell in column if cell.is_gap]


def chain_map(*, actor: Any, code: str) -> ChainMap:
    """A chain laid out upstream → downstream with, per segment, members by role, spread and gaps."""
    chain = chain_get(code)
    links = chain_links(chain)
    segments = list(chain.segments.all())
    # a segment sits no further left than its stage: upstream, midstream, downstream
    stage_column = {"upstream": 0, "midstream": 1, "downstream": 2}
    columns_of = depth([s.code for s in segments], links, {s.code: stage_column.get(s.stage, 0) for s in segments})
    # The map counts members, which everyone may see (access.policy), so no per-actor restriction is needed.
    positions = Position.objects.filter(segment__chain=chain, organization__status__in=PUBLIC_ORG_STATUSES)
    roles: dict[int, dict[str, int]] = {}
    for seg_id, role, n in positions.order_by().values_list("segment_id", "role").annotate(n=Count("id")):
        roles.setdefault(seg_id, {})[role] = n
    members = dict(positions.order_by().values_list("segment_id").annotate(n=Count("organization_id", distinct=True)))
    areas = dict(
        positions.order_by().values_list("segment_id").annotate(n=Count("organization__area_id", distinct=True))
    )
    cells = [
        SegmentCell(
            segment=s,
            column=columns_of[s.code],
            roles=roles.get(s.pk, {}),
            members=members.get(s.pk, 0),
            areas=areas.get(s.pk, 0),
        )
        for s in segments
    ]
    n_columns = 1 + max((c.column for c in cells), default=0)
    columns: list[list[SegmentCell]] = [[] for _ in range(n_columns)]
    for cell in sorted(cells, key=lambda c: (c.segment.order, c.segment.code)):
        columns[cell.column].append(cell)
    totals = positions.aggregate(
        m=Count("organization_id", distinct=True), a=Count("organization__area_id", distinct=True)
    )
    return ChainMap(chain=chain, columns=columns, links=links, members=totals["m"], areas=totals["a"])
