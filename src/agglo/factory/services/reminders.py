"""Reminders before an answer is due: a factory's offers it has not answered, a buyer's counter-offers it has not
decided on. Unanswered, an offer expires and its order is planned without it (`jobs.offers_expire`); a reminder
once, some hours before, gives the other side a last chance to answer."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import ngettext_lazy

from agglo.access import policy
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.factory.models import Allocation, Order
from agglo.factory.services.telling import tell_factory

# How long before its deadline an answer is reminded of. Most answer windows are a day or more
# (`replan.answer_deadline`); one shorter than twice this gets no reminder. Open offers keep `updated_at` from when
# they were made (a re-plan that keeps one, or a reminder, leaves it), so it says when the answer was asked for.
REMIND_HOURS = 12


def offers_remind(*, now: dt.datetime | None = None) -> int:
    """Remind factories of offers, and buyers of counter-offers, whose answer is due within REMIND_HOURS: once per
    deadline, one notice per order for each side. Returns how many pieces of work were reminded of."""
    now = now or timezone.now()
    waiting = Allocation.objects.filter(
        Q(reminded_by__isnull=True) | ~Q(reminded_by=F("respond_by")),
        # an answer given less than twice that (work offered for the week under way) would be reminded of soon
        # after its notice: the notice of the offer or counter-offer is its reminder
        Q(respond_by__gte=F("updated_at") + dt.timedelta(hours=2 * REMIND_HOURS)),
        status__in=(Allocation.Status.OFFERED, Allocation.Status.COUNTERED),
        respond_by__gte=now,
        respond_by__lte=now + dt.timedelta(hours=REMIND_HOURS),
    ).exclude(order__status__in=Order.CLOSED)
    with transaction.atomic():
        # Offers another transaction holds (an answer, a re-plan, a cancel) are left for the next round: a reminder
        # waits for none, so it cannot close a cycle of waits with them (review 99), and of two rounds at once
        # each reminds of different work.
        due = {
            pk: _side(status, order, factory)
            for pk, status, order, factory in waiting.values_list("pk", "status", "order_id", "factory_id")
        }
        locked = list(
            waiting.select_related("order").select_for_update(of=("self",), skip_locked=True).order_by("order_id", "pk")
        )
        # a notice covers all of one side's work on an order: where part of it was locked, none is reminded of now
        # (the next round takes it whole), rather than the rest now and that part in a second notice (review 103)
        taken = {a.pk for a in locked}
        partial = {side for pk, side in due.items() if pk not in taken}
        rows = [a for a in locked if _side(a.status, a.order_id, a.factory_id) not in partial]
        offers: dict[tuple[Order, int], list[Allocation]] = defaultdict(list)
        counters: dict[Order, list[Allocation]] = defaultdict(list)
        for a in rows:
            if a.status == Allocation.Status.OFFERED:
                offers[a.order, a.factory_id].append(a)
            else:
                counters[a.order].append(a)
        for (order, factory_id), pieces in offers.items():
            tell_factory(factory_id, "factory.offer_reminder", _reminder(OFFERS, order, pieces))
        for order, pieces in counters.items():
            notify(
                policy.organization_admins(order.buyer_id),
                verb="factory.counter_reminder",
                text=_reminder(COUNTERS, order, pieces),
                link=f"/factory/orders/{order.pk}/",
            )
        # a reminder changes nothing of the work: its `updated_at` stays, so an ERP's sync does not bring it again
        Allocation.objects.filter(pk__in=[a.pk for a in rows]).update(
            reminded_by=F("respond_by"), updated_at=F("updated_at")
        )
    return len(rows)


def _side(status: str, order_id: int, factory_id: int) -> tuple[int, int | None]:
    """Whose reminder a piece of work is in: the factory's of its offers on the order, or the buyer's of the order's
    counter-offers."""
    return (order_id, factory_id if status == Allocation.Status.OFFERED else None)


OFFERS = ngettext_lazy(
    "%(n)d offer to you on order %(product)s still awaits your answer, due by %(deadline)s. Unanswered, it "
    "expires and the order is planned without you.",
    "%(n)d offers to you on order %(product)s still await your answer, the first due by %(deadline)s. "
    "Unanswered, they expire and the order is planned without you.",
    "n",
)
COUNTERS = ngettext_lazy(
    "%(n)d counter-offer on order %(product)s still awaits your decision, due by %(deadline)s. Undecided, it "
    "lapses and that work is planned again.",
    "%(n)d counter-offers on order %(product)s still await your decision, the first due by %(deadline)s. "
    "Undecided, they lapse and that work is planned again.",
    "n",
)


def _reminder(message: Any, order: Order, pieces: list[Allocation]) -> Phrase:
    first = min(a.respond_by for a in pieces)
    return Phrase(
        message,
        n=len(pieces),
        product=order.product,
        deadline=timezone.localtime(first).strftime("%Y-%m-%d %H:%M"),
    )
