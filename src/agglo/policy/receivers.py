"""Re-match a member the moment its data changes: any saved or deleted fact a rule can read schedules, after
the commit, one re-evaluation of every live policy for the organizations touched in that transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from agglo.policy.tasks import organizations_rematch_task
from agglo.profiles.models import CreditRating, FinancialStatement, IPAsset, OrganizationCapability
from agglo.profiles.signals import facts_imported
from agglo.registry.models import Organization, Position

# What eligibility facts are read from (see policy.selectors.facts).
WATCHED = (FinancialStatement, IPAsset, OrganizationCapability, CreditRating, Position)


class _Rematch:
    """The on-commit callback of one transaction, gathering the organizations it touched."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def __call__(self) -> None:
        organizations_rematch_task.enqueue(sorted(self.ids))


def rematch_after_commit(organization_ids: Iterable[int]) -> None:
    """Schedule one re-match per transaction; a rolled-back transaction drops it with its other callbacks."""
    ids = {i for i in organization_ids if i}
    if not ids:
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, callback, *_ in connection.run_on_commit:
            if isinstance(callback, _Rematch):
                callback.ids |= ids
                return
    callback = _Rematch()
    callback.ids |= ids
    transaction.on_commit(callback)


def _organization_saved(sender: Any, instance: Organization, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        rematch_after_commit([instance.pk])


def _fact_changed(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        rematch_after_commit([instance.organization_id])


def _facts_imported(sender: Any, organization_ids: Iterable[int], **kwargs: Any) -> None:
    rematch_after_commit(organization_ids)


def connect() -> None:
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="policy.organization_saved")
    for model in WATCHED:
        for signal in (post_save, post_delete):
            signal.connect(_fact_changed, sender=model, dispatch_uid=f"policy.{model.__name__}.{signal is post_save}")
    facts_imported.connect(_facts_imported, dispatch_uid="policy.facts_imported")
