"""The job board: factories accept, decline or counter-offer the work a plan offers them, withdraw from it, and
report its execution. Declines and withdrawals re-plan the order at once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.factory.models import Allocation, FactoryMember, Operation, Order
from agglo.factory.selectors.planning import horizon
from agglo.factory.services.capacity import free_in, release, reserve
from agglo.factory.services.replan import (
    answer_deadline,
    confirm_if_complete,
    finish_if_delivered,
    repaired,
    replan,
)
from agglo.factory.services.telling import (
    clipped,
    delivery_named,
    named,
    tell_buyer,
    tell_factory,
    tell_offers_overtaken,
    tell_operators_moved_on,
)
from agglo.factory.validation import text, whole
from agglo.ledger.entries import sealed_facts
from agglo.ledger.services import entry_append, work_key

ACTIONS = ("accept", "decline", "counter")


def locked(allocation: Allocation, *related: str) -> Allocation:
    """The allocation, locked after its order: every service that changes a plan locks the order first, so that
    two of them never wait for each other."""
    list(Order.objects.select_for_update().filter(pk=allocation.order_id).values_list("pk", flat=True))
    return Allocation.objects.select_for_update(of=("self",)).select_related("order", *related).get(pk=allocation.pk)


def factory_member_only(actor: Any, allocation: Allocation) -> None:
    if allocation.factory_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the factory this work was offered to may answer it or report on it."))


# What an entry says of the work besides its allocation's own terms (texts included), all sealed.
SEALED_FACTS = ("done", "defects", "delivered_on", "from", "to", "defects_found", "reason", "reply", "ruling")
# Steps that bind buyer and factory, and so go on the transparency log too.
LOGGED = {
    "accepted",
    "counter_taken",
    "withdrawn",
    "delayed",
    "delivered",
    "received",
    "disputed",
    "dispute_answered",
    "dispute_referred",
    "dispute_ruled",
}
BUYER_STEPS = {"counter_taken", "received", "disputed"}


def audit_step(event: str, actor: Any, allocation: Allocation, payload: dict[str, Any], *, by: str = "") -> None:
    """Record a step on the work; those in LOGGED also go on the transparency log, named by who took it: `by`
    "buyer", "factory" or "platform" (an operator), else the buyer for its steps and the factory for the rest."""
    record(
        f"factory.allocation_{event}",
        actor=actor,
        subject=allocation,
        payload=payload,
        organization_id=allocation.factory_id,
    )
    if event in LOGGED:
        buyer = allocation.order.buyer_id
        work_key(allocation)
        facts = {
            "order": allocation.order_id,
            "buyer": buyer,
            "factory": allocation.factory_id,
            "process": allocation.operation.process_id,
            "quantity": allocation.quantity,
            "week": allocation.week.isoformat(),
            **{k: v for k, v in payload.items() if k in SEALED_FACTS},
        }
        # The log is public, but who supplies whom, how much, when and how well is the buyer's and the factory's
        # business (the pages show a factory only its own part): every fact and the acting organization go in as
        # keyed digests, which the two parties can check with the allocation's `text_key`. Each fact is sealed
        # with its name ("quantity:300"), so that equal values do not show as equal digests (a complete
        # delivery, a receipt that agrees with the factory's count).
        by = by or ("buyer" if event in BUYER_STEPS else "factory")
        acting = {"buyer": buyer, "factory": allocation.factory_id, "platform": None}[by]
        entry_append(
            f"factory.allocation_{event}",
            actor=actor,
            acting_org=acting,
            sealed_with=allocation.text_key,
            subject=allocation,
            payload={
                **sealed_facts(facts, allocation.text_key),
                **{k: v for k, v in payload.items() if k in ("settled", "whole_step", "upheld")},
            },
            parties=[buyer, allocation.factory_id],
        )


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
    the answer deadline."""
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
    if errors:
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
        errors: dict[str, list[str]] = {}
        amount = whole({"quantity": quantity}, "quantity", errors, low=1, high=allocation.quantity - 1)
        if allocation.quantity < 2:
            errors["quantity"] = [_("A counter-offer must be smaller than the offer; decline instead.")]
        elif "quantity" not in errors and amount > (room := free_in(allocation.capability, allocation.week)):
            # the buyer could only take it if the week had room: refuse it now, as an acceptance would be
            errors["quantity"] = [
                _("Your free capacity in the week of %(week)s is %(n)d %(unit)s: offer at most that, or decline.")
                % {"week": allocation.week, "n": room, "unit": allocation.operation.process.unit}
            ]
        if errors:
            raise ValidationFailed(errors)
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
    audit_step("declined", actor, allocation, {"note": note, **({"whole_step": True} if whole_step else {})})
    order = replan(order, actor=actor, reason="declined", cause=allocation)
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
def counter_decide(*, actor: Any, allocation: Allocation, accept: bool) -> Allocation:
    """The buyer takes a counter-offer (the factory's smaller part is accepted, the rest re-planned) or not,
    before its deadline (after it, `offers_expire` lets the counter lapse)."""
    allocation = locked(allocation, "capability")
    if allocation.order.buyer_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the buyer decides on a counter-offer."))
    if allocation.status != Allocation.Status.COUNTERED:
        raise ValidationFailed({"action": [_("There is no open counter-offer on this work.")]})
    if timezone.now() > allocation.respond_by:
        raise ValidationFailed({"action": [_("The time to decide on this counter-offer has passed.")]})
    if accept:
        amount = allocation.counter_quantity or 0
        if not reserve(allocation.capability, allocation.week, amount):
            raise ValidationFailed({"action": [_("The factory's week is no longer free for this quantity.")]})
        allocation.quantity = amount
        allocation.status = Allocation.Status.ACCEPTED
        _promise(allocation)
        _join(allocation)
    else:
        allocation.status = Allocation.Status.DECLINED
    allocation.save(update_fields=["quantity", "status", "promised_week", "accepted_at", "updated_at"])
    if accept:
        _tell_week_taken(allocation)
    audit_step("counter_taken" if accept else "counter_refused", actor, allocation, {"quantity": allocation.quantity})
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
    return allocation


