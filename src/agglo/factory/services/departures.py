"""Members that stop being members in good standing (suspended by the operators, or withdrawn).

A factory's: plans offer it no new work (`selectors.planning`), but what it already held sat until something else
re-planned its order: offers it can no longer answer, counter-offers the buyer could still take, accepted work it can
no longer report on. Here that work is taken back and each order concerned re-planned at once. Work under way or
delivered stays its own: it is made, or being made, and the plan cannot move it.

A buyer's: a withdrawn buyer's open orders are called off, as a cancellation would (its people can no longer decide
on them, confirm receipt or pay), and its admins told which. A suspended buyer's orders stand, since the suspension
may be lifted; the factories working on them are told that the buyer cannot act meanwhile, and told again when it
can.

A member reinstated gets none of it back (others took the work on, the orders were settled as called off): its
admins are told what, and its capabilities are offered work again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy, ngettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.language import LISTED, Joined, Phrase
from agglo.common.models import AuditEvent
from agglo.common.notify import notify
from agglo.factory.diagnosis import Finding
from agglo.factory.models import Allocation, Order
from agglo.factory.services.capacity import order_turn, release
from agglo.factory.services.orders import call_off
from agglo.factory.services.replan import repaired, replan
from agglo.factory.services.telling import named, offer_piece, tell_factory
from agglo.factory.wording import finding_kept
from agglo.registry.models import Organization
from agglo.registry.models.bilingual import Bilingual

S = Allocation.Status
OPEN = (S.OFFERED, S.COUNTERED)


def departed_work(organization_ids: Iterable[int] | None = None) -> QuerySet[Allocation]:
    """Open offers and counter-offers, and accepted work not begun, of factories that are no longer members in
    good standing, on orders still open (of these organizations only, if given)."""
    work = Allocation.objects.filter(
        Q(status__in=OPEN) | Q(status=S.ACCEPTED, started=False, quantity_done=0),
        factory__status__in=(Organization.Status.SUSPENDED, Organization.Status.WITHDRAWN),
    ).exclude(order__status__in=Order.CLOSED)
    if organization_ids is not None:
        work = work.filter(factory_id__in=list(organization_ids))
    return work


def departed_buyers_orders(organization_ids: Iterable[int] | None = None) -> QuerySet[Order]:
    """Open orders of buyers that left the platform (of these organizations only, if given)."""
    orders = Order.objects.filter(buyer__status=Organization.Status.WITHDRAWN).exclude(status__in=Order.CLOSED)
    if organization_ids is not None:
        orders = orders.filter(buyer_id__in=list(organization_ids))
    return orders


def departures_replan(*, organization_ids: Iterable[int] | None = None, actor: Any = None) -> int:
    """Call off the open orders of buyers that left; then take back the departed factories' open offers and work
    not begun, and re-plan each order concerned; one transaction per order (as `offers_expire` does). Returns how
    many orders were called off or re-planned."""
    ids = None if organization_ids is None else sorted(set(organization_ids))
    count = 0
    called_off: dict[int, list[str]] = {}
    for order_id in sorted(departed_buyers_orders(ids).values_list("pk", flat=True)):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status in Order.CLOSED or not departed_buyers_orders(ids).filter(pk=order_id).exists():
                continue  # closed, or its buyer reinstated, meanwhile
            told = Phrase(
                gettext_lazy("Order %(product)s was called off: its buyer is no longer a member of the platform."),
                product=order.product,
            )
            call_off(order, entry=finding_kept(Finding("", "buyer_left")), told=told)
            record("factory.order_called_off", actor=actor, subject=order, organization_id=order.buyer_id)
            called_off.setdefault(order.buyer_id, []).append(order.product)
            count += 1
    for buyer_id, products in sorted(called_off.items()):  # one notice per buyer, naming its orders
        notify(
            policy.organization_admins(buyer_id),
            verb="factory.cancelled",
            text=Phrase(
                gettext_lazy(
                    "As your organization left the platform, its open orders were called off: %(orders)s. The "
                    "factories working on them were told."
                ),
                orders=Joined(products, most=LISTED),
            ),
            link="/factory/",
        )
    order_ids = sorted(set(departed_work(ids).values_list("order_id", flat=True)))
    for order_id in order_ids:
        with transaction.atomic():
            if _order_replanned(order_id, ids, actor):
                count += 1
    return count


def _order_replanned(order_id: int, organization_ids: list[int] | None, actor: Any) -> bool:
    # The order first, as every plan change locks it, then its processes' planning turn before any release.
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status in Order.CLOSED:
        return False
    order_turn(order)
    # read again under the locks: answered, delivered, or the organization reinstated meanwhile
    pieces = list(
        departed_work(organization_ids)
        .filter(order_id=order_id)
        .select_for_update(of=("self",))
        .select_related("capability", "operation__process", "factory")
        .order_by("factory_id", "operation__seq", "week")
    )
    if not pieces:
        return False
    for a in pieces:
        if a.status == S.ACCEPTED:
            release(a.capability, a.week, a.quantity)
    Allocation.objects.filter(pk__in=[a.pk for a in pieces]).update(
        status=S.SUPERSEDED, moved_by=Allocation.MovedBy.LEFT
    )
    factories = sorted({a.factory_id for a in pieces})
    first = {a.factory_id: a for a in reversed(pieces)}  # one piece names each factory
    order = replan(order, actor=actor, reason="left")
    record(
        "factory.factories_left",
        actor=actor,
        subject=order,
        payload={  # by name, as the history pages list them
            "factories": [{"id": f, "name": a.factory.name_zh or a.factory.name_en} for f, a in sorted(first.items())],
            "offers": sum(a.status in OPEN for a in pieces),
            "accepted": sum(a.status == S.ACCEPTED for a in pieces),
        },
        organization_id=order.buyer_id,
    )
    for factory_id in factories:
        mine = [a for a in pieces if a.factory_id == factory_id]
        tell_factory(
            factory_id,
            "factory.left",
            Phrase(
                gettext_lazy(
                    "Your organization is no longer a member in good standing, so your open offers and the work you "
                    "had not begun on order %(product)s (%(pieces)s) were taken back; the order is planned without "
                    "you."
                ),
                product=order.product,
                pieces=Joined((offer_piece(a) for a in mine), most=LISTED),
            ),
        )
    what = Phrase(
        ngettext_lazy(
            "%(factories)s can no longer serve order %(product)s (suspended, or gone from the platform): %(n)d part "
            "of their work not yet begun, offered or accepted, was taken back.",
            "%(factories)s can no longer serve order %(product)s (suspended, or gone from the platform): %(n)d parts "
            "of their work not yet begun, offered or accepted, were taken back.",
            "n",
        ),
        factories=Joined((named(first[f]) for f in sorted(first)), most=LISTED),
        product=order.product,
        n=len(pieces),
    )
    notify(
        policy.organization_admins(order.buyer_id),
        verb="factory.left",
        text=repaired(what, order),
        link=f"/factory/orders/{order.pk}/",
    )
    return True


def buyer_status_tell(organization_id: int, *, suspended: bool) -> int:
    """Tell the factories with open work on a buyer's open orders that the buyer was suspended (it cannot decide
    on counter-offers, confirm receipts or change its orders; their offers and accepted work stand) or, once
    reinstated, that it can act again. One notice per factory, naming its orders. Returns how many were told."""
    buyer = Organization.objects.get(pk=organization_id)
    if (buyer.status == Organization.Status.SUSPENDED) != suspended:
        return 0  # changed again before this ran: the later change tells
    live = (
        Allocation.objects.filter(
            Q(status__in=(*OPEN, S.ACCEPTED)) | Q(status=S.DELIVERED, receipt=""), order__buyer_id=organization_id
        )
        .exclude(order__status__in=Order.CLOSED)
        .exclude(factory_id=organization_id)
        .select_related("order")
        .order_by("order_id")
    )
    orders: dict[int, dict[int, str]] = {}
    for a in live:
        orders.setdefault(a.factory_id, {})[a.order_id] = a.order.product
    message = (
        gettext_lazy(
            "%(buyer)s, the buyer of %(orders)s, was suspended by the platform's operators: until it is reinstated "
            "it cannot decide on counter-offers, confirm receipts or change its orders. Your offers and accepted "
            "work stand."
        )
        if suspended
        else gettext_lazy(
            "%(buyer)s, the buyer of %(orders)s, is a member in good standing again and can act on its orders."
        )
    )
    for factory_id, products in sorted(orders.items()):
        tell_factory(
            factory_id,
            "factory.buyer_status",
            Phrase(
                message, buyer=Bilingual(buyer.name_zh, buyer.name_en), orders=Joined(products.values(), most=LISTED)
            ),
        )
    return len(orders)


def reinstated_tell(organization_id: int, *, since: dt.datetime | None) -> int:
    """Tell a member back in good standing what the virtual factory did not give back: its factories' work taken
    back while it was away (re-planned to others, it stays with them) and, had it left, its orders called off.
    Its capabilities are offered work again by themselves. Returns how many orders the notice names (0: none)."""
    after = Q() if since is None else Q(updated_at__gte=since)
    taken = (
        Allocation.objects.filter(
            after, factory_id=organization_id, status=S.SUPERSEDED, moved_by=Allocation.MovedBy.LEFT
        )
        .values_list("order__product", flat=True)
        .order_by("order_id")
        .distinct()
    )
    called = AuditEvent.objects.filter(event="factory.order_called_off", organization_id=organization_id)
    if since is not None:
        called = called.filter(occurred_at__gte=since)
    off = Order.objects.filter(pk__in=[int(i) for i in called.values_list("subject_id", flat=True)]).order_by("pk")
    products, cancelled = list(dict.fromkeys(taken)), list(off.values_list("product", flat=True))
    if products:
        tell_factory(
            organization_id,
            "factory.reinstated",
            Phrase(
                gettext_lazy(
                    "While your organization was not in good standing, your open offers and the work you had not "
                    "begun on %(orders)s were taken back and planned with other factories: that work stays with "
                    "them. Your capabilities are offered new work again."
                ),
                orders=Joined(products, most=LISTED),
            ),
        )
    if cancelled:
        notify(
            policy.organization_admins(organization_id),
            verb="factory.reinstated",
            text=Phrase(
                gettext_lazy(
                    "Your orders %(orders)s were called off when your organization left the platform, and stay "
                    "called off: place them again if you still need them."
                ),
                orders=Joined(cancelled, most=LISTED),
            ),
            link="/factory/",
        )
    return len(products) + len(cancelled)
