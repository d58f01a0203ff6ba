"""Work under way: factories report progress and delivery, report a delay or withdraw, and the buyer confirms
receipt. A delay or withdrawal re-plans the order at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, ngettext_lazy

from agglo.access import policy
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.factory.models import Allocation, Operation, Order
from agglo.factory.selectors.planning import horizon, usable_units
from agglo.factory.services.capacity import free_in, order_turn, release, reserve
from agglo.factory.services.replan import (
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
    tell_operators_moved_on,
)
from agglo.factory.services.work import (
    audit_step,
    buyer_not_in_good_standing,
    factory_member_only,
    factory_not_in_good_standing,
    locked,
    standing_refused,
)
from agglo.factory.validation import date, text, whole
from agglo.factory.weeks import monday
from agglo.registry.services.standing import standing_held


def withdraw_check(*, actor: Any, allocation: Allocation, reason: str) -> str:
    """Whether `actor` may withdraw from `allocation` for `reason` (the page asks before it withdraws); the reason,
    trimmed."""
    if allocation.factory_id not in policy.active_organization_ids(actor):
        standing_refused(actor, allocation.factory_id, factory_not_in_good_standing())
        raise Forbidden(_("Only the factory that accepted this work may withdraw from it."))
    errors: dict[str, list[str]] = {}
    reason = text(reason, "reason", errors, missing=_("Say why, so that the buyer can plan around it."))
    if errors:
        raise ValidationFailed(errors)
    if allocation.status == Allocation.Status.SUPERSEDED and allocation.moved_by:
        # taken back meanwhile (a cancellation, a change of terms): say by what, not only that it cannot be
        raise ValidationFailed(
            {
                "action": [
                    _("This work is no longer yours to withdraw: %(why)s") % {"why": allocation.get_moved_by_display()}
                ]
            }
        )
    if allocation.status != Allocation.Status.ACCEPTED or allocation.quantity_done:
        raise ValidationFailed({"action": [_("Only accepted work that has not been produced yet can be withdrawn.")]})
    return reason


@transaction.atomic
def allocation_withdraw(*, actor: Any, allocation: Allocation, reason: str) -> Allocation:
    """A factory gives back work it accepted; capacity is released and the rest of the plan is repaired. The
    factory's standing is held first, as its answers hold it (review 116): a suspended factory withdraws nothing,
    as the suspension takes back its work not begun."""
    standing_held([allocation.factory_id], actor=actor)
    allocation = locked(allocation, "capability")
    reason = withdraw_check(actor=actor, allocation=allocation, reason=reason)
    order_turn(allocation.order)  # before the release below: see `capacity.planning_turn`
    allocation.status = Allocation.Status.WITHDRAWN
    allocation.note = reason
    allocation.save(update_fields=["status", "note", "updated_at"])
    release(allocation.capability, allocation.week, allocation.quantity)
    order = allocation.order
    log = audit_step("withdrawn", actor, allocation, {"reason": reason}, log_later=True)
    order = replan(order, actor=actor, reason="withdrawn", cause=allocation)
    log()  # after the solve: see `audit_step`
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
    the factory's scorecard (on time, defect rate), which the solver reads as risk. Work delivered before its
    week gives that week's room back to the factory. A report acts for the factory: its standing is held first, as
    its answers hold it (review 119), so that of a report and the factory's suspension the later sees the other's
    result: a suspended factory reports nothing, and work it reported begun just before stays its own."""
    standing_held([allocation.factory_id], actor=actor)
    allocation = locked(allocation)
    factory_member_only(actor, allocation)
    if allocation.status not in (Allocation.Status.ACCEPTED,):
        raise ValidationFailed({"action": [_("Progress can be reported only on accepted work.")]})
    errors: dict[str, list[str]] = {}
    if data.get("quantity_done") in (None, "") and data.get("delivered_on") not in (None, ""):
        data = {**data, "quantity_done": allocation.quantity}  # a delivery is of the whole quantity
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
    # Started work is never moved by a re-plan, so the flag alone must not hold a place in the plan weeks ahead:
    # a later step may be set up in its own week, or sooner once its parts have begun to arrive.
    starting = bool(data.get("started")) and not allocation.started and done == allocation.quantity_done
    if starting and timezone.localdate() < allocation.week and (why := _inputs_short(allocation, 1, others=False)):
        errors["started"] = [
            _("%(why)s It can be marked started from its own week, %(week)s.")
            % {"why": why, "week": allocation.week.isoformat()}
        ]
    # defects are checked against a valid quantity (else the range would read "between 0 and 0"), and against the
    # widest one the work allows otherwise, so that a bad figure there is named beside the quantity's fault
    defects = whole(
        data,
        "defects",
        errors,
        low=0,
        high=max(done, 0) if "quantity_done" not in errors else allocation.quantity,
        default=allocation.defects,
    )
    delivered = data.get("delivered_on")
    day = None
    if delivered not in (None, ""):
        day = date(delivered, "delivered_on", errors)  # as every date: 20261207, a JSON number, is not one
        if day is not None:
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
        if allocation.week > monday(timezone.localdate()):  # made already: its week ahead is free again (review 56)
            # the turn after the order's lock, as every plan change takes them, and before the week's lock (recheck
            # 57: taken first, a delivery deadlocked with a decline); only an early delivery waits for it
            order_turn(allocation.order)
            release(allocation.capability, allocation.week, allocation.quantity)
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


