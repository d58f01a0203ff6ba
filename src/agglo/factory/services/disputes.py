"""Disputed deliveries. The factory answers the buyer's dispute; the buyer may settle it by confirming receipt
(`jobs.allocation_receipt`). A dispute the two do not settle would otherwise count against the factory for good, so
either may refer it to the platform, and an operator rules: upheld (a failed delivery, as an open dispute counts)
or dismissed (the delivery stands), with the defects the operator finds proven."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.notify import notify
from agglo.factory.models import Allocation, Order
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
from agglo.factory.validation import text, whole
from agglo.registry.services.standing import standing_held


@transaction.atomic
def dispute_answer(*, actor: Any, allocation: Allocation, reply: str) -> Allocation:
    """The factory answers the buyer's dispute of its delivery, once; the buyer may then settle it by confirming
    receipt. Both texts stay between the two parties (and the platform, if referred); the transparency log keeps a
    digest of each. An answer acts for the factory: its standing is held first, as its other answers and reports
    hold it, so that of the answer and the factory's suspension the later sees the other's result (a suspended
    factory's people read the dispute, they do not answer it)."""
    standing_held([allocation.factory_id], actor=actor)
    allocation = locked(allocation, "operation")
    factory_member_only(actor, allocation)
    if allocation.receipt != Allocation.Receipt.DISPUTED:
        raise ValidationFailed({"action": [_("Only a disputed delivery can be answered.")]})
    if allocation.dispute_reply:
        raise ValidationFailed({"reply": [_("This dispute was already answered.")]})
    errors: dict[str, list[str]] = {}
    reply = text(reply, "reply", errors, missing=_("Write your answer to the buyer's dispute."))
    if errors:
        raise ValidationFailed(errors)
    allocation.dispute_reply = reply
    allocation.save(update_fields=["dispute_reply", "updated_at"])
    audit_step("dispute_answered", actor, allocation, {"reply": reply})
    if allocation.dispute_referred_at:  # the operators waited for this side
        tell_operators_moved_on(allocation, by_buyer=False)
    tell_buyer(
        allocation,
        Phrase(
            gettext_lazy(
                "%(factory)s answered your dispute of its %(q)d %(unit)s for step %(step)d of order %(product)s "
                "(week of %(week)s): %(reply)s"
            ),
            factory=named(allocation),
            reply=clipped(reply),
            **delivery_named(allocation),
        ),
    )
    return allocation


@transaction.atomic
def dispute_refer(*, actor: Any, allocation: Allocation) -> Allocation:
    """The buyer or the factory asks the platform to decide a dispute. The factory first answers it, so that the
    operator reads both sides. A referral acts for the side the actor belongs to: the standing of the parties it
    belongs to is held first, in one sweep (`standing_held`), so that a side suspended meanwhile refers nothing."""
    parties = {Order.objects.values_list("buyer_id", flat=True).get(pk=allocation.order_id), allocation.factory_id}
    # only the actor's own: holding the other side's row would make its people's steps wait for nothing
    standing_held(parties & policy.organization_ids(actor), actor=actor)
    allocation = locked(allocation, "operation", "factory")
    own = policy.active_organization_ids(actor)
    side = "buyer" if allocation.order.buyer_id in own else "factory" if allocation.factory_id in own else ""
    if not side:
        standing_refused(actor, allocation.order.buyer_id, buyer_not_in_good_standing())
        standing_refused(actor, allocation.factory_id, factory_not_in_good_standing())
        raise Forbidden(_("Only the buyer or the factory of a disputed delivery may refer it to the platform."))
    if allocation.receipt != Allocation.Receipt.DISPUTED:
        raise ValidationFailed({"action": [_("Only a disputed delivery can be referred to the platform.")]})
    if allocation.dispute_referred_at:
        raise ValidationFailed({"action": [_("This dispute is already before the platform.")]})
    if side == "factory" and not allocation.dispute_reply:
        raise ValidationFailed({"action": [_("Answer the dispute first: the platform decides on both sides' words.")]})
    allocation.dispute_referred_at = timezone.now()
    allocation.dispute_answer_by = allocation.dispute_referred_at + dt.timedelta(
        hours=int(settings.AGGLO_FACTORY_ANSWER_HOURS)
    )
    allocation.save(update_fields=["dispute_referred_at", "dispute_answer_by", "updated_at"])
    audit_step("dispute_referred", actor, allocation, {}, by=side)
    about = {"factory": named(allocation), **delivery_named(allocation)}
    if side == "buyer":
        tell_factory(
            allocation.factory_id,
            "factory.dispute",
            Phrase(
                gettext_lazy(
                    "The buyer asked the platform to decide its dispute of your %(q)d %(unit)s for step %(step)d "
                    "of order %(product)s (week of %(week)s). An operator will rule on it; you will be told."
                )
                if allocation.dispute_reply
                else gettext_lazy(
                    "The buyer asked the platform to decide its dispute of your %(q)d %(unit)s for step %(step)d "
                    "of order %(product)s (week of %(week)s). Answer it on your job board by %(until)s: an operator "
                    "rules once you have, or after that without your answer. You will be told."
                ),
                until=timezone.localtime(allocation.ruling_from).strftime("%Y-%m-%d %H:%M"),
                **about,
            ),
        )
    else:
        tell_buyer(
            allocation,
            Phrase(
                gettext_lazy(
                    "%(factory)s asked the platform to decide your dispute of its %(q)d %(unit)s for step %(step)d "
                    "of order %(product)s (week of %(week)s). An operator will rule on it; until then you may "
                    "still settle it by confirming receipt."
                ),
                **about,
            ),
        )
    notify(
        policy.operators(),
        verb="factory.dispute",
        text=Phrase(
            gettext_lazy(
                "A dispute over %(factory)s's %(q)d %(unit)s for step %(step)d of order %(product)s awaits the "
                "platform's ruling."
            ),
            **about,
        ),
        link="/factory/disputes/",
    )
    return allocation


@transaction.atomic
def dispute_rule(
    *, actor: Any, allocation: Allocation, upheld: bool | None, defects_found: Any = None, ruling: str = ""
) -> Allocation:
    """An operator decides a referred dispute, with reasons, once the factory has answered it or had the time to.
    Upheld: the delivery counts as failed (not on time) on the factory's scorecard; dismissed: it counts as
    delivered. Either way the operator may set the defects it finds proven, which then count instead of the
    factory's report."""
    if not policy.is_operator(actor):
        raise Forbidden(_("Only platform operators rule on disputes."))
    allocation = locked(allocation, "operation", "factory")
    if {allocation.order.buyer_id, allocation.factory_id} & policy.organization_ids(actor):
        raise Forbidden(_("An operator does not rule on a dispute its own organization is party to."))
    if allocation.receipt != Allocation.Receipt.DISPUTED:
        answer = allocation.get_receipt_display()
        raise ValidationFailed(
            {
                "action": [
                    _("This delivery is no longer under dispute: %(answer)s.") % {"answer": answer}
                    if answer
                    else _("This delivery is not under dispute.")
                ]
            }
        )
    if not allocation.dispute_referred_at:
        raise ValidationFailed({"action": [_("Neither party has referred this dispute to the platform.")]})
    if allocation.awaits_factory:
        when = allocation.ruling_from
        raise ValidationFailed(
            {
                "action": [
                    _(
                        "The factory has not answered the dispute yet: the platform rules once it has, or from "
                        "%(when)s, so that both sides are heard."
                    )
                    % {"when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M")}
                ]
            }
        )
    errors: dict[str, list[str]] = {}
    if upheld is None:
        errors["upheld"] = [_("Choose whether the dispute is upheld or dismissed.")]
    found = None
    if defects_found not in (None, ""):
        found = whole({"defects_found": defects_found}, "defects_found", errors, low=0, high=allocation.quantity_done)
    ruling = text(ruling, "ruling", errors, missing=_("Say why the platform decides so."))
    if errors:
        raise ValidationFailed(errors)
    allocation.receipt = Allocation.Receipt.UPHELD if upheld else Allocation.Receipt.DISMISSED
    allocation.defects_found = found
    allocation.dispute_ruling = ruling
    allocation.save(update_fields=["receipt", "defects_found", "dispute_ruling", "updated_at"])
    audit_step(
        "dispute_ruled",
        actor,
        allocation,
        {"upheld": bool(upheld), "defects_found": found, "ruling": ruling},
        by="platform",
    )
    _tell_ruling(allocation, bool(upheld), found, ruling)
    if upheld and found:
        _reopen_for_remaking(allocation, found)
    return allocation


