"""Every write to the market."""

from agglo.market.services.interests import (
    interest_accept,
    interest_advance,
    interest_case_draft,
    interest_decline,
    interest_express,
)
from agglo.market.services.listings import (
    listing_close,
    listing_create,
    listing_renew,
    listing_review,
    listing_submit,
    listing_update,
    listings_expire,
)

__all__ = [
    "interest_accept",
    "interest_advance",
    "interest_case_draft",
    "interest_decline",
    "interest_express",
    "listing_close",
    "listing_create",
    "listing_renew",
    "listing_review",
    "listing_submit",
    "listing_update",
    "listings_expire",
]
