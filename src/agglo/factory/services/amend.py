"""The buyer changes an open order's due week, quantities or terms: the plan is repaired around accepted work, and
a change that would take back or cut that work is put to the buyer first."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.numbers import grouped
from agglo.common.versions import version_check
from agglo.factory import allocation as core
from agglo.factory.models import Allocation, Operation, Order
from agglo.factory.selectors.orders import may_decide
from agglo.factory.selectors.planning import (
    first_open_day,
    under_way,
    usable,
)
from agglo.factory.services.capacity import order_turn
from agglo.factory.services.orders import MAX_QUANTITY, checked_regions, checked_terms, due_within
from agglo.factory.services.replan import replan
from agglo.factory.services.work import buyer_not_in_good_standing, standing_refused
from agglo.factory.validation import (
    date,
    whole,
    whole_number,
)
from agglo.factory.weeks import monday
from agglo.factory.wording import plan_cost
from agglo.registry.services.standing import standing_held

AMENDABLE = (
    "due_week",
    "quantity",
    "operations",  # the steps' quantities: [{"seq": 1, "quantity": 500}, ...]
    "max_suppliers",
    "budget",
    "late_penalty",
    "max_share",
    "regions_only",
    "regions_excluded",
)
STEP_KEYS = ("seq", "quantity")  # what a change may say of a step; its process and order stay as entered


def _step_quantities(
    raw: Any, steps: dict[int, Operation], errors: dict[str, list[str]]
) -> tuple[dict[int, int], dict[int, str]]:
    """The quantities `operations` gives, by step, and the field each came in (`operations[i]`, counted from 1 as
    on entry)."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, list):
        errors["operations"] = [_("Must be a list of steps, each with seq and quantity.")]
        return {}, {}
    given: dict[int, int] = {}
    where: dict[int, str] = {}
    for i, item in enumerate(raw, start=1):
        field = f"operations[{i}]"
        if not isinstance(item, dict):
            errors[field] = [_("Must be an object with seq and quantity.")]
            continue
        for key in sorted(set(item) - set(STEP_KEYS)):
            errors[f"{field}.{key}"] = [_("Cannot be changed here; cancel and enter a new order instead.")]
        seq = whole_number(item.get("seq"))
        if seq not in steps:
            errors[f"{field}.seq"] = [_("No such step: this order has steps 1 to %(n)d.") % {"n": len(steps)}]
            continue
        if seq in given:
            errors[f"{field}.seq"] = [_("Step %(seq)d is given twice.") % {"seq": seq}]
            continue
        mine: dict[str, list[str]] = {}
        quantity = whole(item, "quantity", mine, low=1, high=MAX_QUANTITY)
        if mine:
            errors[f"{field}.quantity"] = mine["quantity"]
            continue
        given[seq], where[seq] = quantity, field
    return given, where


