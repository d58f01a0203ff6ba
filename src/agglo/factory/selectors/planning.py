"""The allocation problem of one order, read from the database: capabilities with their free weekly capacity."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from agglo.factory import allocation as core
from agglo.factory.certificates import CERTIFICATE_TERMS
from agglo.factory.models import Allocation, Capability, CapacitySlot, Order
from agglo.factory.risk import failure_risk
from agglo.factory.selectors.scorecards import scorecards
from agglo.factory.weeks import index_of, monday, week_at
from agglo.profiles.selectors.trust import Certificate, certificates_on_record, trust_facts

PROBATION_DAYS = 180
LAST_DAY_FOR_THIS_WEEK = 2  # Wednesday (Monday is 0)


# Work a factory did not take: the re-plan leaves that factory out of the step.
REFUSED = (
    Allocation.Status.DECLINED,
    Allocation.Status.WITHDRAWN,
    Allocation.Status.EXPIRED,
    Allocation.Status.LAPSED,
)

AHEAD_WEEKS = 52  # an order may start up to a year ahead


def horizon() -> int:
    return int(getattr(settings, "AGGLO_FACTORY_WEEKS", 12))


def capability_key(capability_id: int) -> str:
    """How a capability is named in the solver's problem."""
    return f"c{capability_id}"


def capability_id_of(key: str) -> int:
    return int(key[1:])


def under_way() -> Q:
    """Allocations a plan must keep as they are: delivered, or accepted and started."""
    started = Q(started=True) | Q(quantity_done__gt=0)
    return Q(status=Allocation.Status.DELIVERED) | (Q(status=Allocation.Status.ACCEPTED) & started)


def is_under_way(a: Allocation) -> bool:
    """The same test as `under_way`, on one allocation already read."""
    accepted = a.status == Allocation.Status.ACCEPTED and (a.started or a.quantity_done > 0)
    return a.status == Allocation.Status.DELIVERED or accepted


def usable(a: Allocation) -> int:
    """What a piece of work gave the order: a delivery the platform ruled failed (a dispute upheld) gave its
    quantity less the defects it found proven; those are made again (review 56 M2)."""
    if a.status == Allocation.Status.DELIVERED and a.receipt == Allocation.Receipt.UPHELD:
        return max(0, a.quantity - (a.defects_found or 0))
    return int(a.quantity)


def usable_units() -> Any:
    """`usable` as a database expression, to sum."""
    failed = Q(status=Allocation.Status.DELIVERED, receipt=Allocation.Receipt.UPHELD)
    whole = IntegerField()
    made = F("quantity") - Coalesce(F("defects_found"), Value(0), output_field=whole)
    return Case(
        When(failed, then=Greatest(made, Value(0), output_field=whole)), default=F("quantity"), output_field=whole
    )