def _inputs_short(allocation: Allocation, done: int, *, others: bool = True) -> str | None:
    """Why `done` units of this step cannot be made yet, if so: a step makes no more than what its preceding
    steps have delivered allows, in proportion to the quantities of the route (parts arrive before they are worked).
    `others`: count what other factories of the step have already reported done against the same parts."""
    op = allocation.operation
    if not op.after:
        return None
    doing = Allocation.objects.filter(
        operation=op, status__in=(Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED)
    )
    elsewhere = (doing.exclude(pk=allocation.pk).aggregate(n=Sum("quantity_done"))["n"] or 0) if others else 0
    for before in Operation.objects.filter(order_id=op.order_id, seq__in=op.after).order_by("seq"):
        arrived = Allocation.objects.filter(operation=before, status=Allocation.Status.DELIVERED)
        delivered = arrived.aggregate(n=Sum(usable_units()))["n"] or 0  # less what a ruling found failed
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
    disputed). A dispute may later be settled by confirming; a confirmation is final. The buyer's standing is held
    first, as its other steps on the order hold it: of a receipt and the buyer's suspension the later sees the
    other's result (a suspended buyer's people read, they do not confirm or dispute)."""
    buyer = Order.objects.values_list("buyer_id", flat=True).get(pk=allocation.order_id)
    standing_held([buyer], actor=actor)
    allocation = locked(allocation, "operation")
    if allocation.order.buyer_id not in policy.active_organization_ids(actor):
        standing_refused(actor, allocation.order.buyer_id, buyer_not_in_good_standing())
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
    elif not confirm:
        if not note:
            errors["note"] = [_("Say what is wrong with the delivery.")]
        if defects_found not in (None, ""):  # not dropped unread (review 98): the count comes with a settlement
            errors["defects_found"] = [
                _(
                    "A dispute counts no defects: say what you found in the note. The count is given when the "
                    "dispute is settled, or by the platform's ruling."
                )
            ]
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


@transaction.atomic
def allocation_delay(*, actor: Any, allocation: Allocation, weeks: Any, reason: str) -> Allocation:
    """A factory reports that accepted work will be `weeks` late: it moves in the factory's calendar and the
    order is re-planned around it (later steps move; other accepted work is kept where it still fits). The
    factory's standing is held first, as for its other reports (review 119): a suspended factory reports no delay,
    and work delayed just before its suspension is taken back by it, in the week the delay moved it to."""
    standing_held([allocation.factory_id], actor=actor)
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
    this_week = monday(timezone.localdate())
    last_week = allocation.order.start_week + dt.timedelta(weeks=horizon() - 1)
    beyond = ValidationFailed({"weeks": [_("That is beyond the plan's horizon; withdraw instead.")]})
    if later < this_week:  # overdue work cannot be done in a week gone by (review 93)
        fewest = (this_week - allocation.week).days // 7
        if fewest > 12 or this_week > last_week:  # no delay it could report would do (review 94)
            raise beyond
        raise ValidationFailed(
            {
                "weeks": [
                    ngettext(
                        "The week of %(week)s has gone by: report at least %(n)d week late (to this week, of "
                        "%(now)s) or more.",
                        "The week of %(week)s has gone by: report at least %(n)d weeks late (to this week, of "
                        "%(now)s) or more.",
                        fewest,
                    )
                    % {"week": later, "n": fewest, "now": this_week}
                ]
            }
        )
    if later > last_week:
        raise beyond
    order_turn(allocation.order)  # before the reservation below: see `capacity.planning_turn`
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
    moved = {"from": before.isoformat(), "to": later.isoformat(), "reason": reason}
    log = audit_step("delayed", actor, allocation, moved, log_later=True)
    order = replan(allocation.order, actor=actor, reason="delayed", cause=allocation)
    log()  # after the solve: see `audit_step`
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
