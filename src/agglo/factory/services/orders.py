"""Orders: enter an order (its steps, terms and region rules checked), have it planned, cancel it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Phrase
from agglo.common.lines import ONE_LINE, is_one_line
from agglo.common.versions import version_check
from agglo.factory.models import Allocation, FactoryMember, Operation, Order, Process, VirtualFactory
from agglo.factory.selectors.orders import may_decide
from agglo.factory.selectors.planning import (
    AHEAD_WEEKS,
    first_open_day,
    horizon,
)
from agglo.factory.services.capacity import order_turn, release
from agglo.factory.services.documents import documents_checked, documents_stored
from agglo.factory.services.replan import replan
from agglo.factory.services.telling import clipped, tell_factory
from agglo.factory.services.work import buyer_not_in_good_standing, standing_refused
from agglo.factory.validation import (
    LIST_SEPARATORS,
    certifications_clean,
    date,
    money,
    provinces,
    text,
    whole,
    whole_number,
)
from agglo.factory.weeks import index_of, monday
from agglo.registry.services.standing import standing_held

MAX_OPERATIONS = 40
MAX_QUANTITY = 10_000_000  # of a product or a step


def _operations(raw: Any, errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        errors["operations"] = [_("Give at least one operation.")]
        return []
    if len(raw) > MAX_OPERATIONS:
        errors["operations"] = [_("At most %(n)d operations.") % {"n": MAX_OPERATIONS}]
        return []
    processes = set(Process.objects.values_list("code", flat=True))
    result = []
    for i, item in enumerate(raw, start=1):
        field = f"operations[{i}]"
        if not isinstance(item, dict):
            errors[field] = [_("Must be an object with process, quantity and after.")]
            continue
        if item.get("process") not in processes:
            errors[f"{field}.process"] = [_("Choose a process from the catalogue.")]
        mine: dict[str, list[str]] = {}
        quantity = whole(item, "quantity", mine, low=1, high=MAX_QUANTITY)
        if mine:
            errors[f"{field}.quantity"] = mine["quantity"]
        after = item.get("after") or []
        if isinstance(after, str):  # "1, 2", or as typed on a Chinese keyboard: "1，2" or "1、2"
            after = [a.strip() for a in re.split(LIST_SEPARATORS, after) if a.strip()]
        steps = [whole_number(a) for a in after] if isinstance(after, list) else [None]
        if None in steps:
            errors[f"{field}.after"] = [_("List the numbers of earlier steps, such as 1, 2.")]
            steps = []
        after = sorted({a for a in steps if a is not None})
        if after and i == 1:
            errors[f"{field}.after"] = [_("The first step cannot follow another.")]
        elif any(not 1 <= a < i for a in after):
            errors[f"{field}.after"] = [_("A step may only follow earlier steps (1 to %(n)d).") % {"n": i - 1}]
        result.append({"seq": i, "process": item.get("process"), "quantity": quantity, "after": after})
    return result


def due_within(start: dt.date, due: dt.date, errors: dict[str, list[str]]) -> None:
    # weeks, not days: a due day earlier in the first day's own week is that week (both are kept as its Monday)
    if monday(due) < monday(start):
        errors["due_week"] = [_("Must not be before the first week.")]
    elif index_of(start, due) >= horizon():
        errors["due_week"] = [_("Must be within %(n)d weeks of the first week.") % {"n": horizon()}]


def checked_terms(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The order's commercial terms, checked: supplier limit, budget, lateness penalty and share cap."""
    values: dict[str, Any] = {
        "max_suppliers": whole(data, "max_suppliers", errors, low=1, high=10, default=3),
        "budget": money(data, "budget", errors, required=False),
        "late_penalty": money(data, "late_penalty", errors, required=False) or Decimal("0.00"),
        "max_share": None,
    }
    share = data.get("max_share")
    if share not in (None, ""):
        try:
            values["max_share"] = Decimal(str(share))
            if not Decimal("0.1") <= values["max_share"] <= 1:
                raise ValueError
        except (ArithmeticError, ValueError):
            errors["max_share"] = [_("Must be a share between 0.1 and 1.")]
        else:
            if values["max_share"] != values["max_share"].quantize(Decimal("0.01")):  # what is stored is planned
                errors["max_share"] = [_("At most two decimal places, such as 0.35.")]
            elif "max_suppliers" not in errors and values["max_share"] * values["max_suppliers"] < 1:
                errors["max_share"] = [
                    _("With at most %(n)d suppliers per step, no step can be covered by shares of %(share)s.")
                    % {"n": values["max_suppliers"], "share": values["max_share"]}
                ]
    return values