def withdraw_check(*, actor: Any, allocation: Allocation, reason: str) -> str:
    """Whether `actor` may withdraw from `allocation` for `reason` (the page asks before it withdraws); the reason,
    trimmed."""
    if allocation.factory_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the factory that accepted this work may withdraw from it."))
    errors: dict[str, list[str]] = {}
    reason = text(reason, "reason", errors, missing=_("Say why, so that the buyer can plan around it."))
    if errors:
        raise ValidationFailed(errors)
    if allocation.status != Allocation.Status.ACCEPTED or allocation.quantity_done:
        raise ValidationFailed({"action": [_("Only accepted work that has not been produced yet can be withdrawn.")]})
    return reason


@transaction.atomic
def allocation_withdraw(*, actor: Any, allocation: Allocation, reason: str) -> Allocation:
    """A factory gives back work it accepted; capacity is released and the rest of the plan is repaired."""
    allocation = locked(allocation, "capability")
    reason = withdraw_check(actor=actor, allocation=allocation, reason=reason)
    allocation.status = Allocation.Status.WITHDRAWN
    allocation.note = reason
    allocation.save(update_fields=["status", "note", "updated_at"])
    release(allocation.capability, allocation.week, allocation.quantity)
    order = allocation.order
    audit_step("withdrawn", actor, allocation, {"reason": reason})
    order = replan(order, actor=actor, reason="withdrawn", cause=allocation)
    tell_buyer(
        allocation,
        repaired(
            Phrase(
                gettext_lazy(
                    "%(factory)s withdrew its %(n)d %(unit)s of step %(step)d of order %(product)s in the week of "
                    "%(week)s (%(reason)s)."
                ),
                factory=named(allocation),
                n=allocation.quantity,
                unit=allocation.operation.process.unit,
                step=allocation.operation.seq,
                product=order.product,
                week=allocation.week.isoformat(),
                reason=clipped(reason),
            ),
            order,
        ),
    )
    return allocation


