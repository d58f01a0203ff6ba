"""A first agreement on the transparency log for the demo: the demo buyer's need, answered by a demo factory and
accepted, so `sme-admin` finds an entry and a receipt at /ledger/mine/."""

from __future__ import annotations

from typing import Any

from agglo.access.models import Membership
from agglo.common.errors import DomainError
from agglo.market import services as market
from agglo.market.models import Interest, Listing


def demo_agreement_ensure(buyer_admin: Any, factory_admin: Any) -> Interest | None:
    """Through the real services, once: a published need, an interest, and its acceptance (logged)."""
    buyer = Membership.objects.filter(user=buyer_admin, role=Membership.Role.ADMIN).first()
    factory = Membership.objects.filter(user=factory_admin, role=Membership.Role.ADMIN).first()
    if buyer is None or factory is None:
        return None
    title = "寻找工业网关外壳的精密加工伙伴"
    existing = Interest.objects.filter(listing__organization_id=buyer.organization_id, listing__title_zh=title).first()
    if existing is not None:
        return existing
    listing = Listing.objects.filter(organization_id=buyer.organization_id, title_zh=title).first()
    if listing is None:
        listing = market.listing_create(
            actor=buyer_admin,
            organization=buyer.organization,
            data={
                "side": "need",
                "kind": "capacity",
                "title_zh": title,
                "title_en": "Precision machining partner for industrial gateway housings",
                "description_zh": "每月约 2,000 件铝合金外壳，CNC 加工与表面处理，需 ISO 9001。",
            },
        )
        market.listing_submit(actor=buyer_admin, listing=listing)
    try:
        interest = market.interest_express(
            actor=factory_admin,
            listing=listing,
            data={"cooperation": "supply", "message": "我们有 5 轴 CNC 与阳极氧化产线，可月供 3,000 件。"},
        )
        return market.interest_accept(actor=buyer_admin, interest=interest)
    except DomainError:  # e.g. listings wait for review (AGGLO_MARKET_REVIEW): no demo agreement then
        return None
