"""The behaviour log: results shown, opened, answered and accepted."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from agglo.market.models import Listing
from agglo.matching.models import MatchEvent


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def impressions_record(
    *, actor: Any, organization_id: int | None, query_key: int, shown: Sequence[tuple[int, float]]
) -> int:
    """Results (key, score) shown in this order for the listing or organization `query_key`."""
    MatchEvent.objects.bulk_create(
        [
            MatchEvent(
                kind=MatchEvent.Kind.IMPRESSION,
                user=_user(actor),
                organization_id=organization_id,
                query_key=query_key,
                item_key=key,
                rank=rank,
                score=score,
            )
            for rank, (key, score) in enumerate(shown, start=1)
        ]
    )
    return len(shown)


def click_record(
    *, actor: Any, organization_ids: Collection[int], query_key: int | None, item_key: int, rank: int | None
) -> bool:
    """A member opened a result; False, and nothing kept, unless the result was shown to one of its organizations
    `organization_ids` (for that query, when given), to which the click then counts: a click is a signal only on
    what the matching offered, so that a link followed from elsewhere cannot vote for a listing. Opening one's
    own listing is no signal either."""
    shown = MatchEvent.objects.filter(
        kind=MatchEvent.Kind.IMPRESSION, organization_id__in=organization_ids, item_key=item_key
    )
    if query_key is not None:
        shown = shown.filter(query_key=query_key)
    organization_id = shown.order_by("-id").values_list("organization_id", flat=True).first()
    if organization_id is None:
        return False
    if item_key > 0 and Listing.objects.filter(pk=item_key, organization_id=organization_id).exists():
        return False
    if rank is not None and not 1 <= rank <= 1000:
        rank = None
    MatchEvent.objects.create(
        kind=MatchEvent.Kind.CLICK,
        user=_user(actor),
        organization_id=organization_id,
        query_key=query_key,
        item_key=item_key,
        rank=rank,
    )
    return True


def interest_recorded(kind: str, interest: Any, actor: Any) -> None:
    """Market hook: interest expressed in a listing, or accepted; tied to the results it came from, if any."""
    came_from = (
        MatchEvent.objects.filter(
            kind__in=(MatchEvent.Kind.CLICK, MatchEvent.Kind.IMPRESSION),
            item_key=interest.listing_id,
            organization_id=interest.organization_id,
        )
        .order_by("-created_at", "-id")
        .values_list("query_key", "rank")
        .first()
    )
    MatchEvent.objects.create(
        kind=MatchEvent.Kind.INTEREST if kind == "interest" else MatchEvent.Kind.ACCEPTANCE,
        user=_user(actor),
        organization_id=interest.organization_id,
        query_key=came_from[0] if came_from else None,
        item_key=interest.listing_id,
        rank=came_from[1] if came_from else None,
    )