@transaction.atomic
def allocation_progress(*, actor: Any, allocation: Allocation, data: dict[str, Any]) -> Allocation:
    """Report execution: started, quantity done, defective units, delivered on a date. Delivered work counts in
    the factory's scorecard (on time, defect rate), which the solver reads as risk."""
    allocation = locked(allocation)
    factory_member_only(actor, allocation)
    if allocation.status not in (Allocation.Status.ACCEPTED,):
        raise ValidationFailed({"status": [_("Progress can be reported only on accepted work.")]})
    errors: dict[str, list[str]] = {}
    if all(data.get(k) in (None, "") for k in ("quantity_done", "defects", "delivered_on", "started")):
        raise ValidationFailed(
            {"quantity_done": [_("Enter the quantity done, the defects or the delivery date, or tick “started”.")]}
        )
    done = whole(data, "quantity_done", errors, low=0, high=allocation.quantity, default=allocation.quantity_done)
    if "quantity_done" not in errors and done < allocation.quantity_done:
        errors["quantity_done"] = [
            _("Work reported done cannot be taken back (%(n)d already reported).") % {"n": allocation.quantity_done}
        ]
    if "quantity_done" not in errors and done > allocation.quantity_done and (short := _inputs_short(allocation, done)):
        errors["quantity_done"] = [short]
    # defects are checked against a valid quantity only (else the range would read "between 0 and 0")
    defects = (
        whole(data, "defects", errors, low=0, high=max(done, 0), default=allocation.defects)
        if "quantity_done" not in errors
        else allocation.defects
    )
    delivered = data.get("delivered_on")
    day = None
    if delivered not in (None, ""):
        try:
            day = delivered if isinstance(delivered, dt.date) else dt.date.fromisoformat(str(delivered))
        except ValueError:
            errors["delivered_on"] = [_("Must be a date, such as 2026-12-31.")]
        else:
            # accepted before acceptance times were kept: not before the order was placed
            accepted = timezone.localdate(allocation.accepted_at or allocation.order.created_at)
            if day > timezone.localdate():
                errors["delivered_on"] = [_("Must not be in the future.")]
            elif day < accepted:
                errors["delivered_on"] = [_("Must not be before the work was accepted (%(day)s).") % {"day": accepted}]
            if done < allocation.quantity and "quantity_done" not in errors:
                errors["quantity_done"] = [
                    _("Delivery needs the whole quantity done (%(n)d).") % {"n": allocation.quantity}
                ]
    if errors:
        raise ValidationFailed(errors)
    allocation.started = bool(data.get("started", allocation.started)) or done > 0
    allocation.quantity_done = done
    allocation.defects = defects
    fields = ["started", "quantity_done", "defects", "updated_at"]
    if day is not None:
        allocation.delivered_on = day
        allocation.status = Allocation.Status.DELIVERED
        fields += ["delivered_on", "status"]
    allocation.save(update_fields=fields)
    audit_step(
        "delivered" if day else "progress",
        actor,
        allocation,
        {"done": done, "defects": defects, "delivered_on": day.isoformat() if day else None},
    )
    if day:
        tell_buyer(
            allocation,
            Phrase(
                gettext_lazy(
                    "%(factory)s delivered %(n)d %(unit)s of step %(step)d for order %(product)s on %(day)s: "
                    "confirm receipt or dispute it."
                ),
                factory=named(allocation),
                n=allocation.quantity,
                unit=allocation.operation.process.unit,
                step=allocation.operation.seq,
                product=allocation.order.product,
                day=day.isoformat(),
            ),
        )
        finish_if_delivered(allocation.order)
    return allocation