def checked_regions(
    data: dict[str, Any], errors: dict[str, list[str]], order: Order | None = None
) -> dict[str, list[str]]:
    """The region rules sent (an empty value: no rule), else the order's. On a change, work delivered or under way
    in a province now left out stays where it is; other accepted work there moves."""
    values = {
        field: provinces(data.get(field), field, errors)
        if field in data or order is None
        else list(getattr(order, field))
        for field in ("regions_only", "regions_excluded")
    }
    both = sorted(set(values["regions_only"]) & set(values["regions_excluded"]))
    if both and "regions_only" not in errors and "regions_excluded" not in errors:
        errors["regions_excluded"] = [
            _("%(code)s is also among the only provinces allowed; a province cannot be both.") % {"code": both[0]}
        ]
    return values


def _certificates(value: Any, errors: dict[str, list[str]]) -> str:
    """What counts as holding a required certification (`Order.Certificates`); as declared when left out."""
    if value in (None, ""):
        return Order.Certificates.DECLARED
    if value not in Order.Certificates.values:
        errors["certificates"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Order.Certificates.values)}]
        return Order.Certificates.DECLARED
    return str(value)


def _places_for(actor: Any, buyer_id: int) -> None:
    """Refuse an order for an organization that is not the actor's own in good standing (its people told why)."""
    if buyer_id not in policy.active_organization_ids(actor):
        standing_refused(actor, buyer_id, buyer_not_in_good_standing())
        raise Forbidden(_("You may place orders only for your own organizations in good standing."))


@transaction.atomic
def order_create(*, actor: Any, data: dict[str, Any], files: Sequence[UploadedFile] = ()) -> Order:
    """Enter an order for one of the actor's organizations, with its drawings (`files`, as
    `documents.order_documents_add` takes them); nothing is saved if any field or file is wrong."""
    # one organization of the actor's is the buyer unless named; if not in good standing, so that it is told why
    own = policy.active_organization_ids(actor) or policy.organization_ids(actor)
    buyer = data.get("buyer")
    if buyer in (None, "") and len(own) == 1:
        buyer = next(iter(own))
    errors: dict[str, list[str]] = {}
    try:
        buyer_id = int(buyer)
    except (TypeError, ValueError):
        raise ValidationFailed({"buyer": [_("Say which of your organizations places the order.")]}) from None
    _places_for(actor, buyer_id)  # before any lock: a caller without the right holds nobody's row
    # the buyer's standing held, then its rights read again, as its other steps on its orders: of the order and the
    # buyer's suspension the later sees the other's result (a suspended member's people read, they do not act)
    standing_held([buyer_id], actor=actor)
    _places_for(actor, buyer_id)
    product = str(data.get("product") or "").strip()
    if not product:
        errors["product"] = [_("This field is required.")]
    elif len(product) > 200:
        errors["product"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 200, "n": len(product)}]
    elif not is_one_line(product):
        errors["product"] = [str(ONE_LINE)]
    quantity = whole(data, "quantity", errors, low=1, high=MAX_QUANTITY)
    start = date(data.get("start_week") or first_open_day(), "start_week", errors)
    due = date(data.get("due_week"), "due_week", errors)
    first = monday(first_open_day())  # the week under way takes new work only until Wednesday
    if start and not first <= monday(start) < first + dt.timedelta(weeks=AHEAD_WEEKS):
        errors["start_week"] = [
            _("Must lie between the first week still open to new work (%(week)s) and a year later.") % {"week": first}
        ]
    elif start and due:
        due_within(start, due, errors)
    values = {
        "min_quality": whole(data, "min_quality", errors, low=0, high=3, default=0),
        "certifications": certifications_clean(data.get("certifications"), "certifications", errors),
        "certificates": _certificates(data.get("certificates"), errors),
        **checked_regions(data, errors),
        **checked_terms(data, errors),
    }
    steps = _operations(data.get("operations"), errors)
    documents_checked(files, errors)
    if errors:
        raise ValidationFailed(errors)
    assert start is not None and due is not None
    order = Order.objects.create(
        buyer_id=buyer_id,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        product=product,
        quantity=quantity,
        start_week=monday(start),
        due_week=monday(due),
        **values,
    )
    Operation.objects.bulk_create(
        [
            Operation(
                order=order,
                seq=s["seq"],
                process_id=s["process"],
                quantity=s["quantity"],
                after=s["after"],
                entered_quantity=s["quantity"],
                entered_for=quantity,
            )
            for s in steps
        ]
    )
    VirtualFactory.objects.create(order=order).members.create(organization_id=buyer_id, role=FactoryMember.Role.LEAD)
    record(
        "factory.order_created",
        actor=actor,
        subject=order,
        payload={"product": product, "operations": len(steps)},
        organization_id=buyer_id,
    )
    if files:  # last: nothing after it may fail and leave the files written (`documents_stored`)
        documents_stored(actor=actor, order=order, files=files)
    return order


