"""The job board: factories accept, decline or counter-offer the work a plan offers them, the buyer decides on
counter-offers, and unanswered offers expire. Declines and expiries re-plan the order at once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.factory.models import Allocation, FactoryMember, Order
from agglo.factory.selectors.orders import may_decide
from agglo.factory.services.capacity import free_in, order_turn, reserve
from agglo.factory.services.replan import (
    answer_deadline,
    confirm_if_complete,
    repaired,
    replan,
)
from agglo.factory.services.telling import (
    clipped,
    named,
    tell_buyer,
    tell_factory,
    tell_offers_overtaken,
)
from agglo.factory.services.work import (
    audit_step,
    buyer_not_in_good_standing,
    factory_member_only,
    factory_not_in_good_standing,
    locked,
    standing_refused,
)
from agglo.factory.validation import text, whole
from agglo.registry.services.standing import standing_held

ACTIONS = ("accept", "decline", "counter")
MAX_SHOWN = 1000  # offers named in one accept-all: more than any order's plan makes


def _join(allocation: Allocation) -> None:
    """The factory joins the order's virtual factory; whoever makes a last step of the route delivers."""
    order = allocation.order
    seq = allocation.operation.seq
    last = not any(seq in op.after for op in order.operations.all())
    member, _created = FactoryMember.objects.get_or_create(
        virtual_factory=order.virtual_factory,
        organization_id=allocation.factory_id,
        defaults={"role": FactoryMember.Role.FINAL if last else FactoryMember.Role.SUPPLIER},
    )
    if (last and member.role == FactoryMember.Role.SUPPLIER) or not member.active:
        member.role = FactoryMember.Role.FINAL if last else member.role
        member.active = True
        member.save(update_fields=["role", "active"])


def _tell_week_taken(allocation: Allocation) -> None:
    """Accepted work just took room in its week: other orders' offers there that no longer fit are told (those that
    did not fit before were told then)."""
    room, week = free_in(allocation.capability, allocation.week), allocation.week
    tell_offers_overtaken(
        allocation.capability,
        {week: room},
        besides_order_id=allocation.order_id,
        before={week: room + allocation.quantity},
    )


def _promise(allocation: Allocation) -> None:
    """The week the factory commits to: its scorecard measures delivery against it, even after a delay."""
    allocation.promised_week = allocation.week
    allocation.accepted_at = timezone.now()