def _checked_quantities(
    order: Order, data: dict[str, Any], errors: dict[str, list[str]]
) -> tuple[int, dict[int, int], dict[int, str], dict[int, int]]:
    """The order's quantity and its steps' new quantities (only those that change), and the steps given (as entered).
    A step the change does not give scales with the order's quantity, rounded up, from its quantity as last entered
    (so that the order's quantity changed and changed back gives it back); one it gives takes what it gives (also
    its present quantity). No step may go below the units delivered or under way on it (not counting units a
    dispute found defective: those are made again). Also the field each changed step's quantity came from, to name
    in an error."""
    steps = {op.seq: op for op in order.operations.all()}
    total = order.quantity
    if data.get("quantity") is not None:  # null: left as it is
        total = whole(data, "quantity", errors, low=1, high=MAX_QUANTITY)
    given, where = _step_quantities(data.get("operations"), steps, errors)
    scales = "quantity" not in errors and total != order.quantity
    new: dict[int, int] = {}
    for seq, op in steps.items():
        if seq in given:  # as given, also where that is what it is now: kept while the order's quantity changes
            if given[seq] != op.quantity:
                new[seq] = given[seq]
        elif scales:
            scaled = -(-op.entered_quantity * total // op.entered_for)
            if scaled != op.quantity:
                new[seq] = scaled
            if scaled > MAX_QUANTITY and "quantity" not in errors:
                errors["quantity"] = [
                    _("Too large: step %(step)d would scale to %(n)s units, more than %(most)s.")
                    % {"step": seq, "n": grouped(scaled), "most": grouped(MAX_QUANTITY)}
                ]
    held: dict[int, int] = defaultdict(int)
    for a in order.allocations.filter(under_way()).select_related("operation"):
        held[a.operation.seq] += usable(a)
    keys = {seq: f"{where[seq]}.quantity" if seq in where else "quantity" for seq in new}
    for seq, quantity in sorted(new.items()):
        if quantity >= held[seq]:
            continue
        if seq in where:
            errors[keys[seq]] = [
                _("Must be at least %(n)s: that many units of this step are delivered or under way.")
                % {"n": grouped(held[seq])}
            ]
        elif "quantity" not in errors:
            errors["quantity"] = [
                _("Too small: step %(step)d would scale to %(m)s units, but %(n)s of them are delivered or under way.")
                % {"step": seq, "m": grouped(quantity), "n": grouped(held[seq])}
            ]
    return total, new, keys, given


def _keeps_work_under_way(
    order: Order, values: dict[str, Any], errors: dict[str, list[str]], steps: dict[int, int], keys: dict[int, str]
) -> None:
    """New terms (`values`, those sent) may not disown work delivered or under way: a supplier limit, share cap or
    budget below it is refused. A share cap is measured against the steps' new quantities (`steps`); a cap left as
    it is, refusing a step's new quantity, names the field that step's quantity came in (`keys`)."""
    held: dict[tuple[int, int], int] = defaultdict(int)
    quantities = {}
    spent = Decimal(0)
    for a in order.allocations.filter(under_way()).select_related("operation"):
        held[a.operation.seq, a.capability_id] += a.quantity
        quantities[a.operation.seq] = steps.get(a.operation.seq, a.operation.quantity)
        spent += a.unit_cost * a.quantity
    budget = values.get("budget")
    if budget is not None and "budget" not in errors and budget < spent:
        errors["budget"] = [
            _("Must be at least %(amount)s: work delivered or under way already costs that much.")
            % {"amount": grouped(spent)}
        ]
    suppliers = Counter(seq for seq, _cap in held)
    most = max(suppliers.values(), default=0)
    if values.get("max_suppliers") is not None and "max_suppliers" not in errors and values["max_suppliers"] < most:
        errors["max_suppliers"] = [
            _("Must be at least %(n)d: that many factories have delivered or started work on one step.") % {"n": most}
        ]
    share = values.get("max_share")
    if share is not None and "max_share" not in errors:
        over = [(seq, q) for (seq, _cap), q in held.items() if q > core.max_share_units(float(share), quantities[seq])]
        if over:
            seq, q = over[0]
            errors["max_share"] = [
                _("Too small: one factory has delivered or started %(n)d of the %(m)d units of step %(step)d.")
                % {"n": q, "m": quantities[seq], "step": seq}
            ]
    elif "max_share" not in values and order.max_share is not None:  # the cap stays: the steps' new quantities
        for (seq, _cap), q in sorted(held.items()):
            if seq in steps and q > core.max_share_units(float(order.max_share), steps[seq]):
                errors.setdefault(keys[seq], []).append(
                    _(
                        "Too small for the share cap of %(share)s: one factory has delivered or started %(n)d units "
                        "of step %(step)d."
                    )
                    % {"share": order.max_share, "n": q, "step": seq}
                )
                break


@dataclass(frozen=True)
class AcceptedPart:
    """Accepted work a change would take back or cut, as the buyer is asked about it."""

    allocation_id: int
    factory: Any  # the Organization
    step: int
    process: Any  # the Process
    week: dt.date
    quantity: int
    keeps: int  # what the factory keeps of it: 0 when taken back whole
    offered_again: bool  # the same plan offers that factory work on the step again (its part moves, not goes)


@dataclass(frozen=True)
class AmendPreview:
    parts: tuple[AcceptedPart, ...]
    cost_before: int | None
    cost_after: int | None
    weeks_late: int
    fits: bool = True  # False: no plan fits the new terms (the order would be found infeasible)

    @property
    def key(self) -> str:
        """What the repair does to accepted work, in short: a confirmation names the preview it agrees to."""
        said = ";".join(f"{p.allocation_id}:{p.keeps}" for p in sorted(self.parts, key=lambda p: p.allocation_id))
        return hashlib.sha256(f"{said}|{self.fits}".encode()).hexdigest()[:16]

    @property
    def asks(self) -> bool:
        """Whether the change needs the buyer's yes: it takes back or cuts accepted work, or leaves no plan."""
        return bool(self.parts) or not self.fits


class AmendWouldMoveAccepted(Exception):  # noqa: N818 - a question for the buyer, not a failure
    """Raised by `order_amend(confirmed=False)` when the repair would take back or cut members' accepted work: the
    change is undone (the transaction rolls back) and `preview` says what it would do."""

    def __init__(self, preview: AmendPreview, *, changed: bool = False, fields: Sequence[str] = ()) -> None:
        super().__init__("the change would move accepted work")
        self.preview = preview
        self.changed = changed  # it differs from the preview the buyer confirmed
        # the terms this change sets: a confirmation sends only these, so that it cannot put back a term someone
        # changed meanwhile from a form that still showed the old one
        self.fields = tuple(fields)


def order_amend_preview(*, actor: Any, order: Order, data: dict[str, Any], if_match: str | None = None) -> AmendPreview:
    """What `order_amend` would do with `data`, changing nothing (ValidationFailed as it would refuse): the change
    and its repair are made in a savepoint, read, and rolled back."""
    with transaction.atomic():
        _order, preview, _fields = _amend(actor=actor, order=order, data=data, if_match=if_match)
        transaction.set_rollback(True)
    return preview


@transaction.atomic
def order_amend(
    *,
    actor: Any,
    order: Order,
    data: dict[str, Any],
    confirmed: bool = True,
    expect: str | None = None,
    if_match: str | None = None,
) -> Order:
    """The buyer changes an open order's due week, quantities or terms (the fields given; an empty budget or share
    removes it; steps left as they are scale with a new order quantity). A planned order is re-planned at once
    around the work members accepted, which moves only where the new terms demand it. Nothing is saved if any
    field is wrong. Not `confirmed`, a change that would take back or cut accepted work (or leave no plan) is
    undone and AmendWouldMoveAccepted says what it would do, for the buyer to confirm; `expect` is the key of the
    preview confirmed, and a repair that now does otherwise is asked again. `if_match`: the order's version the
    caller read (`common.versions`); an order changed since, by anyone or by a re-plan, is not changed."""
    amended, preview, fields = _amend(actor=actor, order=order, data=data, if_match=if_match)
    moved = expect is not None and preview.key != expect
    if preview.asks and (not confirmed or moved):
        raise AmendWouldMoveAccepted(preview, changed=moved, fields=fields)  # out of the transaction: all undone
    return amended


def _amend(
    *, actor: Any, order: Order, data: dict[str, Any], if_match: str | None = None
) -> tuple[Order, AmendPreview, list[str]]:
    """Make the change and its repair (in the caller's transaction); the order, what the repair did to accepted
    work, and the fields of `data` that change something."""
    standing_held([order.buyer_id], actor=actor)  # the buyer's standing, then the order, as `order_plan`
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not may_decide(actor, order):
        standing_refused(actor, order.buyer_id, buyer_not_in_good_standing())
        raise Forbidden(_("Only whoever placed the order, or an admin of the buyer, changes its terms."))
    version_check(order, if_match)
    order_turn(order)  # it re-plans: see `capacity.planning_turn`
    if order.status in Order.CLOSED:
        raise ValidationFailed({"status": [_("This order is closed.")]})
    unknown = sorted(set(data) - set(AMENDABLE))
    if unknown:
        raise ValidationFailed(
            {k: [_("Cannot be changed here; cancel and enter a new order instead.")] for k in unknown}
        )
    current = {
        "max_suppliers": order.max_suppliers,
        "budget": order.budget,
        "late_penalty": order.late_penalty,
        "max_share": order.max_share,
    }
    errors: dict[str, list[str]] = {}
    values = checked_terms(current | {k: v for k, v in data.items() if k != "due_week"}, errors)
    values.update(checked_regions(data, errors, order))
    due = order.due_week
    if data.get("due_week") is not None:  # null: left as it is
        due = date(data.get("due_week"), "due_week", errors) or due
        first = monday(first_open_day())
        if "due_week" not in errors and monday(due) != order.due_week and monday(due) < first:
            errors["due_week"] = [
                _("Must not be before the first week still open to new work (%(week)s).") % {"week": first}
            ]
        elif "due_week" not in errors:
            due_within(order.start_week, due, errors)
    values["quantity"], steps, keys, entered = _checked_quantities(order, data, errors)
    _keeps_work_under_way(order, {k: v for k, v in values.items() if k in data}, errors, steps, keys)
    if errors:
        raise ValidationFailed(errors)
    values["due_week"] = monday(due)
    changed = {k: v for k, v in values.items() if getattr(order, k) != v}
    cost_before = plan_cost(order) if order.status not in (Order.Status.DRAFT, Order.Status.INFEASIBLE) else None
    if not changed and not steps:
        _entered(order, entered)  # a step given at what it is: kept so while the order's quantity changes later
        return order, AmendPreview((), cost_before, cost_before, _weeks_late(order)), []
    for k, v in changed.items():
        setattr(order, k, v)
    order.save(update_fields=list(changed))
    operations = list(order.operations.filter(seq__in=steps))
    for op in operations:
        op.quantity = steps[op.seq]
    Operation.objects.bulk_update(operations, ["quantity"])
    _entered(order, entered)
    payload: dict[str, Any] = {k: str(v) if v is not None else None for k, v in changed.items()}
    if steps:
        payload["operations"] = {str(seq): q for seq, q in sorted(steps.items())}
    record("factory.order_amended", actor=actor, subject=order, payload=payload, organization_id=order.buyer_id)
    fields = [k for k in data if k in changed or (k == "operations" and steps)]
    if order.status == Order.Status.DRAFT:
        return order, AmendPreview((), None, None, 0), fields
    accepted = list(
        order.allocations.filter(status=Allocation.Status.ACCEPTED).select_related("factory", "operation__process")
    )
    had_plan = order.status != Order.Status.INFEASIBLE
    order = replan(order, actor=actor, reason="amended")
    return order, _amend_preview(order, accepted, cost_before, had_plan), fields


def _entered(order: Order, given: dict[int, int]) -> None:
    """Steps whose quantities the change gave are scaled from these, at the order's quantity now, from here on."""
    operations = list(order.operations.filter(seq__in=given))
    for op in operations:
        op.entered_quantity, op.entered_for = given[op.seq], order.quantity
    Operation.objects.bulk_update(operations, ["entered_quantity", "entered_for"])


def _weeks_late(order: Order) -> int:
    return int((order.plan_stats or {}).get("weeks_late", 0)) if order.status != Order.Status.INFEASIBLE else 0


def _amend_preview(order: Order, accepted: list[Allocation], cost_before: int | None, had_plan: bool) -> AmendPreview:
    """What the repair just made of the accepted work in `accepted` (read before it). An order that had no plan
    before is not asked about again for having none after."""
    now = {
        a.pk: (a.status, a.quantity)
        for a in Allocation.objects.filter(pk__in=[a.pk for a in accepted]).only("status", "quantity")
    }
    offered = set(order.allocations.filter(status=Allocation.Status.OFFERED).values_list("factory_id", "operation_id"))
    parts = []
    for a in accepted:
        status, quantity = now[a.pk]
        if status == Allocation.Status.ACCEPTED and quantity >= a.quantity:
            continue
        keeps = quantity if status == Allocation.Status.ACCEPTED else 0
        again = (a.factory_id, a.operation_id) in offered
        parts.append(
            AcceptedPart(a.pk, a.factory, a.operation.seq, a.operation.process, a.week, a.quantity, keeps, again)
        )
    return AmendPreview(
        parts=tuple(sorted(parts, key=lambda p: (p.step, p.week, p.factory.pk))),
        cost_before=cost_before,
        # none when no plan fits the new terms
        cost_after=plan_cost(order) if order.status != Order.Status.INFEASIBLE else None,
        weeks_late=_weeks_late(order),
        fits=order.status != Order.Status.INFEASIBLE or not had_plan,
    )
