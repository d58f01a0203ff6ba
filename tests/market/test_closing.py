"""Closing a listing settles the responses still open: each is declined and its sender told, and a responder keeps
reading the listing it answered (an anonymous owner stays unnamed to it)."""

from __future__ import annotations

import pytest

from agglo.common.errors import ValidationFailed
from agglo.common.models import Notification
from agglo.market import services as market

pytestmark = pytest.mark.django_db


def test_closing_declines_open_responses_tells_their_senders_and_keeps_the_listing_readable(member_of, client):
    owner, owner_org = member_of("closing-owner")
    responder, _responder_org = member_of("closing-responder")
    listing = market.listing_create(
        actor=owner,
        organization=owner_org,
        data={
            "side": "offer",
            "kind": "equipment",
            "title_zh": "出租三坐标测量机",
            "description_zh": "每周可用两天。",
            "anonymous": True,
        },
    )
    market.listing_submit(actor=owner, listing=listing)
    interest = market.interest_express(
        actor=responder, listing=listing, data={"cooperation": "service", "message": "我们需要测量一批壳体"}
    )
    market.listing_close(actor=owner, listing=listing, outcome="withdrawn")
    interest.refresh_from_db()
    assert interest.status == "declined" and interest.decided_at is not None
    told = Notification.objects.get(user=responder, verb="market.interest_lapsed")
    assert told.link == f"/market/{listing.pk}/"
    with pytest.raises(ValidationFailed):  # nothing is left to accept on the closed listing
        market.interest_accept(actor=owner, interest=interest)
    client.force_login(responder)
    page = client.get(told.link)
    assert page.status_code == 200 and "出租三坐标测量机" in page.content.decode()
    assert owner_org.name_zh not in page.content.decode()  # anonymous, and not accepted: still unnamed