def order_problem(order: Order, *, change_penalty: int = 0, pending_counters: bool = False) -> core.AllocationProblem:
    """The order's operations against every active member capability of its processes, over the horizon.

    Free capacity is the week's capacity minus what accepted work holds, except this order's own accepted work,
    which the plan may keep or move (it enters as `previous`). Work delivered or under way is `fixed` as well:
    a plan keeps it, even where its factory has since left or stopped offering the process. A factory that
    declined or withdrew part of a step but accepted more of it may keep up to what it accepted (`limits`),
    and takes no more of the step. A factory that reported its part of a step late takes no work on that step
    before the week it gave. A counter-offer answers one week's offer, so it limits that week (`week_limits`):
    open, or set aside by a re-plan, the factory makes at most what it accepted there plus the counter's quantity;
    one the buyer took is all it makes there; one refused or let lapse, like a declined week (not the whole step),
    leaves it no more there than it accepted. Its other weeks stay open, whatever became of the counter, so that
    taking a counter-offer does not move work a repair made while it was open. With
    `pending_counters`, an open counter-offer also enters as `previous` work at its quantity in its week, so that a
    repair plans around the buyer's pending decision rather than past it."""
    weeks = horizon()
    ops = list(order.operations.select_related("process"))
    refused: dict[int, set[str]] = defaultdict(set)
    mine: dict[tuple[int, int], int] = defaultdict(int)
    previous = []
    fixed = []
    accepted: dict[tuple[int, str], int] = defaultdict(int)  # units by step and capability
    delayed: dict[int, dict[str, int]] = defaultdict(dict)
    week_caps: dict[tuple[int, str, int], int] = {}  # the most a factory makes of a step in one week, by counters
    in_week: dict[tuple[int, str, int], int] = defaultdict(int)  # accepted units by step, capability and week
    turned_down: set[tuple[int, str, int]] = set()  # a week of a step a factory (or the buyer) said no to
    refused_at: dict[tuple[int, str], Any] = {}  # when a factory last declined or gave back part of a step
    rows = order.allocations.exclude(status__in=[Allocation.Status.OFFERED, Allocation.Status.SUPERSEDED])
    for a in rows.select_related("operation"):
        if (a.status == Allocation.Status.DECLINED and not a.declined_step) or a.status == Allocation.Status.LAPSED:
            # one week's offer turned down, or a counter-offer the buyer refused or left to lapse: not that week,
            # other weeks may do
            turned_down.add((a.operation_id, capability_key(a.capability_id), index_of(order.start_week, a.week)))
        elif a.status in REFUSED:
            refused[a.operation_id].add(capability_key(a.capability_id))
            key2 = (a.operation_id, capability_key(a.capability_id))
            refused_at[key2] = max(refused_at.get(key2, a.updated_at), a.updated_at)
        elif a.status in (Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED):
            w = index_of(order.start_week, a.week)
            in_week[a.operation_id, capability_key(a.capability_id), w] += a.quantity
            if a.counter_quantity is not None:  # a counter-offer the buyer took: all it can do that week
                turned_down.add((a.operation_id, capability_key(a.capability_id), w))
            # room the order's own work holds there, which a new plan may use again; not what a failed delivery
            # used up (its remake needs room of its own, elsewhere or later)
            mine[a.capability_id, w] += usable(a)
            # a failed delivery keeps only what it gave: the plan makes the rest again
            placement = core.Placement(str(a.operation.seq), capability_key(a.capability_id), w, usable(a))
            if placement.quantity == 0:
                continue
            previous.append(placement)
            if a.status == Allocation.Status.ACCEPTED and a.promised_week and a.week > a.promised_week:
                key = capability_key(a.capability_id)
                delayed[a.operation_id][key] = max(delayed[a.operation_id].get(key, 0), w)
            if is_under_way(a) and 0 <= w < weeks:
                fixed.append(placement)
            accepted[a.operation_id, placement.capability] += a.quantity
        elif a.status == Allocation.Status.COUNTERED:
            w = index_of(order.start_week, a.week)
            key3 = (a.operation_id, capability_key(a.capability_id), w)
            week_caps[key3] = week_caps.get(key3, 0) + (a.counter_quantity or 0)
            if pending_counters and a.counter_quantity:
                previous.append(
                    core.Placement(str(a.operation.seq), capability_key(a.capability_id), w, a.counter_quantity)
                )
    # A delay the re-plan did not wait for still stands: "Plan again" must not offer that factory the step sooner.
    late_given_up = order.allocations.filter(
        status=Allocation.Status.SUPERSEDED, promised_week__isnull=False, week__gt=F("promised_week")
    )
    for a in late_given_up:
        key, w = capability_key(a.capability_id), index_of(order.start_week, a.week)
        delayed[a.operation_id][key] = max(delayed[a.operation_id].get(key, 0), w)
    # A counter-offer a re-plan set aside (voided before the buyer decided, or taken and later moved) still says
    # how much the factory can make that week, as an open one does: later plans keep within it.
    voided = order.allocations.filter(status=Allocation.Status.SUPERSEDED, counter_quantity__isnull=False)
    for op_id, cap_id, week, said in voided.values_list("operation_id", "capability_id", "week", "counter_quantity"):
        key3 = (op_id, capability_key(cap_id), index_of(order.start_week, week))
        week_caps[key3] = min(week_caps.get(key3, said), said)
    for key3, q in list(week_caps.items()):  # what it accepted there besides
        week_caps[key3] = in_week.get(key3, 0) + q
    for key3 in turned_down:  # a week it said no more to: what it accepted there
        week_caps[key3] = min(week_caps.get(key3, in_week.get(key3, 0)), in_week.get(key3, 0))
    # A factory that gave back or turned down part of a step may keep the rest it accepted there (at most that,
    # wherever the plan best puts it), but takes no more of the step. What it is offered of the step since then can
    # only be that rest, moved by the repair to other weeks (the plan that offered it kept within these limits):
    # it counts too, or the next plan would take the factory for one that declined the whole step (review 89).
    moved: dict[tuple[int, str], int] = defaultdict(int)
    open_rows = order.allocations.filter(status__in=[Allocation.Status.OFFERED, Allocation.Status.COUNTERED])
    for op_id, cap_id, quantity, changed in open_rows.values_list(
        "operation_id", "capability_id", "quantity", "updated_at"
    ):
        key2 = (op_id, capability_key(cap_id))
        if key2 in refused_at and changed > refused_at[key2]:
            moved[key2] += quantity
    limits = {
        key: accepted.get(key, 0) + moved.get(key, 0)
        for key in accepted.keys() | moved.keys()
        if key[1] in refused.get(key[0], ())
    }
    by_id = {op.pk: op for op in ops}
    operations = tuple(
        core.Operation(
            key=str(op.seq),
            order=str(order.pk),
            process=op.process_id,
            quantity=op.quantity,
            after=tuple(str(s) for s in op.after),
            min_quality=order.min_quality,
            certifications=frozenset(order.certifications),
            max_suppliers=order.max_suppliers,
            regions_only=frozenset(order.regions_only),
            regions_excluded=frozenset(order.regions_excluded),
            declined_by=frozenset(refused.get(op.pk, set()) - {c for (o, c) in limits if o == op.pk}),
            limits=tuple(sorted((c, q) for (o, c), q in limits.items() if o == op.pk)),
            not_before=tuple(sorted(delayed.get(op.pk, {}).items())),
            week_limits=tuple(sorted((c, w, q) for (o, c, w), q in week_caps.items() if o == op.pk)),
        )
        for op in by_id.values()
    )
    holding = {capability_id_of(p.capability) for p in fixed}
    capabilities = _capabilities(order, {op.process_id for op in ops}, weeks, mine, holding)
    due = index_of(order.start_week, order.due_week)
    terms = core.OrderTerms(
        str(order.pk),
        due,
        float(order.late_penalty),
        float(order.budget) if order.budget is not None else None,
    )
    return core.AllocationProblem(
        weeks=weeks,
        operations=operations,
        capabilities=capabilities,
        orders=(terms,),
        max_share=float(order.max_share) if order.max_share is not None else None,
        newcomer_share=float(getattr(settings, "AGGLO_FACTORY_NEWCOMER_SHARE", 0.0)),
        previous=tuple(previous),
        change_penalty=change_penalty,
        fixed=tuple(fixed),
        offered=tuple(
            core.Placement(str(seq), capability_key(cap), index_of(order.start_week, week), quantity)
            for seq, cap, week, quantity in order.allocations.filter(status=Allocation.Status.OFFERED).values_list(
                "operation__seq", "capability_id", "week", "quantity"
            )
        ),
    )