def _reopen_for_remaking(allocation: Allocation, found: int) -> None:
    """Failed units proven are made again (review 56 M2): the order is not done while a step lacks them, and the
    next plan offers them (`planning.usable`). A plan offers work, so the buyer is told to plan again rather than
    the ruling offering it unasked. A cancelled order makes nothing again: its buyer has the ruling alone (review
    93: it was told to plan an order that cannot be planned)."""
    order = allocation.order
    if order.status == Order.Status.CANCELLED:
        return
    if order.status in (Order.Status.DONE, Order.Status.CONFIRMED):  # not all accepted any more: a plan is due
        order.status = Order.Status.PLANNED
        order.save(update_fields=["status"])
    tell_buyer(
        allocation,
        Phrase(
            gettext_lazy(
                "%(n)d %(unit)s of step %(step)d of order %(product)s failed and must be made again: plan the "
                "order again to offer them to the factories."
            ),
            n=found,
            unit=allocation.operation.process.unit_for(found),
            step=allocation.operation.seq,
            product=order.product,
        ),
    )


RULED = {  # (upheld, told): what each side reads of a ruling
    (True, "buyer"): gettext_lazy(
        "The platform upheld your dispute of %(factory)s's %(q)d %(unit)s for step %(step)d of order %(product)s "
        "(week of %(week)s): the delivery counts as failed on the factory's scorecard. %(ruling)s"
    ),
    (True, "factory"): gettext_lazy(
        "The platform upheld the buyer's dispute of your %(q)d %(unit)s for step %(step)d of order %(product)s "
        "(week of %(week)s): the delivery counts as failed on your scorecard. %(ruling)s"
    ),
    (False, "buyer"): gettext_lazy(
        "The platform dismissed your dispute of %(factory)s's %(q)d %(unit)s for step %(step)d of order "
        "%(product)s (week of %(week)s): the delivery counts as made. %(ruling)s"
    ),
    (False, "factory"): gettext_lazy(
        "The platform dismissed the buyer's dispute of your %(q)d %(unit)s for step %(step)d of order %(product)s "
        "(week of %(week)s): the delivery counts as made. %(ruling)s"
    ),
}


def _tell_ruling(allocation: Allocation, upheld: bool, found: int | None, ruling: str) -> None:
    """Both sides read the outcome, the defects proven (which replace the factory's report) and the reasons."""
    said = clipped(ruling)
    if found is not None:
        said = Phrase(
            gettext_lazy("Defects proven: %(n)d %(n_unit)s. %(ruling)s"),
            n=found,
            n_unit=allocation.operation.process.unit_for(found),
            ruling=said,
        )
    about = {"factory": named(allocation), "ruling": said, **delivery_named(allocation)}
    tell_buyer(allocation, Phrase(RULED[upheld, "buyer"], **about))
    tell_factory(allocation.factory_id, "factory.dispute", Phrase(RULED[upheld, "factory"], **about))
