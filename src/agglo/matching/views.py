"""Matching pages: the explained matches panel of a listing, suggested partners, and opening a result."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from agglo.access import policy
from agglo.common.errors import NotFound
from agglo.market.lifecycle import Side
from agglo.market.selectors import listing_get, segment_names
from agglo.matching import selectors, services
from agglo.registry.models import Organization


@login_required
def listing_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """Counterparts of one of the user's listings: listings of the other side, then organizations."""
    try:
        listing = listing_get(actor=request.user, pk=pk)
        other = "offers" if listing.side == Side.NEED else "needs"
        listings = selectors.matches_for_listing(actor=request.user, listing=listing, target=other)
        orgs = selectors.matches_for_listing(actor=request.user, listing=listing, target="organizations", limit=5)
    except NotFound as exc:
        raise Http404 from exc
    for results in (listings, orgs):
        services.impressions_record(
            actor=request.user,
            organization_id=listing.organization_id,
            query_key=listing.pk,
            shown=[(r.key, r.match.score) for r in results],
        )
    context = {
        "listing": listing,
        "listings": listings,
        "orgs": orgs,
        "query_key": listing.pk,
        # a listing that names no segment is matched on its organization's chain positions: said, not hidden
        "assumed_segments": [] if listing.segments else segment_names(listing.organization.segment_list),
    }
    return render(request, "matching/partials/panel.html", context)


@login_required
def partners_page(request: HttpRequest) -> HttpResponse:
    """Suggested partners for each organization the user belongs to."""
    orgs = Organization.objects.filter(
        pk__in=policy.active_organization_ids(request.user), status=Organization.Status.MEMBER
    ).order_by("name_zh")
    sections = []
    for org in orgs:
        results = selectors.partners_for_organization(actor=request.user, organization=org)
        services.impressions_record(
            actor=request.user,
            organization_id=org.pk,
            query_key=-org.pk,
            shown=[(r.key, r.match.score) for r in results],
        )
        sections.append((org, results, -org.pk))
    return render(request, "matching/partners.html", {"sections": sections})


@login_required
@require_http_methods(["GET", "POST"])
def open_result(request: HttpRequest) -> HttpResponse:
    """POST (sent by the results page as a member opens one): record it, 204. GET (an older link): go to the
    result without recording anything, since a GET can be set off from another site."""
    sent = request.POST if request.method == "POST" else request.GET
    try:
        item = int(sent.get("item", ""))
        query = int(sent["q"]) if sent.get("q") else None
        rank = int(sent["rank"]) if sent.get("rank") else None
    except ValueError as exc:
        raise Http404 from exc
    if any(abs(v) >= 2**31 for v in (item, query or 0, rank or 0)):  # no listing's, query's or rank's key
        raise Http404
    if request.method == "POST":
        orgs = policy.active_organization_ids(request.user)
        services.click_record(actor=request.user, organization_ids=orgs, query_key=query, item_key=item, rank=rank)
        return HttpResponse(status=204)
    # Keys name listings by id and organizations by negated id; the target is built here, never taken as given.
    return redirect(f"/market/{item}/" if item > 0 else f"/organizations/{-item}/")
