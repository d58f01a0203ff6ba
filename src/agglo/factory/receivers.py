"""An organization that stops being a member in good standing has its factories' open work re-planned, and, once
withdrawn, its open orders called off, when its status change commits (`services.departures`); `agglo housekeeping`
sweeps again for any change this missed (a bulk update, a task that failed)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from agglo.factory.services.departures import departed_buyers_orders, departed_work
from agglo.factory.tasks import departures_task
from agglo.registry.models import Organization


def _organization_saved(sender: Any, instance: Organization, raw: bool = False, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if raw or instance.status == Organization.Status.MEMBER or (fields is not None and "status" not in fields):
        return
    if departed_work([instance.pk]).exists() or departed_buyers_orders([instance.pk]).exists():
        ids = [instance.pk]
        transaction.on_commit(lambda: departures_task.enqueue(ids))


def connect() -> None:
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="factory.organization_saved")
