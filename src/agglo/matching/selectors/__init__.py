"""Every read of the matching app, restricted to what the actor may see."""

from agglo.matching.selectors.engine import LIVE
from agglo.matching.selectors.events import behaviour_scores, event_list
from agglo.matching.selectors.matches import TARGETS, Result, matches_for_listing, partners_for_organization

__all__ = [
    "LIVE",
    "TARGETS",
    "Result",
    "behaviour_scores",
    "event_list",
    "matches_for_listing",
    "partners_for_organization",
]
