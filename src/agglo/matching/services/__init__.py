"""Every write of the matching app: the stored index and the behaviour log."""

from agglo.matching.services.events import click_record, impressions_record, interest_recorded
from agglo.matching.services.index import documents_refresh, index_rebuild, index_sync, listings_changed

__all__ = [
    "click_record",
    "documents_refresh",
    "impressions_record",
    "index_rebuild",
    "index_sync",
    "interest_recorded",
    "listings_changed",
]
