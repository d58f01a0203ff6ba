"""Row locks for the market's writes. A listing is locked before any of its responses, by every write that
changes either: answering, deciding on answers, closing and renewing wait for one another, and each reads again
what the other did instead of saving over it (review 53 R4)."""

from __future__ import annotations

from agglo.market.models import Interest, Listing


def listing_locked(listing: Listing) -> Listing:
    """The listing, read again in place under a lock held until the transaction ends."""
    listing.refresh_from_db(from_queryset=Listing.objects.select_for_update())
    return listing


def interest_locked(interest: Interest) -> Interest:
    """The response, read again in place under a lock taken after its listing's."""
    listing_locked(interest.listing)
    interest.refresh_from_db(from_queryset=Interest.objects.select_for_update())
    return interest
