"""Every read of the registry, already restricted to what the actor may see."""

from agglo.registry.accounts import email_in_use
from agglo.registry.selectors.admission import (
    admission_by_token,
    admission_get,
    admission_list,
    earlier_applications,
    flagged_applications,
    same_email_open,
)
from agglo.registry.selectors.chains import chain_get, chain_list, chain_map, segment_list
from agglo.registry.selectors.directory import DirectoryFilters, DirectoryPage, organization_search
from agglo.registry.selectors.organizations import (
    cluster_stats,
    contacts_visible,
    organization_get,
    organization_list,
    partner_ids,
    position_list,
    relation_list,
)
from agglo.registry.selectors.regions import (
    code_issued_elsewhere,
    code_province_mismatch,
    region_get,
    region_list,
    region_names,
)

__all__ = [
    "DirectoryFilters",
    "DirectoryPage",
    "admission_by_token",
    "admission_get",
    "email_in_use",
    "admission_list",
    "earlier_applications",
    "same_email_open",
    "flagged_applications",
    "chain_get",
    "code_issued_elsewhere",
    "code_province_mismatch",
    "chain_list",
    "chain_map",
    "cluster_stats",
    "contacts_visible",
    "organization_get",
    "organization_list",
    "organization_search",
    "partner_ids",
    "position_list",
    "region_get",
    "region_list",
    "region_names",
    "relation_list",
    "segment_list",
]