def first_open_day(today: dt.date | None = None) -> dt.date:
    """The first day whose week takes new work. The week under way does only from Monday to Wednesday: work
    offered later could hardly be answered and done within it."""
    today = today or timezone.localdate()
    return today if today.weekday() <= LAST_DAY_FOR_THIS_WEEK else today + dt.timedelta(days=7 - today.weekday())


def offers_held(
    capabilities: Iterable[Any], first: dt.date, last: dt.date, *, besides: Order | None = None
) -> dict[tuple[int, int], int]:
    """Units other orders' open offers hold, by (capability id, week index from `first`): an offer waiting for
    its answer (and a counter-offer waiting for the buyer's, at the quantity the factory offered) keeps its
    week's capacity from new plans until its deadline, so that two buyers are not offered the same room. Only
    acceptance reserves it; an offer past its deadline holds nothing, whether or not it has been expired yet."""
    held: dict[tuple[int, int], int] = defaultdict(int)
    for capability, week, units, _deadline in _open_offers(capabilities, first, last, besides):
        held[capability, index_of(first, week)] += units
    return held


def slots_after_offers(
    capabilities: Iterable[Any], first: dt.date, last: dt.date, *, index: bool = False
) -> dict[tuple[int, Any], CapacitySlot]:
    """The capabilities' week rows from `first` to `last`, by (capability id, week, or its index from `first`), to be
    read after the open offers (`offers_held`). The two are separate reads, each of what is committed when it runs;
    an acceptance turns an offer into reserved work at once. Read in this order, one committed between them is
    counted twice (held, and reserved), which only makes a plan careful; in the other it would be counted nowhere,
    and a plan would offer the room it took (review 99)."""
    rows = CapacitySlot.objects.filter(capability__in=capabilities, week__gte=first, week__lte=last)
    return {(s.capability_id, index_of(first, s.week) if index else s.week): s for s in rows}


