"""Planning an order and keeping its plan alive: the solver splits the rest of the work across member factories
around what members accepted, offers go out with their answer deadlines, and the order's state follows its work."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from agglo.access import policy
from agglo.common.audit import record
from agglo.common.errors import ValidationFailed
from agglo.common.language import LISTED, Joined, Phrase
from agglo.common.notify import notify
from agglo.factory import allocation as core
from agglo.factory.diagnosis import Finding, diagnose, step_weeks
from agglo.factory.early import forward
from agglo.factory.greedy import GreedyStuck, greedy_plan
from agglo.factory.models import Allocation, Capability, FactoryMember, Order
from agglo.factory.selectors.planning import (
    capability_id_of,
    capability_key,
    first_open_day,
    is_under_way,
    offers_held,
    offers_holding,
    order_problem,
    usable,
    usable_units,
)
from agglo.factory.services.capacity import order_turn, release
from agglo.factory.services.telling import (
    offer_piece,
    tell_factory,
    tell_moved,
    tell_offers_gone,
    tell_reduced,
)
from agglo.factory.solver import solve
from agglo.factory.weeks import index_of, monday, week_at
from agglo.factory.wording import finding_kept

CHANGE_PENALTY = 50  # yuan per unit of accepted work a re-plan moves: members' commitments are kept if possible


def time_limit() -> float:
    return float(getattr(settings, "AGGLO_FACTORY_TIME_LIMIT", 5.0))


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
    # a step that would still lack room with every such offer declined: their answers cannot make it (review 56 L3:
    # the hopeful hint was given under a supplier limit no freed room could lift)
    still_short = {f.operation for f in diagnose(_with_offers_declined(order, problem)) if f.rule in SHORT}
    # a step whose every supplier place is taken by factories holding delivered work: no other factory may help
    full = {
        f.operation
        for f in findings
        if f.rule == "suppliers" and int(f.detail.get("holding", 0)) >= int(f.detail.get("limit", 0))
    }
    held = []
    for step in (s for s in short if s not in full):
        serving = able.get(step, [])
        shut = {capability_id_of(c.key): c.closed for c in serving}
        units, until = offers_holding(order, set(shut), shut)
        if units and until is not None:
            until_text = timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
            rule = "held_short" if step in still_short else "held"
            held.append(Finding(step, rule, {"units": units, "until": until_text}))
    return held


SHORT = ("capacity", "suppliers")


def _with_offers_declined(order: Order, problem: core.AllocationProblem) -> core.AllocationProblem:
    """The problem as it would be if every open offer to other orders were declined: their room free again."""
    ids = [capability_id_of(c.key) for c in problem.capabilities]
    held = offers_held(
        Capability.objects.filter(pk__in=ids),
        order.start_week,
        week_at(order.start_week, problem.weeks - 1),
        besides=order,
    )
    if not held:
        return problem
    freed = [  # not in a week closed to the order's new work (review 94): an answer frees nothing there for it
        replace(
            c,
            capacity=tuple(
                free + (0 if w in c.closed else held.get((capability_id_of(c.key), w), 0))
                for w, free in enumerate(c.capacity)
            ),
        )
        for c in problem.capabilities
    ]
    return replace(problem, capabilities=tuple(freed))


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
    order_turn(order)
    # A factory's answer elsewhere leaves the buyer's pending decisions on counter-offers open: the repair plans
    # around them (as if taken: taking one then changes nothing). A re-plan the buyer asks for voids them.
    keep_counters = reason not in BUYER_REPLANS
    problem = order_problem(order, change_penalty=CHANGE_PENALTY, pending_counters=keep_counters)
    try:
        hint = greedy_plan(problem) if not problem.previous else []
    except (GreedyStuck, ValueError):
        hint = []
    result = solve(problem, time_limit=time_limit(), hint=hint)
    if result.placements:  # among plans of equal cost, the one with the work done earliest (see `early`)
        moved = forward(problem, result.placements, max(0, index_of(order.start_week, first_open_day())))
        if moved != result.placements:  # the same cost, or less lateness
            result = replace(result, placements=moved, costs=core.evaluate(problem, moved)[0])
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
    counters = list(open_offers.filter(status=Allocation.Status.COUNTERED).select_related("operation"))
    pending = counters if keep_counters and result.placements else []
    counters_void(order, [a for a in counters if a not in pending])
    if not result.placements:
        open_offers.update(status=Allocation.Status.SUPERSEDED)
        _surplus_cut(order, actor=actor, reason=reason)
        order.status = Order.Status.INFEASIBLE
        findings = (
            [Finding("", "too_large")]
            if result.status == "invalid"
            else diagnose(problem) or _over_budget(problem) or [step_weeks(problem)]
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
        tell_offers_gone(order, offered)
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
        offers=list(
            open_offers.filter(status=Allocation.Status.OFFERED).select_related("capability", "operation__process")
        ),
        cause=cause,
        pending=pending,
    )
    tell_offers_gone(order, offered)
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


def _surplus_cut(order: Order, *, actor: Any, reason: str) -> None:
    """With no plan, accepted work above a step's (new, smaller) quantity is still cut, latest week first: a piece
    is reduced where the rest stays at the factory's minimum lot, else taken back; its capacity is released and
    its factory told. Work under way stays (a step never goes below it). Review 89: an amendment that left no plan
    kept the surplus accepted and reserved."""
    for op in order.operations.all():
        held = order.allocations.filter(
            operation=op, status__in=[Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED]
        ).select_related("capability", "operation__process", "order")
        rows = list(held)
        surplus = sum(usable(a) for a in rows) - op.quantity
        for a in sorted(rows, key=lambda a: (a.week, a.pk), reverse=True):
            if surplus <= 0:
                break
            if is_under_way(a):
                continue
            cut = min(surplus, a.quantity)
            surplus -= cut
            if a.quantity - cut >= max(1, a.capability.min_lot):
                tell_reduced(a, _cut_to(a, a.quantity - cut, actor=actor, reason=reason), reason)
                continue
            surplus -= a.quantity - cut  # the whole piece goes: the rest of it was below the factory's lot
            _taken_back(a, reason)
            tell_moved([a], [])


def _cut_to(a: Allocation, quantity: int, *, actor: Any, reason: str) -> int:
    """Accepted work reduced in place to `quantity`: the acceptance stands for that, the rest of the week's
    capacity is released, and the audit trail keeps what it was. Returns what was accepted."""
    was, a.quantity = a.quantity, quantity
    a.save(update_fields=["quantity", "updated_at"])
    release(a.capability, a.week, was - a.quantity)
    record(
        "factory.allocation_reduced",
        actor=actor,
        subject=a,
        payload={"from": was, "to": a.quantity, "reason": reason},
        organization_id=a.factory_id,
    )
    return was


def _taken_back(a: Allocation, reason: str) -> None:
    """Accepted work a re-plan takes away, and its capacity released."""
    a.status = Allocation.Status.SUPERSEDED
    a.moved_by = reason if reason in Allocation.MovedBy.values else ""
    a.save(update_fields=["status", "moved_by", "updated_at"])
    release(a.capability, a.week, a.quantity)


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


def counters_void(order: Order, counters: Sequence[Allocation]) -> None:
    """Counter-offers a re-plan sets aside before the buyer decided: void, and both sides told (what the factory
    said still limits later plans: `order_problem`)."""
    if not counters:
        return
    Allocation.objects.filter(pk__in=[a.pk for a in counters], status=Allocation.Status.COUNTERED).update(
        status=Allocation.Status.SUPERSEDED
    )
    for factory in sorted({a.factory_id for a in counters}):  # its counter-offer is void: the new plan offers afresh
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
    notify(  # the buyer was waiting to decide on them
        policy.organization_admins(order.buyer_id),
        verb="factory.counter_voided",
        text=Phrase(
            ngettext_lazy(
                "Order %(product)s was re-planned: %(n)d counter-offer you had not decided on is void.",
                "Order %(product)s was re-planned: %(n)d counter-offers you had not decided on are void.",
                "n",
            ),
            product=order.product,
            n=len(counters),
        ),
        link=f"/factory/orders/{order.pk}/",
    )


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
    pending: Sequence[Allocation] = (),
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
            # a failed delivery counts for what it gave: units placed beside it there are made again, anew
            wanted[key] = max(0, wanted.get(key, 0) - usable(a))
            continue
        if wanted.get(key, 0) >= max(1, a.capability.min_lot):
            # the plan keeps part of it: the acceptance stands for that part (the solver charged only the units
            # it took away), and only the rest of the week's capacity is released; a part below the factory's
            # minimum lot is not one it agreed to, and is offered again instead
            reduced.append((a, _cut_to(a, wanted[key], actor=actor, reason=reason)))
            wanted[key] = 0
            continue
        _taken_back(a, reason)
        superseded.append(a)
    # open counter-offers the plan keeps in their week stay open for the buyer to decide; the others are void
    waiting, void = [], []
    for a in pending:
        key = (str(a.operation.seq), capability_key(a.capability_id), index_of(order.start_week, a.week))
        if wanted.get(key, 0) >= (a.counter_quantity or 0) > 0:
            wanted[key] -= a.counter_quantity or 0
            waiting.append(a.pk)
        else:
            void.append(a)
    # carried into the new version unchanged: `updated_at` stays when the answer was asked for (`reminders`)
    Allocation.objects.filter(pk__in=waiting, status=Allocation.Status.COUNTERED).update(
        plan_version=order.plan_version + 1, updated_at=F("updated_at")
    )
    counters_void(order, void)
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
    still_open.filter(pk__in=kept).update(plan_version=order.plan_version + 1, updated_at=F("updated_at"))
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
        tell_moved(parts, again, own_step=own_step if cause is not None and factory == cause.factory_id else None)
    for a, was in reduced:
        mine = cause is not None and a.factory_id == cause.factory_id
        tell_reduced(a, was, reason, own_step=own_step if mine else None)
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
                offers=Joined((offer_piece(a) for a in replaced[factory]), most=LISTED),
            )
        tell_factory(factory, "factory.offered", text)
    still = [a for a in offers if a.pk in kept]
    return {
        "offered": len(new) + len(still),  # what awaits answers now
        "factories": len({a.factory_id for a in [*new, *still]}),
        "moved": len(superseded),
        "reduced": len(reduced),
        "new": len(new),  # offered afresh, and open offers the new plan dropped: neither means nothing changed
        "withdrawn": len(dropped),
    }


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
        .annotate(units=Sum(usable_units()))  # a delivery ruled failed covers only what it gave
        .values_list("operation_id", "units")
    )
    return all(units.get(op.pk, 0) >= op.quantity for op in order.operations.all())
