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
from agglo.factory.models import Allocation, Capability, Order
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


def tell_offers_gone(order: Order, offered: set[int]) -> None:
    """Factories whose unanswered offers a re-plan took back, and that the new plan offers nothing."""
    still = set(order.allocations.filter(status=Allocation.Status.OFFERED).values_list("factory_id", flat=True))
    for factory in sorted(offered - still):
        tell_factory(
            factory,
            "factory.offer_withdrawn",
            Phrase(
                gettext_lazy("Order %(product)s was re-planned: the work offered to you is no longer needed."),
                product=order.product,
            ),
        )


def offer_piece(a: Allocation) -> Phrase:
    return Phrase(
        gettext_lazy("step %(step)d: %(n)d %(unit)s in the week of %(week)s"),
        step=a.operation.seq,
        n=a.quantity,
        unit=a.operation.process.unit,
        week=a.week.isoformat(),
    )


def _pieces(parts: list[Allocation]) -> Joined:
    """Each week's quantity of a factory's parts of one step, in week order."""
    weeks: dict[dt.date, int] = defaultdict(int)
    for p in parts:
        weeks[p.week] += p.quantity
    unit = parts[0].operation.process.unit
    return Joined(
        Phrase(gettext_lazy("%(n)d %(unit)s in the week of %(week)s"), n=n, unit=unit, week=week.isoformat())
        for week, n in sorted(weeks.items())
    )


# why a re-plan moved a factory's work, when the factory itself set it off (not "a factory declined its part"),
# naming the step it answered on, which may be another than the one moved
OWN_MOVE = {
    "declined": gettext_lazy("You declined part of step %(step)d."),
    "withdrawn": gettext_lazy("You withdrew part of step %(step)d."),
    "delayed": gettext_lazy("You reported part of step %(step)d late."),
}


def _own_why(reason: str, own_step: int | None) -> Phrase | None:
    return Phrase(OWN_MOVE[reason], step=own_step) if own_step is not None and reason in OWN_MOVE else None


def tell_moved(parts: list[Allocation], offered_again: list[Allocation], *, own_step: int | None = None) -> None:
    """Tell a factory its accepted work on one step was taken away by a re-plan, why (in the second person when
    the factory's own answer on step `own_step` set it off), and whether the same plan offers it work on that
    step again (then its part moved rather than went): one notice for all its parts, each week's quantity named."""
    a = parts[0]
    why: Any = Allocation.MovedBy(a.moved_by).label if a.moved_by else ""  # lazy: in each reader's language
    why = _own_why(a.moved_by, own_step) or why
    common = {"product": a.order.product, "step": a.operation.seq, "parts": _pieces(parts), "why": why}
    if all(p.promised_week and p.week > p.promised_week for p in parts):
        text = Phrase(
            gettext_lazy(
                "Order %(product)s was re-planned around the delay you reported: you need not make the late part; "
                "any new work for you comes as a new offer."
            ),
            product=a.order.product,
        )
    elif offered_again:
        text = Phrase(
            gettext_lazy(
                "Order %(product)s was re-planned: your accepted part of step %(step)d (%(parts)s) moves; the new "
                "plan offers you %(offers)s instead: answer on your job board. %(why)s"
            ),
            offers=_pieces(offered_again),
            **common,
        )
    else:
        text = Phrase(
            gettext_lazy(
                "Order %(product)s was re-planned: your accepted part of step %(step)d (%(parts)s) is no longer "
                "needed, and its capacity is free again. %(why)s"
            ),
            **common,
        )
    tell_factory(a.factory_id, "factory.superseded", text)


def tell_reduced(a: Allocation, was: int, reason: str, *, own_step: int | None = None) -> None:
    """Tell a factory the re-plan keeps only part of its accepted work in one week: the rest of its capacity there
    is free again, and the acceptance stands for the part kept."""
    why: Any = Allocation.MovedBy(reason).label if reason in Allocation.MovedBy.values else ""
    why = _own_why(reason, own_step) or why
    text = Phrase(
        gettext_lazy(
            "Order %(product)s was re-planned: your accepted part of step %(step)d in the week of %(week)s is "
            "reduced from %(was)d to %(now)d %(unit)s; your acceptance stands for that, and the capacity of the "
            "rest is free again. %(why)s"
        ),
        product=a.order.product,
        step=a.operation.seq,
        week=a.week.isoformat(),
        was=was,
        now=a.quantity,
        unit=a.operation.process.unit,
        why=why,
    )
    tell_factory(a.factory_id, "factory.reduced", text)