@transaction.atomic
def allocation_respond(
    *,
    actor: Any,
    allocation: Allocation,
    action: str,
    quantity: Any = None,
    note: str = "",
    whole_step: bool = False,
) -> Allocation:
    """Accept (capacity is reserved), decline (the order is re-planned without this factory in that week of the
    step, or with `whole_step` in any week of it) or counter-offer a smaller quantity (the buyer decides) — before
    the answer deadline. The factory's standing is held first: a suspension committed meanwhile is seen, and one
    after takes back what this accepts."""
    standing_held([allocation.factory_id], actor=actor)
    allocation = locked(allocation, "capability", "operation")
    factory_member_only(actor, allocation)
    if action not in ACTIONS:
        raise ValidationFailed({"action": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(ACTIONS)}]})
    if allocation.status != Allocation.Status.OFFERED:
        # an offer the buyer's cancellation called off says so, not "replaced by a new plan"
        status = (
            _("the buyer cancelled the order")
            if allocation.moved_by == Allocation.MovedBy.CANCELLED or allocation.order.status == Order.Status.CANCELLED
            else allocation.get_status_display()
        )
        raise ValidationFailed({"action": [_("This offer is no longer open (%(status)s).") % {"status": status}]})
    if timezone.now() > allocation.respond_by:
        raise ValidationFailed({"action": [_("The answer deadline has passed.")]})
    errors: dict[str, list[str]] = {}
    note = text(note, "note", errors)
    # a value another answer would read is refused, not dropped: "accept 5" must not accept the whole offer
    if action != "counter" and quantity not in (None, ""):
        errors["quantity"] = [_("Only a counter-offer names a quantity: accepting takes the whole offer.")]
    if action != "decline" and whole_step:
        errors["whole_step"] = [_("Only a decline can cover every week of the step.")]
    amount = _counter_quantity(allocation, quantity, errors) if action == "counter" else 0
    if errors:  # every problem of the answer at once
        raise ValidationFailed(errors)
    order = allocation.order
    if action == "accept":
        if not reserve(allocation.capability, allocation.week, allocation.quantity):
            raise ValidationFailed(
                {
                    "action": [
                        _(
                            "Your free capacity in the week of %(week)s is %(free)d %(unit)s, and this work needs "
                            "%(n)d %(unit)s: free the week in your capacity calendar, counter-offer, or decline."
                        )
                        % {
                            "week": allocation.week,
                            "free": free_in(allocation.capability, allocation.week),
                            "n": allocation.quantity,
                            "unit": allocation.operation.process.unit,
                        }
                    ]
                }
            )
        allocation.status = Allocation.Status.ACCEPTED
        allocation.note = note
        _promise(allocation)
        allocation.save(update_fields=["status", "note", "promised_week", "accepted_at", "updated_at"])
        _join(allocation)
        audit_step(
            "accepted", actor, allocation, {"quantity": allocation.quantity, "week": allocation.week.isoformat()}
        )
        confirm_if_complete(order)
        _tell_week_taken(allocation)
        return allocation
    if action == "counter":
        allocation.status = Allocation.Status.COUNTERED
        allocation.counter_quantity = amount
        allocation.note = note
        allocation.respond_by = answer_deadline(allocation.week)  # now the buyer's turn; unanswered, the counter lapses
        allocation.save(update_fields=["status", "counter_quantity", "note", "respond_by", "updated_at"])
        audit_step("countered", actor, allocation, {"quantity": amount})
        tell_buyer(
            allocation,
            Phrase(
                gettext_lazy(
                    "%(factory)s offers %(n)d %(unit)s instead of %(m)d for step %(step)d of order %(product)s "
                    "(%(reason)s); decide by %(deadline)s."
                )
                if note
                else gettext_lazy(
                    "%(factory)s offers %(n)d %(unit)s instead of %(m)d for step %(step)d of order %(product)s; "
                    "decide by %(deadline)s."
                ),
                reason=clipped(note),
                factory=named(allocation),
                n=amount,
                unit=allocation.operation.process.unit,
                step=allocation.operation.seq,
                m=allocation.quantity,
                product=order.product,
                deadline=timezone.localtime(allocation.respond_by).strftime("%Y-%m-%d %H:%M"),
            ),
        )
        return allocation
    allocation.status = Allocation.Status.DECLINED
    allocation.note = note
    allocation.declined_step = bool(whole_step)
    allocation.save(update_fields=["status", "note", "declined_step", "updated_at"])
    payload = {"note": note, **({"whole_step": True} if whole_step else {})}
    log = audit_step("declined", actor, allocation, payload, log_later=True)
    order = replan(order, actor=actor, reason="declined", cause=allocation)
    log()  # after the solve: see `audit_step`
    declined = {
        (True, False): gettext_lazy("%(factory)s declined every week of step %(step)d of order %(product)s."),
        (False, False): gettext_lazy("%(factory)s declined its part of order %(product)s in the week of %(week)s."),
        (True, True): gettext_lazy(
            "%(factory)s declined every week of step %(step)d of order %(product)s (%(reason)s)."
        ),
        (False, True): gettext_lazy(
            "%(factory)s declined its part of order %(product)s in the week of %(week)s (%(reason)s)."
        ),
    }
    tell_buyer(
        allocation,
        repaired(
            Phrase(
                declined[bool(whole_step), bool(note)],  # in the factory's words, when it gave them
                factory=named(allocation),
                product=order.product,
                step=allocation.operation.seq,
                week=allocation.week.isoformat(),
                reason=clipped(note),
            ),
            order,
        ),
    )
    return allocation


@transaction.atomic
def offers_accept(*, actor: Any, order: Order, factory_id: Any, offers: Any = None) -> list[Allocation]:
    """A factory accepts at once every offer still open to it on one order, each as `allocation_respond` accepts
    it, or none: the first that cannot be is named by its step and week, and nothing is accepted. `offers`: the ids
    of the offers the factory was shown; when given, a different set open now (a re-plan meanwhile) is refused,
    so that no work is accepted unseen."""
    errors: dict[str, list[str]] = {}
    factory = whole({"factory": factory_id}, "factory", errors, low=1, high=2**31 - 1)
    shown = _offer_ids(offers, errors)
    if errors:
        raise ValidationFailed(errors)
    standing_held([factory], actor=actor)  # before the order, as `allocation_respond`
    if factory not in policy.active_organization_ids(actor):
        standing_refused(actor, factory, factory_not_in_good_standing())
        raise Forbidden(_("Only the factory this work was offered to may answer it or report on it."))
    list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))  # the order first
    # then its planning turn, before any capacity: each acceptance locks its capability, and two accept-alls
    # whose routes take one factory's processes in opposite orders deadlocked (review 106)
    order_turn(order)
    open_offers = list(
        order.allocations.filter(factory_id=factory, status=Allocation.Status.OFFERED)
        .select_related("operation", "factory")
        .order_by("operation__seq", "week", "pk")
    )
    if not open_offers:
        raise ValidationFailed({"action": [_("No offer to you on this order is open any more.")]})
    if shown is not None and shown != {a.pk for a in open_offers}:
        raise ValidationFailed(
            {
                "offers": [
                    ngettext(
                        "The offers to you on this order changed since they were shown (%(n)d is open now): look at "
                        "them again. Nothing was accepted.",
                        "The offers to you on this order changed since they were shown (%(n)d are open now): look "
                        "at them again. Nothing was accepted.",
                        len(open_offers),
                    )
                    % {"n": len(open_offers)}
                ]
            }
        )
    accepted = []
    for a in open_offers:
        try:
            accepted.append(allocation_respond(actor=actor, allocation=a, action="accept"))
        except ValidationFailed as exc:
            why = " ".join(str(e) for lines in exc.errors.values() for e in lines)
            raise ValidationFailed(
                {
                    "action": [
                        _("Step %(step)d in the week of %(week)s: %(why)s Nothing was accepted.")
                        % {"step": a.operation.seq, "week": a.week.isoformat(), "why": why}
                    ]
                }
            ) from exc
    return accepted