def _inputs_short(allocation: Allocation, done: int) -> str | None:
    """Why `done` units of this step cannot be made yet, if so: a step makes no more than what its preceding
    steps have delivered allows, in proportion to the quantities of the route (parts arrive before they are worked)."""
    op = allocation.operation
    if not op.after:
        return None
    doing = Allocation.objects.filter(
        operation=op, status__in=(Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED)
    )
    elsewhere = doing.exclude(pk=allocation.pk).aggregate(n=Sum("quantity_done"))["n"] or 0
    for before in Operation.objects.filter(order_id=op.order_id, seq__in=op.after).order_by("seq"):
        arrived = Allocation.objects.filter(operation=before, status=Allocation.Status.DELIVERED)
        delivered = arrived.aggregate(n=Sum("quantity"))["n"] or 0
        enough = delivered * op.quantity // before.quantity
        if elsewhere + done > enough:
            said = (
                _(
                    "Step %(step)d has delivered %(got)d of %(of)d %(its_unit)s so far, enough for %(n)d %(unit)s "
                    "of this step, %(elsewhere)d of them already reported done by other factories: work cannot run "
                    "ahead of its parts."
                )
                if elsewhere
                else _(
                    "Step %(step)d has delivered %(got)d of %(of)d %(its_unit)s so far, enough for %(n)d %(unit)s "
                    "of this step: work cannot run ahead of its parts."
                )
            )
            return said % {
                "step": before.seq,
                "got": delivered,
                "of": before.quantity,
                "n": enough,
                "elsewhere": elsewhere,
                "its_unit": before.process.unit,
                "unit": op.process.unit,
            }
    return None


