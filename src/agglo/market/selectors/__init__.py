"""Every read of the market, restricted to what the actor may see."""

from agglo.market.selectors.listings import (
    interest_board,
    interest_get,
    listing_get,
    listing_list,
    my_interests,
    owner_revealed,
    owners_revealed,
    segment_names,
    term_names,
    visible,
)
from agglo.registry.selectors.regions import region_names

__all__ = [
    "interest_board",
    "interest_get",
    "listing_get",
    "listing_list",
    "my_interests",
    "owner_revealed",
    "owners_revealed",
    "region_names",
    "segment_names",
    "term_names",
    "visible",
]