def _offer_ids(offers: Any, errors: dict[str, list[str]]) -> set[int] | None:
    """The ids of the offers a factory was shown (a list of whole numbers), or None when none were named."""
    if offers is None:
        return None
    items = offers if isinstance(offers, list | tuple) else [offers]
    if len(items) > MAX_SHOWN:
        errors["offers"] = [_("At most %(max)d offers at once.") % {"max": MAX_SHOWN}]
        return None
    ids = set()
    for item in items:
        n = whole({"offers": item}, "offers", errors, low=1, high=2**63 - 1)
        if "offers" in errors:
            return None
        ids.add(n)
    return ids


def _counter_quantity(allocation: Allocation, quantity: Any, errors: dict[str, list[str]]) -> int:
    """The quantity a counter-offer names, checked into `errors`: smaller than the offer, within the week's room."""
    amount = whole({"quantity": quantity}, "quantity", errors, low=1, high=allocation.quantity - 1)
    if allocation.quantity < 2:
        errors["quantity"] = [_("A counter-offer must be smaller than the offer; decline instead.")]
    elif "quantity" not in errors and amount > (room := free_in(allocation.capability, allocation.week)):
        # the buyer could only take it if the week had room: refuse it now, as an acceptance would be
        errors["quantity"] = [
            _("Your free capacity in the week of %(week)s is %(n)d %(unit)s: offer at most that, or decline.")
            % {"week": allocation.week, "n": room, "unit": allocation.operation.process.unit}
        ]
    return amount


@transaction.atomic
def counter_decide(*, actor: Any, allocation: Allocation, accept: bool) -> Allocation:
    """The buyer takes a counter-offer (the factory's smaller part is accepted, the rest re-planned) or not,
    before its deadline (after it, `offers_expire` lets the counter lapse). Taken, it is the factory's accepted
    work, so the factory's standing is held with the buyer's (review 116): a suspension committed meanwhile is
    seen, and one after takes back what this accepts."""
    # both standings in one sweep, then the order, as `order_plan` and `allocation_respond` take theirs
    held = standing_held([allocation.order.buyer_id, allocation.factory_id], actor=actor)
    allocation = locked(allocation, "capability")
    if not may_decide(actor, allocation.order):
        standing_refused(actor, allocation.order.buyer_id, buyer_not_in_good_standing())
        raise Forbidden(_("Only whoever placed the order, or an admin of the buyer, decides on a counter-offer."))
    if allocation.status != Allocation.Status.COUNTERED:
        raise ValidationFailed({"action": [_("There is no open counter-offer on this work.")]})
    if accept and held.get(allocation.factory_id) not in policy.PUBLIC_ORG_STATUSES:
        # its work is being taken back (`services.departures`): a suspended factory takes no new work
        raise ValidationFailed(
            {"action": [_("The factory is no longer a member in good standing: its counter-offer cannot be taken.")]}
        )
    if timezone.now() > allocation.respond_by:
        raise ValidationFailed({"action": [_("The time to decide on this counter-offer has passed.")]})
    order_turn(allocation.order)  # it re-plans: the turn before the reservation below (see `capacity.planning_turn`)
    if accept:
        amount = allocation.counter_quantity or 0
        if not reserve(allocation.capability, allocation.week, amount):
            raise ValidationFailed({"action": [_("The factory's week is no longer free for this quantity.")]})
        allocation.offered_quantity, allocation.quantity = allocation.quantity, amount
        allocation.status = Allocation.Status.ACCEPTED
        _promise(allocation)
        _join(allocation)
    else:
        allocation.status = Allocation.Status.DECLINED
    allocation.save(
        update_fields=["quantity", "offered_quantity", "status", "promised_week", "accepted_at", "updated_at"]
    )
    if accept:
        _tell_week_taken(allocation)
    event = "counter_taken" if accept else "counter_refused"
    log = audit_step(event, actor, allocation, {"quantity": allocation.quantity}, log_later=True)
    tell_factory(
        allocation.factory_id,
        "factory.counter_decided",
        Phrase(
            gettext_lazy(
                "The buyer took your counter-offer of %(n)d %(unit)s for step %(step)d of order %(product)s; it is "
                "accepted."
            )
            if accept
            else gettext_lazy(
                "The buyer refused your counter-offer of %(n)d %(unit)s for step %(step)d of order %(product)s."
            ),
            n=allocation.counter_quantity or 0,
            unit=allocation.operation.process.unit,
            step=allocation.operation.seq,
            product=allocation.order.product,
        ),
    )
    allocation.order = replan(allocation.order, actor=actor, reason="counter")
    log()  # after the solve: see `audit_step`
    return allocation


