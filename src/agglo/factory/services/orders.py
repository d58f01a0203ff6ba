"""Orders and their plans: enter an order, have the solver split it across member factories, re-plan."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.language import Joined, Phrase
from agglo.common.notify import notify
from agglo.common.numbers import grouped
from agglo.factory import allocation as core
from agglo.factory.diagnosis import Finding, diagnose
from agglo.factory.greedy import GreedyStuck, greedy_plan
from agglo.factory.models import Allocation, Capability, FactoryMember, Operation, Order, Process, VirtualFactory
from agglo.factory.selectors.planning import (
    AHEAD_WEEKS,
    capability_id_of,
    capability_key,
    first_open_day,
    horizon,
    is_under_way,
    offers_holding,
    order_problem,
    under_way,
)
from agglo.factory.services.capacity import release
from agglo.factory.services.telling import clipped, tell_factory
from agglo.factory.solver import solve
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
from agglo.factory.weeks import index_of, monday, week_at
from agglo.factory.wording import finding_kept, plan_cost

MAX_OPERATIONS = 40
CHANGE_PENALTY = 50  # yuan per unit of accepted work a re-plan moves: members' commitments are kept if possible


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
        quantity = whole(item, "quantity", mine, low=1, high=10_000_000)
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


def _due_within(start: dt.date, due: dt.date, errors: dict[str, list[str]]) -> None:
    if due < start:
        errors["due_week"] = [_("Must not be before the first week.")]
    elif index_of(start, due) >= horizon():
        errors["due_week"] = [_("Must be within %(n)d weeks of the first week.") % {"n": horizon()}]


def _terms(data: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """The order's commercial terms, checked: supplier limit, budget, lateness penalty and share cap."""
    values: dict[str, Any] = {
        "max_suppliers": whole(data, "max_suppliers", errors, low=1, high=10, default=3),
        "budget": money(data, "budget", errors, required=False),
        "late_penalty": money(data, "late_penalty", errors, required=False) or Decimal("0"),
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


AMENDABLE = ("due_week", "max_suppliers", "budget", "late_penalty", "max_share", "regions_only", "regions_excluded")


def _keeps_work_under_way(order: Order, values: dict[str, Any], errors: dict[str, list[str]]) -> None:
    """New terms may not disown work delivered or under way: a supplier limit, share cap or budget below it is
    refused."""
    held: dict[tuple[int, int], int] = defaultdict(int)
    steps = {}
    spent = Decimal(0)
    for a in order.allocations.filter(under_way()).select_related("operation"):
        held[a.operation.seq, a.capability_id] += a.quantity
        steps[a.operation.seq] = a.operation.quantity
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
        over = [(seq, q) for (seq, _cap), q in held.items() if q > core.max_share_units(float(share), steps[seq])]
        if over:
            seq, q = over[0]
            errors["max_share"] = [
                _("Too small: one factory has delivered or started %(n)d of the %(m)d units of step %(step)d.")
                % {"n": q, "m": steps[seq], "step": seq}
            ]


def _regions(data: dict[str, Any], errors: dict[str, list[str]], order: Order | None = None) -> dict[str, list[str]]:
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


def order_amend_preview(*, actor: Any, order: Order, data: dict[str, Any]) -> AmendPreview:
    """What `order_amend` would do with `data`, changing nothing (ValidationFailed as it would refuse): the change
    and its repair are made in a savepoint, read, and rolled back."""
    with transaction.atomic():
        _order, preview, _fields = _amend(actor=actor, order=order, data=data)
        transaction.set_rollback(True)
    return preview


@transaction.atomic
def order_amend(
    *, actor: Any, order: Order, data: dict[str, Any], confirmed: bool = True, expect: str | None = None
) -> Order:
    """The buyer changes an open order's due week or terms (the fields given; an empty budget or share removes
    it). A planned order is re-planned at once around the work members accepted, which moves only where the new
    terms demand it. Nothing is saved if any field is wrong. Not `confirmed`, a change that would take back or cut
    accepted work (or leave no plan) is undone and AmendWouldMoveAccepted says what it would do, for the buyer to
    confirm; `expect` is the key of the preview confirmed, and a repair that now does otherwise is asked again."""
    amended, preview, fields = _amend(actor=actor, order=order, data=data)
    moved = expect is not None and preview.key != expect
    if preview.asks and (not confirmed or moved):
        raise AmendWouldMoveAccepted(preview, changed=moved, fields=fields)  # out of the transaction: all undone
    return amended


def _amend(*, actor: Any, order: Order, data: dict[str, Any]) -> tuple[Order, AmendPreview, list[str]]:
    """Make the change and its repair (in the caller's transaction); the order, what the repair did to accepted
    work, and the fields of `data` that change something."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.buyer_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the buyer changes its order."))
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
    values = _terms(current | {k: v for k, v in data.items() if k != "due_week"}, errors)
    values.update(_regions(data, errors, order))
    due = order.due_week
    if "due_week" in data:
        due = date(data.get("due_week"), "due_week", errors) or due
        first = monday(first_open_day())
        if "due_week" not in errors and monday(due) != order.due_week and monday(due) < first:
            errors["due_week"] = [
                _("Must not be before the first week still open to new work (%(week)s).") % {"week": first}
            ]
        elif "due_week" not in errors:
            _due_within(order.start_week, due, errors)
    _keeps_work_under_way(order, {k: v for k, v in values.items() if k in data}, errors)
    if errors:
        raise ValidationFailed(errors)
    values["due_week"] = monday(due)
    changed = {k: v for k, v in values.items() if getattr(order, k) != v}
    cost_before = plan_cost(order) if order.status not in (Order.Status.DRAFT, Order.Status.INFEASIBLE) else None
    if not changed:
        return order, AmendPreview((), cost_before, cost_before, _weeks_late(order)), []
    for k, v in changed.items():
        setattr(order, k, v)
    order.save(update_fields=list(changed))
    record(
        "factory.order_amended",
        actor=actor,
        subject=order,
        payload={k: str(v) if v is not None else None for k, v in changed.items()},
        organization_id=order.buyer_id,
    )
    fields = [k for k in data if k in changed]
    if order.status == Order.Status.DRAFT:
        return order, AmendPreview((), None, None, 0), fields
    accepted = list(
        order.allocations.filter(status=Allocation.Status.ACCEPTED).select_related("factory", "operation__process")
    )
    had_plan = order.status != Order.Status.INFEASIBLE
    order = replan(order, actor=actor, reason="amended")
    return order, _amend_preview(order, accepted, cost_before, had_plan), fields


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


@transaction.atomic
def order_create(*, actor: Any, data: dict[str, Any]) -> Order:
    """Enter an order for one of the actor's organizations; nothing is saved if any field is wrong."""
    active = policy.active_organization_ids(actor)
    buyer = data.get("buyer")
    if buyer in (None, "") and len(active) == 1:
        buyer = next(iter(active))
    errors: dict[str, list[str]] = {}
    try:
        buyer_id = int(buyer)
    except (TypeError, ValueError):
        raise ValidationFailed({"buyer": [_("Say which of your organizations places the order.")]}) from None
    if buyer_id not in active:
        raise Forbidden(_("You may place orders only for your own organizations in good standing."))
    product = str(data.get("product") or "").strip()
    if not product:
        errors["product"] = [_("This field is required.")]
    elif len(product) > 200:
        errors["product"] = [_("At most %(max)d characters (has %(n)d).") % {"max": 200, "n": len(product)}]
    quantity = whole(data, "quantity", errors, low=1, high=10_000_000)
    start = date(data.get("start_week") or first_open_day(), "start_week", errors)
    due = date(data.get("due_week"), "due_week", errors)
    first = monday(first_open_day())  # the week under way takes new work only until Wednesday
    if start and not first <= monday(start) < first + dt.timedelta(weeks=AHEAD_WEEKS):
        errors["start_week"] = [
            _("Must lie between the first week still open to new work (%(week)s) and a year later.") % {"week": first}
        ]
    elif start and due:
        _due_within(start, due, errors)
    values = {
        "min_quality": whole(data, "min_quality", errors, low=0, high=3, default=0),
        "certifications": certifications_clean(data.get("certifications"), "certifications", errors),
        **_regions(data, errors),
        **_terms(data, errors),
    }
    steps = _operations(data.get("operations"), errors)
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
            Operation(order=order, seq=s["seq"], process_id=s["process"], quantity=s["quantity"], after=s["after"])
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
    return order


def time_limit() -> float:
    return float(getattr(settings, "AGGLO_FACTORY_TIME_LIMIT", 5.0))


@transaction.atomic
def order_plan(*, actor: Any, order: Order) -> Order:
    """Have the solver propose a split plan; factories are offered their parts on the job board."""
    if order.buyer_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the buyer plans its order."))
    if order.status in Order.CLOSED:
        raise ValidationFailed({"status": [_("This order is closed.")]})
    return replan(order, actor=actor, reason="plan")


MIN_ANSWER_HOURS = 24  # the least time anyone is given to answer


def answer_deadline(week: dt.date, *, now: dt.datetime | None = None) -> dt.datetime:
    """When an answer on work in `week` is due: a factory's to an offer, or the buyer's to a counter-offer.

    The answer time (AGGLO_FACTORY_ANSWER_HOURS), but due by the start of the work's week, so that the work is
    settled before it should begin (at least a day to answer, though, for work offered just before or in its
    week), and never past the end of that week: an answer after the week is over could only accept work that can
    no longer be done in it."""
    now = now or timezone.now()
    begins = timezone.make_aware(dt.datetime.combine(monday(week), dt.time.min))
    over = begins + dt.timedelta(weeks=1)
    full = now + dt.timedelta(hours=int(getattr(settings, "AGGLO_FACTORY_ANSWER_HOURS", 72)))
    return min(max(min(full, begins), now + dt.timedelta(hours=MIN_ANSWER_HOURS)), over, full)


def _held_elsewhere(order: Order, problem: core.AllocationProblem, findings: list[Finding]) -> list[Finding]:
    """When room is short: how much of it other orders' open offers hold, step by step (each in its own unit), and
    until when at the latest (they keep it from new plans until answered, so planning again after that may find
    it)."""
    if not {f.rule for f in findings} & {"capacity", "suppliers", "together"}:
        return []
    # the steps short of room, or every step when the shortage lies between them; for each only the factories that
    # may serve it (an offer elsewhere could never make room there)
    named = {f.operation for f in findings if f.operation}
    short = [op.key for op in problem.operations if op.key in named] if named else [op.key for op in problem.operations]
    able = core.candidates(problem)
    # what a step short of weekly room lacks: if the offers hold less, their answers cannot make the room
    lacking = {
        f.operation: int(f.detail["needed"]) - int(f.detail["available"])
        for f in findings
        if f.rule == "capacity" and {"needed", "available"} <= set(f.detail)
    }
    held = []
    for step in short:
        units, until = offers_holding(order, {capability_id_of(c.key) for c in able.get(step, [])})
        if units and until is not None:
            until_text = timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
            rule = "held_short" if units < lacking.get(step, 0) else "held"
            held.append(Finding(step, rule, {"units": units, "until": until_text}))
    return held


def _over_budget(problem: core.AllocationProblem) -> list[Finding]:
    """When the cheap checks find nothing: is it the budget? Plan without it, and compare what that costs."""
    terms = problem.orders[0]
    if terms.budget is None:
        return []
    free = solve(replace(problem, orders=(replace(terms, budget=None),)), time_limit=time_limit())
    if not free.placements:
        return []
    spent = core.budget_spend(problem, free.placements)  # in fen, as the solver keeps the budget
    if spent <= core.fen(terms.budget):
        return []
    return [Finding("", "budget_plan", {"cost": f"{spent / 100:.2f}", "budget": f"{terms.budget:.2f}"})]


def _tell_offers_gone(order: Order, offered: set[int]) -> None:
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


def repaired(what: Phrase, order: Order) -> Phrase:
    """`what` happened, then what the re-plan that followed made of `order`: for the buyer, who did not act."""
    if order.status == Order.Status.INFEASIBLE:
        outcome = Phrase(gettext_lazy("No plan fits the rest of the order any more; the order page says why."))
    elif order.status in Order.CLOSED:
        outcome = Phrase(gettext_lazy("Order status now: %(status)s."), status=Order.Status(order.status).label)
    elif (order.plan_stats or {}).get("unsolved"):
        outcome = Phrase(
            gettext_lazy(
                "The solver found no new plan for the rest within its time limit, so the plan stands as it was, "
                "without that part: plan the order again from its page."
            )
        )
    else:
        changes = {
            "offered": 0,
            "factories": 0,
            "moved": 0,
            "reduced": 0,
            **(order.plan_stats or {}).get("changes", {}),
        }
        if changes["offered"]:
            outcome = Phrase(
                gettext_lazy("The plan was repaired: %(offers)s, from %(factories)s."),
                offers=Phrase(
                    ngettext_lazy("%(n)d offer awaits an answer", "%(n)d offers await answers", "n"),
                    n=changes["offered"],
                ),
                factories=Phrase(ngettext_lazy("%(n)d factory", "%(n)d factories", "n"), n=changes["factories"]),
            )
        else:
            outcome = Phrase(gettext_lazy("The plan was repaired; nothing new needs an answer."))
        if changes["moved"]:
            moved = Phrase(
                ngettext_lazy(
                    "%(n)d accepted part had to be re-planned.", "%(n)d accepted parts had to be re-planned.", "n"
                ),
                n=changes["moved"],
            )
            outcome = Phrase(gettext_lazy("%(what)s %(outcome)s"), what=outcome, outcome=moved)
        if changes["reduced"]:
            cut = Phrase(
                ngettext_lazy("%(n)d accepted part was reduced.", "%(n)d accepted parts were reduced.", "n"),
                n=changes["reduced"],
            )
            outcome = Phrase(gettext_lazy("%(what)s %(outcome)s"), what=outcome, outcome=cut)
    return Phrase(gettext_lazy("%(what)s %(outcome)s"), what=what, outcome=outcome)


def replan(order: Order, *, actor: Any, reason: str, cause: Allocation | None = None) -> Order:
    """Solve the order again around the work members already accepted (moving it is penalised); offers that
    were not answered are replaced. Called by the services that change a plan, inside their transaction; a
    closed order is returned as it is. The order is read again under its lock, so that a caller's copy read
    before another change committed (an amendment, expired offers) plans nothing with the old terms or version;
    callers go on with the order returned. `cause` is the factory's piece of work whose answer set the re-plan off
    (declined, withdrawn or late), so that a notice to that factory names the step it answered on."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status in Order.CLOSED:
        return order
    problem = order_problem(order, change_penalty=CHANGE_PENALTY)
    try:
        hint = greedy_plan(problem) if not problem.previous else []
    except (GreedyStuck, ValueError):
        hint = []
    result = solve(problem, time_limit=time_limit(), hint=hint)
    if not result.placements and result.status not in ("infeasible", "invalid"):
        return _unsolved(order, actor=actor, reason=reason, seconds=result.seconds)
    open_offers = order.allocations.filter(status__in=[Allocation.Status.OFFERED, Allocation.Status.COUNTERED])
    offered = set(open_offers.filter(status=Allocation.Status.OFFERED).values_list("factory_id", flat=True))
    # offers the new plan may make again as they were: their factories need not hear of "new" work
    was_offered = frozenset(
        open_offers.filter(status=Allocation.Status.OFFERED).values_list(
            "operation_id", "capability_id", "week", "quantity"
        )
    )
    counters = list(open_offers.filter(status=Allocation.Status.COUNTERED).values_list("factory_id", flat=True))
    countered, void = sorted(set(counters)), len(counters)
    open_offers.filter(status=Allocation.Status.COUNTERED).update(status=Allocation.Status.SUPERSEDED)
    for factory in countered:  # its counter-offer is void: the new plan offers afresh
        tell_factory(
            factory,
            "factory.superseded",
            Phrase(
                gettext_lazy(
                    "Order %(product)s was re-planned before the buyer decided on your counter-offer: it is void, "
                    "and no offer to you for that week will exceed it."
                ),
                product=order.product,
            ),
        )
    if void:  # the buyer was waiting to decide on them
        notify(
            policy.organization_admins(order.buyer_id),
            verb="factory.counter_voided",
            text=Phrase(
                ngettext_lazy(
                    "Order %(product)s was re-planned: %(n)d counter-offer you had not decided on is void.",
                    "Order %(product)s was re-planned: %(n)d counter-offers you had not decided on are void.",
                    "n",
                ),
                product=order.product,
                n=void,
            ),
            link=f"/factory/orders/{order.pk}/",
        )
    if not result.placements:
        open_offers.update(status=Allocation.Status.SUPERSEDED)
        order.status = Order.Status.INFEASIBLE
        findings = (
            [Finding("", "too_large")]
            if result.status == "invalid"
            else diagnose(problem) or _over_budget(problem) or [Finding("", "together", {"n": problem.weeks})]
        )
        findings += _held_elsewhere(order, problem, findings)
        order.diagnosis = [finding_kept(f) for f in findings]
        order.plan_stats = {
            "status": result.status,
            "seconds": round(result.seconds, 3),
            # the findings describe capacity and offers at this moment: the page dates them
            "checked_at": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        }
        order.save(update_fields=["status", "diagnosis", "plan_stats"])
        _tell_offers_gone(order, offered)
        members_sync(order)
        finish_if_delivered(order)
        record(
            "factory.order_infeasible",
            actor=actor,
            subject=order,
            payload={"reason": reason},
            organization_id=order.buyer_id,
        )
        return order
    changes = _apply(
        order,
        problem,
        result.placements,
        actor=actor,
        reason=reason,
        was_offered=was_offered,
        offers=list(open_offers.select_related("capability", "operation__process")),
        cause=cause,
    )
    _tell_offers_gone(order, offered)
    members_sync(order)
    costs = result.costs
    objective = costs.total if costs else result.objective
    bound = result.bound if result.bound is None or objective is None else min(result.bound, objective)
    order.plan_version += 1
    order.status = Order.Status.PLANNED
    order.diagnosis = []
    order.plan_stats = {
        "status": result.status,
        # the parts' sum, so that the page's figures add up to the yuan (the solver's own is rounded from fen)
        "objective": objective,
        "bound": bound,
        # of the figures shown, so that equal objective and bound read as no gap
        "gap_pct": round(100 * (objective - bound) / max(objective, 1), 3) if objective and bound is not None else 0.0,
        "seconds": round(result.seconds, 3),
        "costs": vars(costs) if costs else {},
        "reason": reason,
        "changes": changes,
        # when the plan's last step ends, against the due week (a plan may be late, at its penalty)
        "finish_week": (finish := week_at(order.start_week, max(p.week for p in result.placements))).isoformat(),
        "weeks_late": max(0, (finish - order.due_week).days // 7),
    }
    order.save(update_fields=["plan_version", "status", "diagnosis", "plan_stats"])
    confirm_if_complete(order)
    finish_if_delivered(order)
    record(
        "factory.order_planned",
        actor=actor,
        subject=order,
        payload={"version": order.plan_version, "objective": result.objective, "reason": reason},
        organization_id=order.buyer_id,
    )
    return order


# re-plans the buyer asked for: when the solver runs out of time, they are undone and the buyer told to try again
# (a decision on a counter-offer stands, as a factory's answer does: it is an answer to the factory)
BUYER_REPLANS = {"plan", "amended"}


def _unsolved(order: Order, *, actor: Any, reason: str, seconds: float) -> Order:
    """The solver found no plan within its time, nor proved there is none: that is no reason to take back offers
    or call the order infeasible. What the buyer asked for is refused whole (its transaction rolls back); after a
    factory's answer or offers expiring, which stand, the plan stays as it was (with the gap they left) and says
    so, so that the buyer plans again."""
    if reason in BUYER_REPLANS:
        raise ValidationFailed(
            {
                "plan": [
                    _(
                        "No plan was found within the solver's time limit (%(seconds)s s), nor proof that none "
                        "exists: nothing was changed. Try again; a later due week or looser terms make the order "
                        "easier to plan."
                    )
                    % {"seconds": round(time_limit(), 1)}
                ]
            }
        )
    order.plan_stats = {**(order.plan_stats or {}), "unsolved": reason, "unsolved_seconds": round(seconds, 3)}
    if order.status == Order.Status.CONFIRMED:  # what the factory gave back is a gap now: not confirmed any more
        order.status = Order.Status.PLANNED
    order.save(update_fields=["plan_stats", "status"])
    record(
        "factory.order_unsolved",
        actor=actor,
        subject=order,
        payload={"reason": reason},
        organization_id=order.buyer_id,
    )
    return order


def _apply(
    order: Order,
    problem: core.AllocationProblem,
    placements: tuple[core.Placement, ...],
    *,
    actor: Any,
    reason: str,
    was_offered: frozenset[tuple[int, int, dt.date, int]] = frozenset(),
    offers: Sequence[Allocation] = (),
    cause: Allocation | None = None,
) -> dict[str, int]:
    """Keep accepted work the new plan keeps; supersede the rest; offer what is new. Work delivered or under way
    is never offered again nor superseded (the solver keeps it: it is fixed in the problem). Open `offers` the new
    plan makes again as they stand (same week, quantity and price) stay open, with their ids and deadlines, so
    that a factory answering one meanwhile is not refused for a re-plan that changed nothing of it."""
    wanted: dict[tuple[str, str, int], int] = defaultdict(int)
    for p in placements:
        wanted[p.operation, p.capability, p.week] += p.quantity
    held = order.allocations.filter(status__in=[Allocation.Status.DELIVERED, Allocation.Status.ACCEPTED])
    superseded: list[Allocation] = []
    reduced: list[tuple[Allocation, int]] = []  # accepted work the plan keeps part of, with what was accepted
    # work under way first, so that what the plan places in a week goes to it before to work not begun
    for a in sorted(held.select_related("operation__process", "capability"), key=lambda a: not is_under_way(a)):
        key = (str(a.operation.seq), capability_key(a.capability_id), index_of(order.start_week, a.week))
        if is_under_way(a) or wanted.get(key, 0) >= a.quantity:
            wanted[key] = max(0, wanted.get(key, 0) - a.quantity)
            continue
        if wanted.get(key, 0) >= max(1, a.capability.min_lot):
            # the plan keeps part of it: the acceptance stands for that part (the solver charged only the units
            # it took away), and only the rest of the week's capacity is released; a part below the factory's
            # minimum lot is not one it agreed to, and is offered again instead
            was, a.quantity, wanted[key] = a.quantity, wanted[key], 0
            a.save(update_fields=["quantity", "updated_at"])
            release(a.capability, a.week, was - a.quantity)
            record(
                "factory.allocation_reduced",
                actor=actor,
                subject=a,
                payload={"from": was, "to": a.quantity, "reason": reason},
                organization_id=a.factory_id,
            )
            reduced.append((a, was))
            continue
        a.status = Allocation.Status.SUPERSEDED
        a.moved_by = reason if reason in Allocation.MovedBy.values else ""
        a.save(update_fields=["status", "moved_by", "updated_at"])
        release(a.capability, a.week, a.quantity)
        superseded.append(a)
    kept, dropped = [], []
    for a in offers:
        key = (str(a.operation.seq), capability_key(a.capability_id), index_of(order.start_week, a.week))
        # kept only as it stands: a plan that wants more of that week makes one new offer of the whole, not a
        # second one beside it
        if wanted.get(key, 0) == a.quantity and a.unit_cost == a.capability.unit_cost:
            wanted[key] -= a.quantity
            kept.append(a.pk)
        else:
            dropped.append(a.pk)
    # still open: an offer answered since it was read is the answer's, not the re-plan's
    still_open = Allocation.objects.filter(status=Allocation.Status.OFFERED)
    still_open.filter(pk__in=dropped).update(status=Allocation.Status.SUPERSEDED)
    still_open.filter(pk__in=kept).update(plan_version=order.plan_version + 1)
    ops = {str(op.seq): op for op in order.operations.all()}
    caps = {capability_key(c.pk): c for c in Capability.objects.filter(pk__in={capability_id_of(k[1]) for k in wanted})}
    now = timezone.now()
    new = [
        Allocation(
            order=order,
            operation=ops[o],
            capability=caps[c],
            factory_id=caps[c].organization_id,
            week=week_at(order.start_week, w),
            quantity=q,
            unit_cost=caps[c].unit_cost,
            plan_version=order.plan_version + 1,
            respond_by=answer_deadline(week_at(order.start_week, w), now=now),
        )
        for (o, c, w), q in sorted(wanted.items())
        if q > 0
    ]
    Allocation.objects.bulk_create(new)
    # new offers a moved part's notice already names, and offers made again as they were before this re-plan
    told = {id(n) for n in new if (n.operation_id, n.capability_id, n.week, n.quantity) in was_offered}
    moved: dict[tuple[int, int], list[Allocation]] = defaultdict(list)
    for a in superseded:
        moved[a.factory_id, a.operation_id].append(a)
    # the factory whose own answer set the re-plan off hears it as its own, on the step it answered on
    own_step = cause.operation.seq if cause is not None else None
    for (factory, operation), parts in moved.items():
        again = [n for n in new if n.factory_id == factory and n.operation_id == operation]
        told.update(id(n) for n in again)
        _tell_moved(parts, again, own_step=own_step if cause is not None and factory == cause.factory_id else None)
    for a, was in reduced:
        mine = cause is not None and a.factory_id == cause.factory_id
        _tell_reduced(a, was, reason, own_step=own_step if mine else None)
    # a factory whose open offers the new plan replaced hears which went, not just that new work came
    replaced: dict[int, list[Allocation]] = defaultdict(list)
    for a in offers:
        if a.pk in dropped:
            replaced[a.factory_id].append(a)
    for factory in sorted({a.factory_id for a in new if id(a) not in told}):
        text = Phrase(
            gettext_lazy("New work offered for order %(product)s: answer on your job board."), product=order.product
        )
        if replaced.get(factory):
            text = Phrase(
                gettext_lazy(
                    "Order %(product)s was re-planned: your open offers (%(offers)s) were replaced by new ones: "
                    "answer on your job board."
                ),
                product=order.product,
                offers=Joined(_offer_piece(a) for a in replaced[factory]),
            )
        tell_factory(factory, "factory.offered", text)
    still = [a for a in offers if a.pk in kept]
    return {
        "offered": len(new) + len(still),  # what awaits answers now
        "factories": len({a.factory_id for a in [*new, *still]}),
        "moved": len(superseded),
        "reduced": len(reduced),
    }


def _offer_piece(a: Allocation) -> Phrase:
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


def _tell_moved(parts: list[Allocation], offered_again: list[Allocation], *, own_step: int | None = None) -> None:
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


def _tell_reduced(a: Allocation, was: int, reason: str, *, own_step: int | None = None) -> None:
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


def members_sync(order: Order) -> None:
    """A factory left with no accepted or delivered work in the order leaves its virtual factory, and so no longer
    sees who serves it."""
    working = order.allocations.filter(status__in=[Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED])
    FactoryMember.objects.filter(
        virtual_factory__order=order,
        role__in=[FactoryMember.Role.SUPPLIER, FactoryMember.Role.FINAL],
        active=True,
    ).exclude(organization_id__in=working.values("factory_id")).update(active=False)


def finish_if_delivered(order: Order) -> None:
    """An order is done once every step's whole quantity is delivered (whatever its plan's state); one with some
    step not wholly delivered is not, whatever part of it was."""
    if order.status in (*Order.CLOSED, Order.Status.DRAFT):
        return
    if _every_step_covered(order, Allocation.Status.DELIVERED):
        order.status = Order.Status.DONE
        order.save(update_fields=["status"])


def confirm_if_complete(order: Order) -> None:
    """A planned order is confirmed once nothing awaits an answer and every step's whole quantity is accepted or
    delivered (a plan left with a gap, by a repair that found no plan in time, is not)."""
    live = order.allocations.filter(status__in=[Allocation.Status.OFFERED, Allocation.Status.COUNTERED])
    if order.status != Order.Status.PLANNED or live.exists():
        return
    if _every_step_covered(order, Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED):
        order.status = Order.Status.CONFIRMED
        order.save(update_fields=["status"])


def _every_step_covered(order: Order, *statuses: str) -> bool:
    """Whether the order's work in these states adds up to every step's whole quantity."""
    units = dict(
        order.allocations.filter(status__in=statuses)
        .values("operation_id")
        .annotate(units=Sum("quantity"))
        .values_list("operation_id", "units")
    )
    return all(units.get(op.pk, 0) >= op.quantity for op in order.operations.all())


def cancel_check(*, actor: Any, order: Order, reason: str) -> str:
    """Whether `actor` may cancel `order` for `reason` (the page asks before it cancels); the reason, trimmed."""
    if order.buyer_id not in policy.active_organization_ids(actor):
        raise Forbidden(_("Only the buyer cancels its order."))
    errors: dict[str, list[str]] = {}
    reason = text(reason, "reason", errors, missing=_("Say why, so that the factories understand."))
    if errors:
        raise ValidationFailed(errors)
    if order.status in Order.CLOSED:
        raise ValidationFailed({"status": [_("This order is closed.")]})
    return reason


@transaction.atomic
def order_cancel(*, actor: Any, order: Order, reason: str) -> Order:
    """The buyer cancels an order that is not done: work not yet delivered is called off (its reservations
    released, every factory told); work already delivered stays on record for receipt and the scorecards."""
    order = Order.objects.select_for_update().get(pk=order.pk)  # the order first, as every plan change locks it
    reason = cancel_check(actor=actor, order=order, reason=reason)
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
    order.diagnosis = [reason[:500]]
    order.save(update_fields=["status", "diagnosis"])  # members stay listed: who served the order until it ended
    for factory in sorted(touched):
        tell_factory(
            factory,
            "factory.cancelled",
            Phrase(
                gettext_lazy("Order %(product)s was cancelled by the buyer: %(reason)s"),
                product=order.product,
                reason=clipped(reason),
            ),
        )
    record(
        "factory.order_cancelled",
        actor=actor,
        subject=order,
        payload={"reason": reason[:500]},
        organization_id=order.buyer_id,
    )
    return order
