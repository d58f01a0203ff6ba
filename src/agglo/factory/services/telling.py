"""Who hears what about the work in an order: the buyer (`tell_buyer`) and the factories serving it
(`tell_factory`), each in their own language."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.factory.models import Allocation, Capability
from agglo.registry.models.bilingual import Bilingual


def named(allocation: Allocation) -> Bilingual:
    """The factory, by name in each reader's language: the buyer sees who serves its order on the plan anyway."""
    return Bilingual(allocation.factory.name_zh, allocation.factory.name_en)


def tell_factory(factory_id: int, verb: str, text: Phrase) -> None:
    """Tell a factory's admins, each in their language, with a link to its job board."""
    notify(policy.organization_admins(factory_id), verb=verb, text=text, link="/factory/jobs/")


def tell_buyer(allocation: Allocation, text: Phrase) -> None:
    notify(
        policy.organization_admins(allocation.order.buyer_id),
        verb="factory.answer",
        text=text,
        link=f"/factory/orders/{allocation.order_id}/",
    )


def tell_offers_overtaken(
    capability: Capability, week: dt.date, room: int, *, besides_order_id: int | None = None, lowered: bool = False
) -> None:
    """Only acceptance reserves capacity: once accepted work fills a factory's week, or the factory lowers it, the
    offers there larger than the `room` left can no longer be accepted in full. Their buyers hear it now, not when
    the offer expires, so that they can plan again."""
    stale = (
        Allocation.objects.filter(capability=capability, week=week, status=Allocation.Status.OFFERED, quantity__gt=room)
        .exclude(order_id=besides_order_id)
        .select_related("order", "factory", "operation")
    )
    told: set[int] = set()
    for a in stale:
        if a.order_id in told:
            continue
        told.add(a.order_id)
        tell_buyer(
            a,
            Phrase(
                gettext_lazy(
                    "%(factory)s lowered its capacity in the week of %(week)s: its offer for step %(step)d of order "
                    "%(product)s can no longer be accepted in full. Plan again, or wait for its answer."
                )
                if lowered
                else gettext_lazy(
                    "%(factory)s's week of %(week)s has since been taken by other work: its offer for step %(step)d "
                    "of order %(product)s can no longer be accepted in full. Plan again, or wait for its answer."
                ),
                factory=named(a),
                week=a.week.isoformat(),
                step=a.operation.seq,
                product=a.order.product,
            ),
        )