def offers_expire(*, now: dt.datetime | None = None) -> int:
    """Offers the factory did not answer by their deadline expire, and so do counter-offers the buyer did not
    decide on by theirs; each order concerned is re-planned without them. Returns how many lapsed."""
    now = now or timezone.now()
    waiting = [Allocation.Status.OFFERED, Allocation.Status.COUNTERED]
    order_ids = sorted(
        set(Allocation.objects.filter(status__in=waiting, respond_by__lt=now).values_list("order_id", flat=True))
    )
    count = 0
    for order_id in order_ids:
        with transaction.atomic():
            # The order first (as every job service locks it), so that a cancellation cannot slip in between.
            order = Order.objects.select_for_update().get(pk=order_id)
            if order.status in Order.CLOSED:
                continue
            order_turn(order)
            late = Allocation.objects.select_for_update().filter(
                order_id=order_id, status__in=waiting, respond_by__lt=now
            )
            rows = list(late)
            lapsed = [a.factory_id for a in rows if a.status == Allocation.Status.COUNTERED]
            silent = Counter(a.factory_id for a in rows if a.status == Allocation.Status.OFFERED)
            # an unanswered offer is the factory's silence, an undecided counter-offer the buyer's
            expired = late.filter(status=Allocation.Status.OFFERED).update(
                status=Allocation.Status.EXPIRED, updated_at=now
            )
            undecided = late.filter(status=Allocation.Status.COUNTERED).update(
                status=Allocation.Status.LAPSED, updated_at=now
            )
            if not expired + undecided:  # answered meanwhile
                continue
            count += expired + undecided
            record(
                "factory.offers_expired",
                actor=None,
                subject=order,
                payload={"at": now.isoformat(), "counter_offers": len(lapsed)},
                organization_id=order.buyer_id,
            )
            for factory in sorted(set(lapsed)):
                tell_factory(
                    factory,
                    "factory.counter_lapsed",
                    Phrase(
                        gettext_lazy(
                            "The buyer did not decide on your counter-offer for order %(product)s in time; it lapsed."
                        ),
                        product=order.product,
                    ),
                )
            for factory, n in sorted(silent.items()):  # its job board would say so only under "Earlier"
                tell_factory(
                    factory,
                    "factory.offer_expired",
                    Phrase(
                        ngettext_lazy(
                            "%(n)d offer to you on order %(product)s was not answered by its deadline and expired; "
                            "the order is planned again without it.",
                            "%(n)d offers to you on order %(product)s were not answered by their deadline and "
                            "expired; the order is planned again without them.",
                            "n",
                        ),
                        n=n,
                        product=order.product,
                    ),
                )
            order = replan(order, actor=None, reason="expired")
            notify(
                policy.organization_admins(order.buyer_id),
                verb="factory.offers_expired",
                text=repaired(_silence(order, expired, undecided), order),
                link=f"/factory/orders/{order.pk}/",
            )
    return count


def _silence(order: Order, expired: int, undecided: int) -> Phrase:
    """For the buyer: offers factories left unanswered, and counter-offers the buyer left undecided."""
    parts = [
        Phrase(
            ngettext_lazy(
                "%(n)d offer on order %(product)s was not answered in time.",
                "%(n)d offers on order %(product)s were not answered in time.",
                "n",
            ),
            n=expired,
            product=order.product,
        )
        if expired
        else None,
        Phrase(
            ngettext_lazy(
                "%(n)d counter-offer on order %(product)s that you had not decided on lapsed.",
                "%(n)d counter-offers on order %(product)s that you had not decided on lapsed.",
                "n",
            ),
            n=undecided,
            product=order.product,
        )
        if undecided
        else None,
    ]
    if expired and undecided:  # the order is named once
        parts[1] = Phrase(
            ngettext_lazy(
                "%(n)d counter-offer that you had not decided on lapsed as well.",
                "%(n)d counter-offers that you had not decided on lapsed as well.",
                "n",
            ),
            n=undecided,
        )
    said = [p for p in parts if p is not None]
    return said[0] if len(said) == 1 else Phrase(gettext_lazy("%(what)s %(outcome)s"), what=said[0], outcome=said[1])
