"""Who learns what of a listing: an anonymous owner is not found by filtering on owners, and a responder not
taken up does not read what a listing later says to partners only."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.market import services as market

pytestmark = pytest.mark.django_db


def _listing(owner, org, **over):
    data = {
        "side": "need",
        "kind": "equipment",
        "title_zh": "求购二手冻干机",
        "description_zh": "需要一台冻干机。",
        "visibility": "members",
    }
    data.update(over)
    listing = market.listing_create(actor=owner, organization=org, data=data)
    market.listing_submit(actor=owner, listing=listing)
    return listing


def test_a_declined_responder_does_not_read_later_edits_of_a_listing_narrowed_to_partners(member_of):
    owner, owner_org = member_of("r24-owner")
    responder, _ = member_of("r24-responder")
    stranger, _ = member_of("r24-stranger")
    listing = _listing(owner, owner_org)
    interest = market.interest_express(
        actor=responder, listing=listing, data={"cooperation": "service", "message": "我们有一台"}
    )
    market.interest_decline(actor=owner, interest=interest, reason="不合适")
    # the owner narrows who sees it, then adds what only partners should read
    market.listing_update(
        actor=owner, listing=listing, data={"visibility": "partners", "description_zh": "机密：预算 80 万，交期 3 月"}
    )
    c_stranger, c_responder = Client(), Client()
    c_stranger.force_login(stranger)
    c_responder.force_login(responder)
    assert c_stranger.get(f"/api/v1/listings/{listing.pk}").status_code == 404
    r = c_responder.get(f"/api/v1/listings/{listing.pk}")
    assert r.status_code == 404, r.json().get("description_zh")


def test_an_anonymous_owner_cannot_be_found_by_filtering_listings_on_organizations(member_of):
    owner, owner_org = member_of("r24-anon-owner")
    other, other_org = member_of("r24-anon-other")
    member, _ = member_of("r24-anon-member")
    listing = _listing(owner, owner_org, anonymous=True)
    c = Client()
    c.force_login(member)
    assert c.get(f"/api/v1/listings/{listing.pk}").json()["organization_id"] is None
    found = {
        org.pk: [x["id"] for x in c.get(f"/api/v1/listings?organization={org.pk}").json()]
        for org in (owner_org, other_org)
    }
    assert found == {owner_org.pk: [], other_org.pk: []}, found


def test_pages_of_anonymous_listings_and_of_interests_cost_the_same_whatever_their_length(member_of):
    """Perf review 58: one query per anonymous listing (whether its owner is revealed to the reader) and one per
    interest (its organization's name) made a page of 500 cost hundreds of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    owner, owner_org = member_of("n1-owner")
    reader, reader_org = member_of("n1-reader")
    c = Client()
    c.force_login(reader)

    def queries(path):
        c.get(path)  # warmed (the session, cached reference data)
        with CaptureQueriesContext(connection) as done:
            assert c.get(path).status_code == 200
        return len(done)

    def add(n):
        for i in range(n):
            listing = _listing(owner, owner_org, anonymous=True, title_zh=f"求购设备{i}")
            market.interest_express(actor=reader, listing=listing, data={"cooperation": "service", "message": "有"})

    add(2)
    few = (queries("/api/v1/listings"), queries("/api/v1/interests"), queries("/market/"))
    add(10)
    many = (queries("/api/v1/listings"), queries("/api/v1/interests"), queries("/market/"))
    assert many == few, (few, many)
    # and the owner stays hidden from a reader whose interest it has not taken up
    assert {x["organization_id"] for x in c.get("/api/v1/listings").json() if x["title_zh"].startswith("求购设备")} == {
        None
    }


def test_pages_read_by_their_ids_first_hold_the_list_in_order(member_of):
    """The listings API and /market/ find a page's ids first and then read those rows: the pages still hold every
    listing once, in the list's order."""
    owner, owner_org = member_of("pg-owner")
    reader, _ = member_of("pg-reader")
    for i in range(7):
        _listing(owner, owner_org, title_zh=f"分页设备{i}")
    c = Client()
    c.force_login(reader)
    whole = [x["id"] for x in c.get("/api/v1/listings?limit=500").json()]
    paged = [
        x["id"] for offset in range(0, len(whole), 2) for x in c.get(f"/api/v1/listings?limit=2&offset={offset}").json()
    ]
    assert paged == whole and len(whole) >= 7
    page = c.get("/market/").content.decode()
    assert all(f"分页设备{i}" in page for i in range(7))
