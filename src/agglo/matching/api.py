"""REST endpoints of matching: counterparts for a listing, partners for an organization, clicks."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from agglo.access import policy
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.paging import between
from agglo.common.schemas import one_of
from agglo.market.selectors import listing_get
from agglo.matching import selectors, services
from agglo.matching.schemas import ClickIn, ListingMatchOut
from agglo.registry.selectors import organization_get

router = Router(tags=["matching"])


def _shown(request: HttpRequest, query_key: int, organization_id: int | None, results: list[Any]) -> list[Any]:
    services.impressions_record(
        actor=request.auth,
        organization_id=organization_id,
        query_key=query_key,
        shown=[(r.key, r.match.score) for r in results],
    )
    return results


@router.get(
    "/listings/{int:listing_id}/matches",
    response=list[ListingMatchOut],
    summary="Ranked counterparts for one of your listings, explained",
)
def listing_matches(
    request: HttpRequest,
    listing_id: int,
    target: Annotated[str, one_of(selectors.TARGETS, checked=True)] = "offers",
    limit: Annotated[int, between(1, 50)] = 10,
) -> Any:
    if not 1 <= limit <= 50:
        raise ValidationFailed({"limit": [_("Between 1 and 50.")]})
    listing = listing_get(actor=request.auth, pk=listing_id)
    results = selectors.matches_for_listing(actor=request.auth, listing=listing, target=target, limit=limit)
    return _shown(request, listing.pk, listing.organization_id, results)


@router.get(
    "/organizations/{int:org_id}/partners",
    response=list[ListingMatchOut],
    summary="Suggested partners for one of your organizations, explained",
)
def organization_partners(request: HttpRequest, org_id: int, limit: Annotated[int, between(1, 50)] = 10) -> Any:
    if not 1 <= limit <= 50:
        raise ValidationFailed({"limit": [_("Between 1 and 50.")]})
    organization = organization_get(actor=request.auth, pk=org_id)
    results = selectors.partners_for_organization(actor=request.auth, organization=organization, limit=limit)
    return _shown(request, -organization.pk, organization.pk, results)


@router.post("/clicks", response={204: None}, summary="Report that a member opened a result")
def click(request: HttpRequest, payload: ClickIn) -> Any:
    orgs = policy.active_organization_ids(request.auth)
    if not orgs:
        raise Forbidden(_("Only members' clicks are recorded."))
    kept = services.click_record(
        actor=request.auth, organization_ids=orgs, query_key=payload.query, item_key=payload.item, rank=payload.rank
    )
    if not kept:
        raise ValidationFailed({"item": [_("Not among the results shown to your organization for this query.")]})
    return Status(204, None)
