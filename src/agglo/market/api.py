"""REST endpoints of the market: needs and offers, their lifecycle, interest, and the owner's board."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Status

from agglo.common.errors import LoginRequired
from agglo.common.notify import notification_list, notifications_mark_read
from agglo.common.paging import Limit, Offset, page
from agglo.common.schemas import one_of, versioned
from agglo.common.versions import version_tag
from agglo.market import selectors, services
from agglo.market.models import Interest
from agglo.market.schemas import (
    KINDS,
    SIDES,
    CloseIn,
    DeclineIn,
    InterestIn,
    InterestOut,
    ListingIn,
    ListingOut,
    ListingPatch,
    MoveIn,
    NotificationOut,
    RenewIn,
    ReviewIn,
)
from agglo.registry.selectors import organization_get

router = Router(tags=["market"])


def _listing(request: HttpRequest, pk: int):
    return selectors.listing_get(actor=request.auth, pk=pk)


@router.get("/listings", response=list[ListingOut], summary="Needs and offers you may see")
def listing_list(
    request: HttpRequest,
    response: HttpResponse,
    side: Annotated[str, one_of(SIDES, blank=True, checked=True)] = "",
    kind: Annotated[str, one_of(KINDS, blank=True, checked=True)] = "",
    organization: int | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    rows = selectors.listing_list(actor=request.auth, side=side, kind=kind, organization_id=organization)
    return selectors.owners_revealed(request.auth, page(rows, response, limit=limit, offset=offset, narrow=True))


@router.post("/organizations/{int:org_id}/listings", response={201: ListingOut}, summary="Draft a need or offer")
def listing_create(request: HttpRequest, org_id: int, payload: ListingIn) -> Any:
    org = organization_get(actor=request.auth, pk=org_id)
    data = payload.dict(exclude_unset=True)
    return Status(201, services.listing_create(actor=request.auth, organization=org, data=data))


@router.get("/listings/{int:listing_id}", response=ListingOut, summary="One need or offer", openapi_extra=versioned())
def listing_get(request: HttpRequest, response: HttpResponse, listing_id: int) -> Any:
    """The `ETag` is the listing's version: send it back as `If-Match` with a change."""
    listing = _listing(request, listing_id)
    response["ETag"] = version_tag(listing)
    return listing


@router.patch(
    "/listings/{int:listing_id}",
    response=ListingOut,
    summary="Change a need or offer",
    openapi_extra=versioned(if_match=True),
)
def listing_update(request: HttpRequest, response: HttpResponse, listing_id: int, payload: ListingPatch) -> Any:
    """With `If-Match`, a listing changed since that version (a change, a review, a renewal) is not changed: 412."""
    listing = _listing(request, listing_id)
    changed = services.listing_update(
        actor=request.auth,
        listing=listing,
        data=payload.dict(exclude_unset=True),
        if_match=request.headers.get("If-Match"),
    )
    response["ETag"] = version_tag(changed)
    return changed


@router.post("/listings/{int:listing_id}/submit", response=ListingOut, summary="Publish (or send to review)")
def listing_submit(request: HttpRequest, listing_id: int) -> Any:
    return services.listing_submit(actor=request.auth, listing=_listing(request, listing_id))


@router.post("/listings/{int:listing_id}/review", response=ListingOut, summary="Approve or send back (operators)")
def listing_review(request: HttpRequest, listing_id: int, payload: ReviewIn) -> Any:
    listing = _listing(request, listing_id)
    return services.listing_review(actor=request.auth, listing=listing, approve=payload.approve, note=payload.note)


@router.post("/listings/{int:listing_id}/renew", response=ListingOut, summary="Keep it up for another period")
def listing_renew(request: HttpRequest, listing_id: int, payload: RenewIn) -> Any:
    return services.listing_renew(actor=request.auth, listing=_listing(request, listing_id), days=payload.days)


@router.post("/listings/{int:listing_id}/close", response=ListingOut, summary="Close with an outcome")
def listing_close(request: HttpRequest, listing_id: int, payload: CloseIn) -> Any:
    listing = _listing(request, listing_id)
    return services.listing_close(actor=request.auth, listing=listing, outcome=payload.outcome, note=payload.note)


@router.post("/listings/{int:listing_id}/interests", response={201: InterestOut}, summary="Express interest")
def interest_express(request: HttpRequest, listing_id: int, payload: InterestIn) -> Any:
    listing = _listing(request, listing_id)
    data = payload.dict(exclude_none=True)
    return Status(201, services.interest_express(actor=request.auth, listing=listing, data=data))


@router.get("/listings/{int:listing_id}/interests", response=list[InterestOut], summary="The owner's board")
def interest_board(request: HttpRequest, listing_id: int) -> Any:
    return list(selectors.interest_board(actor=request.auth, listing=_listing(request, listing_id)))


@router.get("/interests", response=list[InterestOut], summary="Interest your organizations expressed")
def my_interests(request: HttpRequest, response: HttpResponse, limit: Limit = 200, offset: Offset = 0) -> Any:
    return page(selectors.my_interests(actor=request.auth), response, limit=limit, offset=offset)


def _interest(request: HttpRequest, pk: int) -> Interest:
    return selectors.interest_get(actor=request.auth, pk=pk)


@router.post("/interests/{int:interest_id}/move", response=InterestOut, summary="Move on the board")
def interest_move(request: HttpRequest, interest_id: int, payload: MoveIn) -> Any:
    interest = _interest(request, interest_id)
    return services.interest_advance(actor=request.auth, interest=interest, status=payload.status)


@router.post("/interests/{int:interest_id}/accept", response=InterestOut, summary="Accept (identities revealed)")
def interest_accept(request: HttpRequest, interest_id: int) -> Any:
    return services.interest_accept(actor=request.auth, interest=_interest(request, interest_id))


@router.post("/interests/{int:interest_id}/decline", response=InterestOut, summary="Decline with a reason")
def interest_decline(request: HttpRequest, interest_id: int, payload: DeclineIn) -> Any:
    interest = _interest(request, interest_id)
    return services.interest_decline(actor=request.auth, interest=interest, reason=payload.reason)


@router.get("/notifications", response=list[NotificationOut], summary="Your notifications, newest first")
def notifications(
    request: HttpRequest, response: HttpResponse, unread: bool = False, limit: Limit = 100, offset: Offset = 0
) -> Any:
    _logged_in(request)
    return page(notification_list(user=request.auth, unread=unread), response, limit=limit, offset=offset)


@router.post("/notifications/read", response={204: None}, summary="Mark all your notifications read")
def notifications_read(request: HttpRequest) -> Any:
    _logged_in(request)
    notifications_mark_read(user=request.auth)
    return Status(204, None)


def _logged_in(request: HttpRequest) -> None:
    if not request.auth.is_authenticated:
        raise LoginRequired(_("Log in to read notifications."))