@transaction.atomic
def allocation_receipt(
    *, actor: Any, allocation: Allocation, confirm: bool, defects_found: Any = None, note: str = ""
) -> Allocation:
    """The buyer confirms delivered work as received, with the defects its own inspection found (the scorecard
    then counts these instead of the factory's report), or disputes the delivery (counted as not on time while
    disputed). A dispute may later be settled by confirming; a confirmation is final."""
    allocation = locked(allocation, "operation")
    if allocation.order.buyer_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the buyer confirms or disputes a delivery."))
    if allocation.factory_id == allocation.order.buyer_id:
        raise Forbidden(_("Work the buyer made itself cannot be confirmed by it: its record is its own report."))
    if allocation.status != Allocation.Status.DELIVERED:
        raise ValidationFailed({"action": [_("Only delivered work can be confirmed or disputed.")]})
    settling = allocation.receipt == Allocation.Receipt.DISPUTED and confirm
    if allocation.receipt and not settling:
        raise ValidationFailed(
            {
                "action": [
                    _("This delivery was already answered: %(answer)s.") % {"answer": allocation.get_receipt_display()}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    note = text(note, "note", errors)
    found = None  # confirmed without a count of its own: the factory's report stands
    if confirm and defects_found not in (None, ""):
        found = whole({"defects_found": defects_found}, "defects_found", errors, low=0, high=allocation.quantity_done)
    elif not confirm and not note:
        errors["note"] = [_("Say what is wrong with the delivery.")]
    if errors:
        raise ValidationFailed(errors)
    allocation.receipt = Allocation.Receipt.CONFIRMED if confirm else Allocation.Receipt.DISPUTED
    allocation.defects_found = found
    if not confirm:
        allocation.dispute_reason = note
    allocation.save(update_fields=["receipt", "defects_found", "dispute_reason", "updated_at"])
    if settling and allocation.dispute_referred_at:  # the operators need not rule any more
        tell_operators_moved_on(allocation, by_buyer=True)
    audit_step(
        "received" if confirm else "disputed",
        actor,
        allocation,
        {"defects_found": found, "note": note, **({"settled": True} if settling else {})}
        if confirm
        else {"reason": note},
    )
    n = allocation.defects if found is None else found
    received = Phrase(
        gettext_lazy(
            "The buyer confirmed receipt of your %(q)d %(unit)s for step %(step)d of order %(product)s "
            "(week of %(week)s): its inspection found %(n)d %(n_unit)s defective."
        )
        if found is not None
        else gettext_lazy(
            "The buyer confirmed receipt of your %(q)d %(unit)s for step %(step)d of order %(product)s "
            "(week of %(week)s) without a count of its own: your report of %(n)d %(n_unit)s defective stands."
        ),
        n=n,
        n_unit=allocation.operation.process.unit_for(n),
        **delivery_named(allocation),
    )
    if settling:
        received = Phrase(gettext_lazy("The buyer's dispute is settled. %(text)s"), text=received)
    tell_factory(
        allocation.factory_id,
        "factory.receipt",
        (
            received
            if confirm
            else Phrase(
                gettext_lazy(
                    "The buyer disputes your %(q)d %(unit)s for step %(step)d of order %(product)s (week of "
                    "%(week)s): %(reason)s"
                ),
                reason=clipped(note),
                **delivery_named(allocation),
            )
        ),
    )
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


@transaction.atomic
def allocation_delay(*, actor: Any, allocation: Allocation, weeks: Any, reason: str) -> Allocation:
    """A factory reports that accepted work will be `weeks` late: it moves in the factory's calendar and the
    order is re-planned around it (later steps move; other accepted work is kept where it still fits)."""
    allocation = locked(allocation, "capability")
    factory_member_only(actor, allocation)
    errors: dict[str, list[str]] = {}
    shift = whole({"weeks": weeks}, "weeks", errors, low=1, high=12)
    reason = text(reason, "reason", errors, missing=_("Say why, so that the buyer can plan around it."))
    if errors:
        raise ValidationFailed(errors)
    if allocation.status != Allocation.Status.ACCEPTED:
        raise ValidationFailed({"action": [_("Only accepted work can be reported late.")]})
    later = allocation.week + dt.timedelta(weeks=shift)
    if later > allocation.order.start_week + dt.timedelta(weeks=horizon() - 1):
        raise ValidationFailed({"weeks": [_("That is beyond the plan's horizon; withdraw instead.")]})
    if not reserve(allocation.capability, later, allocation.quantity):
        room = free_in(allocation.capability, later)
        raise ValidationFailed(
            {
                "weeks": [
                    _(
                        "Your calendar has %(room)d %(unit)s free in the week of %(week)s, and this work needs "
                        "%(n)d %(unit)s: report a longer delay, make room in that week, or withdraw."
                    )
                    % {"room": room, "unit": allocation.operation.process.unit, "week": later, "n": allocation.quantity}
                ]
            }
        )
    release(allocation.capability, allocation.week, allocation.quantity)
    before = allocation.week
    allocation.promised_week = allocation.promised_week or before  # work accepted before promises were kept
    allocation.week = later
    allocation.note = reason
    allocation.save(update_fields=["week", "promised_week", "note", "updated_at"])
    audit_step("delayed", actor, allocation, {"from": before.isoformat(), "to": later.isoformat(), "reason": reason})
    order = replan(allocation.order, actor=actor, reason="delayed", cause=allocation)
    allocation.refresh_from_db(fields=["status"])
    late = (
        ngettext_lazy(
            "%(factory)s reports a delay of %(n)d week on order %(product)s (%(reason)s); the late part was "
            "planned anew without it.",
            "%(factory)s reports a delay of %(n)d weeks on order %(product)s (%(reason)s); the late part was "
            "planned anew without it.",
            "n",
        )
        if allocation.status == Allocation.Status.SUPERSEDED
        else ngettext_lazy(
            "%(factory)s reports a delay of %(n)d week on order %(product)s (%(reason)s).",
            "%(factory)s reports a delay of %(n)d weeks on order %(product)s (%(reason)s).",
            "n",
        )
    )
    said = Phrase(late, factory=named(allocation), n=shift, product=order.product, reason=clipped(reason))
    tell_buyer(allocation, repaired(said, order))
    return allocation