def offers_holding(
    order: Order, capabilities: Iterable[Any], closed: dict[int, frozenset[int]] | None = None
) -> tuple[int, dt.datetime | None]:
    """What other orders' open offers keep from this order in these capabilities over its horizon, in units (an
    offer counts only up to what its week still has free), and the last deadline among them: why an order may find
    less room than the factories' calendars show. `closed`: by capability id, the weeks (from the order's first)
    closed to this order's new work, where an answer frees nothing for it."""
    last = week_at(order.start_week, horizon() - 1)
    held: dict[tuple[int, dt.date], int] = defaultdict(int)
    until: dict[tuple[int, dt.date], dt.datetime] = {}
    for capability, week, units, deadline in _open_offers(capabilities, order.start_week, last, order):
        if index_of(order.start_week, week) in (closed or {}).get(capability, ()):
            continue
        held[capability, week] += units
        until[capability, week] = max(deadline, until.get((capability, week), deadline))
    slots = {
        (s.capability_id, s.week): s.capacity - s.reserved
        for s in CapacitySlot.objects.filter(capability__in={c for c, _w in held}, week__in={w for _c, w in held})
    }
    weekly = dict(Capability.objects.filter(pk__in={c for c, _w in held}).values_list("pk", "weekly_capacity"))
    kept = {key: min(units, max(0, slots.get(key, weekly.get(key[0], 0)))) for key, units in held.items()}
    return sum(kept.values()), max((until[key] for key, units in kept.items() if units), default=None)


def _open_offers(
    capabilities: Iterable[Any], first: dt.date, last: dt.date, besides: Order | None
) -> Iterable[tuple[int, dt.date, int, dt.datetime]]:
    """(capability id, week, units held, deadline) of each open offer outside `besides` (an order's own offers:
    its re-plan replaces them)."""
    rows = (
        Allocation.objects.filter(
            capability__in=capabilities,
            week__gte=first,
            week__lte=last,
            status__in=(Allocation.Status.OFFERED, Allocation.Status.COUNTERED),
            respond_by__gt=timezone.now(),
        )
        .exclude(order=besides)
        .values_list("capability_id", "week", "status", "quantity", "counter_quantity", "respond_by")
    )
    for capability, week, status, quantity, counter, deadline in rows:
        yield capability, week, (counter or 0) if status == Allocation.Status.COUNTERED else quantity, deadline


