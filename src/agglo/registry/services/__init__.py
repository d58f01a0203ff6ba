"""Every write to the registry: organizations, positions, relations, reference data, admission."""

from agglo.registry.services.admission import (
    admission_apply,
    admission_approve,
    admission_check,
    admission_reject,
    admission_request_info,
    admission_respond,
)
from agglo.registry.services.organizations import (
    organization_create,
    organization_create_checked,
    organization_update,
    organization_update_checked,
    position_add,
    position_remove,
    relation_add,
    relation_remove,
)
from agglo.registry.services.reference import chain_link_add, reference_data_load
from agglo.registry.services.standing import organization_set_status

__all__ = [
    "admission_apply",
    "admission_check",
    "admission_approve",
    "admission_reject",
    "admission_request_info",
    "admission_respond",
    "chain_link_add",
    "organization_create",
    "organization_create_checked",
    "organization_set_status",
    "organization_update",
    "organization_update_checked",
    "position_add",
    "position_remove",
    "reference_data_load",
    "relation_add",
    "relation_remove",
]