@transaction.atomic
def order_plan(*, actor: Any, order: Order) -> Order:
    """Have the solver propose a split plan; factories are offered their parts on the job board. The buyer's
    standing is held first (before the order, as a factory's answer holds its own): a suspension committed
    meanwhile is seen, and none lands between the check and the offers."""
    standing_held([order.buyer_id], actor=actor)
    if not may_decide(actor, order):
        standing_refused(actor, order.buyer_id, buyer_not_in_good_standing())
        raise Forbidden(_("Only whoever placed the order, or an admin of the buyer, plans it."))
    if order.status in Order.CLOSED:
        raise ValidationFailed({"status": [_("This order is closed.")]})
    return replan(order, actor=actor, reason="plan")


def cancel_check(*, actor: Any, order: Order, reason: str) -> str:
    """Whether `actor` may cancel `order` for `reason` (the page asks before it cancels); the reason, trimmed."""
    if not may_decide(actor, order):
        standing_refused(actor, order.buyer_id, buyer_not_in_good_standing())
        raise Forbidden(_("Only whoever placed the order, or an admin of the buyer, cancels it."))
    errors: dict[str, list[str]] = {}
    reason = text(reason, "reason", errors, missing=_("Say why, so that the factories understand."))
    if errors:
        raise ValidationFailed(errors)
    if order.status in Order.CLOSED:
        raise ValidationFailed({"status": [_("This order is closed.")]})
    return reason


@transaction.atomic
def order_cancel(*, actor: Any, order: Order, reason: str, if_match: str | None = None) -> Order:
    """The buyer cancels an order that is not done: work not yet delivered is called off (its reservations
    released, every factory told); work already delivered stays on record for receipt and the scorecards.
    `if_match`: the order's version the caller read (`common.versions`)."""
    standing_held([order.buyer_id], actor=actor)  # the buyer's standing, then the order, as `order_plan`
    order = Order.objects.select_for_update().get(pk=order.pk)  # the order first, as every plan change locks it
    reason = cancel_check(actor=actor, order=order, reason=reason)
    version_check(order, if_match)
    told = Phrase(
        gettext_lazy("Order %(product)s was cancelled by the buyer: %(reason)s"),
        product=order.product,
        reason=clipped(reason),
    )
    call_off(order, entry=reason[:500], told=told)
    record(
        "factory.order_cancelled",
        actor=actor,
        subject=order,
        payload={"reason": reason[:500]},
        organization_id=order.buyer_id,
    )
    return order


def call_off(order: Order, *, entry: str | dict[str, Any], told: Phrase) -> None:
    """Call off an order the caller locked: work not yet delivered is superseded (its reservations released, its
    factories told `told`), work delivered stays on record, and the order is cancelled with `entry` as its diagnosis
    (the buyer's reason, or a finding worded when read)."""
    # Its releases lock capacity week by week, as a re-plan's do: the turn first, so that the two never hold what
    # the other waits for (recheck 55: a cancellation and a delay at one factory deadlocked).
    order_turn(order)
    # Locked too, so that neither an answer nor a delivery can slip in between the checks and the writes.
    list(order.allocations.select_for_update().values_list("pk", flat=True))
    touched = set()
    for a in order.allocations.filter(
        status__in=[Allocation.Status.OFFERED, Allocation.Status.COUNTERED, Allocation.Status.ACCEPTED]
    ).select_related("capability"):
        if a.status == Allocation.Status.ACCEPTED:
            release(a.capability, a.week, a.quantity)
        a.status = Allocation.Status.SUPERSEDED
        a.moved_by = Allocation.MovedBy.CANCELLED  # so that the order page still shows what it called off
        a.save(update_fields=["status", "moved_by", "updated_at"])
        touched.add(a.factory_id)
    order.status = Order.Status.CANCELLED
    order.diagnosis = [entry]
    order.save(update_fields=["status", "diagnosis"])  # members stay listed: who served the order until it ended
    for factory in sorted(touched):
        tell_factory(factory, "factory.cancelled", told)
