"""Who hears what about the work in an order: the buyer (`tell_buyer`) and the factories serving it
(`tell_factory`), each in their own language."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext_lazy

from agglo.access import policy
from agglo.common.language import Joined, Phrase
from agglo.common.notify import notify
from agglo.factory.models import Allocation, Capability
from agglo.registry.models.bilingual import Bilingual

WEEK_SEPARATOR = pgettext_lazy("between weeks", ", ")


def weeks_listed(weeks: Iterable[dt.date]) -> Joined:
    """Weeks in order, as the reader's language lists them ("2026-12-07、2026-12-14")."""
    return Joined((w.isoformat() for w in sorted(weeks)), WEEK_SEPARATOR)


def named(allocation: Allocation) -> Bilingual:
    """The factory, by name in each reader's language: the buyer sees who serves its order on the plan anyway."""
    return Bilingual(allocation.factory.name_zh, allocation.factory.name_en)


def clipped(text: str, most: int = 200) -> str:
    """Someone's words quoted in a notice, at most `most` characters, with "…" where they were cut."""
    return text if len(text) <= most else text[: most - 1] + "…"


def delivery_named(allocation: Allocation) -> dict[str, Any]:
    """What names a delivery in a notice: an order may have several from one factory."""
    return {
        "q": allocation.quantity_done,
        "unit": allocation.operation.process.unit_for(allocation.quantity_done),
        "step": allocation.operation.seq,
        "product": allocation.order.product,
        "week": allocation.week.isoformat(),
    }


def tell_operators_moved_on(allocation: Allocation, *, by_buyer: bool) -> None:
    """A referred dispute moved on without the platform: the buyer settled it, or the factory has now answered."""
    message = (
        gettext_lazy(
            "The buyer settled the dispute over %(factory)s's %(q)d %(unit)s for step %(step)d of order %(product)s "
            "by confirming receipt: it needs no ruling any more."
        )
        if by_buyer
        else gettext_lazy(
            "%(factory)s answered the dispute over its %(q)d %(unit)s for step %(step)d of order %(product)s that "
            "the buyer referred to the platform: both sides are now heard."
        )
    )
    notify(
        policy.operators(),
        verb="factory.dispute",
        text=Phrase(message, factory=named(allocation), **delivery_named(allocation)),
        link="/factory/disputes/",
    )


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


OVERTAKEN = {
    "taken": ngettext_lazy(
        "%(factory)s's week of %(week)s has since been taken by other work: its offer for step %(step)d of order "
        "%(product)s can no longer be accepted in full. Plan again, or wait for its answer.",
        "%(factory)s's weeks of %(week)s have since been taken by other work: its offers for step %(step)d of "
        "order %(product)s can no longer be accepted in full. Plan again, or wait for its answer.",
        "count",
    ),
    "lowered": ngettext_lazy(
        "%(factory)s lowered its capacity in the week of %(week)s: its offer for step %(step)d of order "
        "%(product)s can no longer be accepted in full. Plan again, or wait for its answer.",
        "%(factory)s lowered its capacity in the weeks of %(week)s: its offers for step %(step)d of order "
        "%(product)s can no longer be accepted in full. Plan again, or wait for its answer.",
        "count",
    ),
    "stopped": ngettext_lazy(
        "%(factory)s no longer offers the process of step %(step)d of order %(product)s: its offer for the week "
        "of %(week)s may not be accepted. Plan again, or wait for its answer.",
        "%(factory)s no longer offers the process of step %(step)d of order %(product)s: its offers for the "
        "weeks of %(week)s may not be accepted. Plan again, or wait for its answer.",
        "count",
    ),
}


def tell_offers_overtaken(
    capability: Capability,
    rooms: Mapping[dt.date, int],
    *,
    besides_order_id: int | None = None,
    why: str = "taken",
    before: Mapping[dt.date, int] | None = None,
) -> None:
    """Only acceptance reserves capacity: once accepted work fills a factory's week, or the factory lowers it (or
    stops offering the process), the offers there larger than the room left (`rooms`, by week) can no longer be
    accepted in full. Their buyers hear it now, not when the offer expires, so that they can plan again: one
    notice per order, naming its weeks. With the rooms `before` the change, only offers that fitted then are told
    (a second lowering of a week does not tell the same buyer again)."""
    larger = Q(pk__in=[])
    for week, room in rooms.items():
        newly = Q(quantity__lte=before[week]) if before is not None and week in before else Q()
        larger |= Q(week=week, quantity__gt=room) & newly
    stale = (
        Allocation.objects.filter(larger, capability=capability, status=Allocation.Status.OFFERED)
        .exclude(order_id=besides_order_id)
        .select_related("order", "factory", "operation")
        .order_by("order_id", "week", "pk")
    )
    by_order: dict[int, list[Allocation]] = defaultdict(list)
    for a in stale:
        by_order[a.order_id].append(a)
    for offers in by_order.values():
        a, weeks = offers[0], sorted({o.week for o in offers})
        tell_buyer(
            a,
            Phrase(
                OVERTAKEN[why],
                count=len(weeks),
                factory=named(a),
                week=weeks_listed(weeks),
                step=a.operation.seq,
                product=a.order.product,
            ),
        )
