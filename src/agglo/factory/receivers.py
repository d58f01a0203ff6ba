"""An organization that stops being a member in good standing has its factories' open work re-planned, and, once
withdrawn, its open orders called off, when its status change commits (`services.departures`); `agglo housekeeping`
sweeps again for any change this missed (a bulk update, a task that failed). A buyer suspended, or reinstated, has
the factories working on its open orders told."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from agglo.factory.models import Allocation, Order
from agglo.factory.services.departures import departed_buyers_orders, departed_work
from agglo.factory.tasks import buyer_status_task, departures_task
from agglo.registry.models import Organization
from agglo.registry.signals import organization_status_changed


def _organization_saved(sender: Any, instance: Organization, raw: bool = False, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if raw or instance.status == Organization.Status.MEMBER or (fields is not None and "status" not in fields):
        return
    if departed_work([instance.pk]).exists() or departed_buyers_orders([instance.pk]).exists():
        ids = [instance.pk]
        transaction.on_commit(lambda: departures_task.enqueue(ids))


def _status_changed(sender: Any, organization: Organization, before: str, after: str, **kwargs: Any) -> None:
    suspended = Organization.Status.SUSPENDED
    if before == after or suspended not in (before, after) or Organization.Status.WITHDRAWN in (before, after):
        return  # only a suspension, or its end: a withdrawal calls the orders off instead
    work = Allocation.objects.filter(order__buyer_id=organization.pk).exclude(order__status__in=Order.CLOSED)
    if work.exclude(factory_id=organization.pk).exists():
        pk, now_suspended = organization.pk, after == suspended
        transaction.on_commit(lambda: buyer_status_task.enqueue(pk, now_suspended))


def connect() -> None:
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="factory.organization_saved")
    organization_status_changed.connect(_status_changed, dispatch_uid="factory.organization_status_changed")
