"""Every write to the professional database."""

from agglo.profiles.services.cases import (
    case_create,
    case_rate,
    case_update,
    participant_add,
    participant_confirm,
    participant_get,
    participant_update_input,
)
from agglo.profiles.services.catalogue import catalogue_load
from agglo.profiles.services.disclosure import disclosure_set
from agglo.profiles.services.facts import (
    evidence_add,
    evidence_remove,
    fact_create,
    fact_delete,
    fact_update,
    fact_verify,
    kind_named,
)
from agglo.profiles.services.imports import IMPORT_KINDS, ImportResult, RowError, import_file
from agglo.profiles.services.imports import size_check as import_size_check
from agglo.profiles.services.reminders import stale_reminders_send

__all__ = [
    "IMPORT_KINDS",
    "ImportResult",
    "RowError",
    "case_create",
    "case_rate",
    "case_update",
    "catalogue_load",
    "disclosure_set",
    "evidence_add",
    "evidence_remove",
    "fact_create",
    "fact_delete",
    "fact_update",
    "fact_verify",
    "import_file",
    "import_size_check",
    "kind_named",
    "participant_add",
    "participant_confirm",
    "participant_get",
    "participant_update_input",
    "stale_reminders_send",
]
