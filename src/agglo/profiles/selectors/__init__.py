"""Every read of the professional database, restricted to what the actor may see."""

from agglo.profiles.selectors.exports import EXPORT_KINDS, export_table
from agglo.profiles.selectors.facts import (
    capability_holders,
    capability_terms,
    case_count,
    case_get,
    case_key,
    case_list,
    case_visible,
    credit_headline,
    evidence_get,
    fact_get,
    fact_list,
    indicator_list,
)
from agglo.profiles.selectors.history import (
    access_log_list,
    can_read_access_log,
    history_events,
    history_list,
    history_shown,
    recent_changes,
)
from agglo.profiles.selectors.quality import quality_get
from agglo.profiles.visibility import can_see_group, disclosure_levels, visible_groups

__all__ = [
    "EXPORT_KINDS",
    "access_log_list",
    "can_read_access_log",
    "case_key",
    "can_see_group",
    "capability_holders",
    "capability_terms",
    "case_count",
    "case_get",
    "case_list",
    "case_visible",
    "credit_headline",
    "disclosure_levels",
    "evidence_get",
    "export_table",
    "fact_get",
    "fact_list",
    "history_events",
    "history_list",
    "history_shown",
    "indicator_list",
    "quality_get",
    "recent_changes",
    "visible_groups",
]