def _capabilities(
    order: Order, processes: Iterable[str], weeks: int, mine: dict[tuple[int, int], int], holding: set[int]
) -> tuple[core.Capability, ...]:
    offering = Q(active=True, organization__status="member") | Q(pk__in=holding)
    rows = list(
        Capability.objects.filter(offering, process_id__in=list(processes))
        .select_related("organization")
        .order_by("id")
    )
    first, last = order.start_week, week_at(order.start_week, weeks - 1)
    held = offers_held(rows, first, last, besides=order)
    slots = slots_after_offers(rows, first, last, index=True)
    ids = {c.organization_id for c in rows}
    certified = _certified(order, ids)
    cards = scorecards(ids)
    grades = {i: t.grade for i, t in trust_facts(ids).items()}
    recent = timezone.now() - dt.timedelta(days=PROBATION_DAYS)
    ahead = max(0, index_of(timezone.localdate(), first))
    # An order re-planned after its first week: weeks gone by take no new work, only keep what was accepted.
    past = max(0, index_of(first, first_open_day()))
    result = []
    for c in rows:
        backed = certified(c.organization_id, c.certifications)
        # a week whose last day (Sunday) a required certificate does not reach takes no new work; no day is added
        # to the date, which may be the calendar's last (a certificate without end, 9999-12-31: review 94)
        lapsed = weeks if backed.through is None else max(0, ((backed.through - monday(first)).days + 1) // 7)
        free, shut = [], set()
        for w in range(weeks):
            slot = slots.get((c.pk, w))
            capacity = slot.capacity if slot else c.weekly_capacity
            reserved = slot.reserved if slot else 0
            own = mine.get((c.pk, w), 0)
            # weeks gone by, and a factory no longer offering the process, take no new work
            closed = w < past or w >= lapsed or not (c.active and c.organization.status == "member")
            free.append(own if closed else max(0, capacity - reserved - held.get((c.pk, w), 0) + own))
            if closed:
                shut.add(w)
        grade = grades.get(c.organization_id)
        # the risk the scorecard shows: the record blended with the credit grade (scorecards() leaves it out)
        card = replace(cards[c.organization_id], grade=grade) if c.organization_id in cards else None
        joined = c.organization.joined_at
        result.append(
            core.Capability(
                key=capability_key(c.pk),
                factory=str(c.organization_id),
                process=c.process_id,
                capacity=tuple(free),
                unit_cost=float(c.unit_cost),
                setup_cost=float(c.setup_cost),
                min_lot=c.min_lot,
                quality=c.quality_grade,
                certifications=backed.certifications,
                # lead time runs from today; the plan's weeks from its first week
                lead_weeks=max(0, c.lead_weeks - ahead),
                region=c.organization.area_id,
                risk=card.risk if card else failure_risk(grade, 0, None, None),
                newcomer=card is None and joined is not None and joined >= recent,
                closed=frozenset(shut),
            )
        )
    return tuple(result)


def _certified(order: Order, org_ids: set[int]) -> Callable[[int, Iterable[str]], Counted]:
    """The certifications that count for the order, of those a factory declares: every one, or only the order's
    required ones the factory has on record in its profile, valid today (and verified, where the order asks), with
    the last day all of those run: the factory takes no new work in a week past it. A factory that accepted work on
    the order was checked when it was offered it: a certificate passing its date since takes none of that work from
    it (review 92; the lapse is the factory's and the buyer's to settle), but it is offered no more work past the
    certificate's end, nor any at all once the certificate is gone (review 93)."""
    if order.certificates == Order.Certificates.DECLARED or not order.certifications:
        return lambda _org, declared: Counted(frozenset(declared))
    required = set(order.certifications)
    records = certificates_on_record(org_ids, [CERTIFICATE_TERMS[x] for x in required if x in CERTIFICATE_TERMS])
    verified = order.certificates == Order.Certificates.VERIFIED
    committed = set(
        order.allocations.filter(status__in=(Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED)).values_list(
            "factory_id", flat=True
        )
    )
    gone = timezone.localdate() - dt.timedelta(days=1)  # no week runs through it: only accepted work is kept

    def counted(org: int, declared: Iterable[str]) -> Counted:
        held = records.get(org, {})
        runs = {}  # each required certification the factory declares and holds: the last day it counts
        for x in set(declared) & required:
            certificate = held.get(CERTIFICATE_TERMS.get(x, ""))
            if until := certificate and (certificate.verified_until if verified else certificate.valid_until):
                runs[x] = until
        through = min(runs.values(), default=None)
        if org in committed:  # eligible still, so that its accepted work stays; new work as its certificates allow
            missing = bool(set(declared) & required - set(runs))
            return Counted(frozenset(declared), gone if missing else through)
        return Counted(frozenset(x for x in declared if x not in required or x in runs), through)

    return counted


@dataclass(frozen=True)
class Counted:
    """A factory's certifications an order counts, and the last day the required ones among them all run."""

    certifications: frozenset[str]
    through: dt.date | None = None


def certificates_of(capability: Capability) -> tuple[list[tuple[str, Certificate]], list[str]]:
    """The capability's declared certifications its factory's profile holds a valid certificate of (each with how
    long it runs, and verified), and those it does not: what an order counting only certificates on record would
    count of it."""
    declared = list(capability.certifications)
    held = certificates_on_record([capability.organization_id], [CERTIFICATE_TERMS[x] for x in declared]).get(
        capability.organization_id, {}
    )
    on_record = [(x, held[CERTIFICATE_TERMS[x]]) for x in declared if CERTIFICATE_TERMS[x] in held]
    return on_record, [x for x in declared if CERTIFICATE_TERMS[x] not in held]


def earliest_finish(order: Order) -> tuple[dt.date, int]:
    """The first week the order's route can end, and its longest chain of steps in sequence: one week each, from
    the first week still open to new work (transport and capacity aside)."""
    steps = {op.seq: op for op in order.operations.all()}
    depth: dict[int, int] = {}
    for seq in sorted(steps):  # a step comes after lower-numbered ones only
        depth[seq] = 1 + max((depth.get(b, 1) for b in steps[seq].after), default=0)
    chain = max(depth.values(), default=1)
    return max(order.start_week, monday(first_open_day())) + dt.timedelta(weeks=chain - 1), chain
