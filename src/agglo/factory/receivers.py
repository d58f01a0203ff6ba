"""What the virtual factory does when `organization_set_status` changes a member's status, once that commits
(`services.departures`, as tasks): an organization no longer in good standing has its factories' open work
re-planned and, once withdrawn, its open orders called off; `agglo housekeeping` sweeps again for any change this
missed (a bulk update, a task that failed). A buyer suspended, or reinstated, has the factories working on its open
orders told; a member reinstated is told what was taken back while it was away and stays with others."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from agglo.factory.models import Allocation, Capability, Order
from agglo.factory.services.capacity import planning_turn
from agglo.factory.services.departures import departed_buyers_orders, departed_work, reinstated_tell
from agglo.factory.tasks import buyer_status_task, departures_task
from agglo.registry.models import Organization
from agglo.registry.signals import organization_status_changed


def _status_changed(
    sender: Any, organization: Organization, before: str, after: str, since: Any = None, **kwargs: Any
) -> None:
    if after == Organization.Status.MEMBER:
        reinstated_tell(organization.pk, since=since)
    pk, left = organization.pk, (Organization.Status.SUSPENDED, Organization.Status.WITHDRAWN)
    if after in left:
        # A plan under way on one of its processes read it in good standing and may hand it work (a delay's repair
        # offering the late part elsewhere, review 119) that commits after this change: wait for those plans first,
        # so that what they handed it is found below and taken back, and any plan after reads it suspended. The
        # turns come after the organization's row, as a plan's come after its order's (`capacity.planning_turn`).
        planning_turn(Capability.objects.filter(organization_id=pk).values_list("process_id", flat=True))
    if after in left and (departed_work([pk]).exists() or departed_buyers_orders([pk]).exists()):
        transaction.on_commit(lambda: departures_task.enqueue([pk]))
    # a suspension, or its end, told to the factories working for the buyer (a withdrawal calls its orders off)
    if Organization.Status.SUSPENDED in (before, after) and Organization.Status.WITHDRAWN not in (before, after):
        work = Allocation.objects.filter(order__buyer_id=pk).exclude(order__status__in=Order.CLOSED)
        if work.exclude(factory_id=pk).exists():
            now_suspended = after == Organization.Status.SUSPENDED
            transaction.on_commit(lambda: buyer_status_task.enqueue(pk, now_suspended))


def connect() -> None:
    organization_status_changed.connect(_status_changed, dispatch_uid="factory.organization_status_changed")
