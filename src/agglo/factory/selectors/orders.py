"""Reads of orders, plans and the job board, restricted to who takes part: the buyer's members, the factories
offered work in the order, and operators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, DateTimeField, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agglo.access import policy
from agglo.common.errors import Forbidden, NotFound
from agglo.common.models import AuditEvent
from agglo.factory.models import Allocation, Capability, CapacitySlot, FactoryMember, Order, OrderDocument, Process
from agglo.factory.selectors.log import OpenedEntry, log_subject, opened_entries
from agglo.factory.selectors.planning import REFUSED

LIVE = (Allocation.Status.OFFERED, Allocation.Status.ACCEPTED, Allocation.Status.COUNTERED, Allocation.Status.DELIVERED)


def process_list() -> QuerySet[Process]:
    return Process.objects.all()


OPEN = "open"  # an order list's filter: every order not yet delivered or cancelled
BUYER, FACTORY = "buyer", "factory"  # an order list's filter: orders the reader placed, or serves in
STATUS_FILTERS = [(OPEN, gettext_lazy("Open (not delivered or cancelled)")), *Order.Status.choices]
ROLE_FILTERS = [
    (BUYER, gettext_lazy("Placed by your organization")),
    (FACTORY, gettext_lazy("Your factories serve in")),
]


def order_list(*, actor: Any, status: str = "", role: str = "", q: str = "") -> QuerySet[Order]:
    """Orders the actor's organizations placed or were offered work in (every order for operators). `status` is
    one of `Order.Status` or `OPEN`; `role` keeps those the actor's organizations placed (`BUYER`) or serve in
    (`FACTORY`); `q` finds an order by its number or by words of its product or its buyer's name."""
    own = policy.organization_ids(actor)
    # newest first, ties (orders made in one request) by id, so that the list's pages hold each order once
    qs = _with_progress(_with_receipts(Order.objects.select_related("buyer")), own)
    qs = _filtered(_with_changed_at(qs, actor).order_by("-created_at", "-pk"), status=status, q=q)
    # by a subquery, not a join: joined, every per-order count ran once per piece of work (perf review 58: 2,500
    # orders took 5 s)
    offered = Allocation.objects.filter(factory_id__in=own).values("order_id")
    if role == BUYER:
        return qs.filter(buyer_id__in=own)
    if role == FACTORY:
        return qs.filter(pk__in=offered)
    if policy.sees_all_organizations(actor):
        return qs
    return qs.filter(Q(buyer_id__in=own) | Q(pk__in=offered))


def _filtered(qs: QuerySet[Order], *, status: str, q: str) -> QuerySet[Order]:
    if status == OPEN:
        qs = qs.exclude(status__in=Order.CLOSED)
    elif status:
        qs = qs.filter(status=status)
    for word in q.split():
        number = word.removeprefix("#")
        found = Q(product__icontains=word) | Q(buyer__name_zh__icontains=word) | Q(buyer__name_en__icontains=word)
        qs = qs.filter(found | Q(pk=int(number)) if number.isdigit() and len(number) < 10 else found)
    return qs


def _with_changed_at(qs: QuerySet[Order], actor: Any) -> QuerySet[Order]:
    """`changed_at` on each order: the last change of its record, or of any of its work the actor sees (all of it
    for the buyer, operators and auditors, as `plan_allocations` shows it; a factory's own)."""
    work = Allocation.objects.filter(order=OuterRef("pk"))
    if not policy.sees_all_organizations(actor):
        work = work.filter(
            Q(order__buyer_id__in=policy.active_organization_ids(actor))
            | Q(factory_id__in=policy.organization_ids(actor))
        )
    last = Subquery(work.order_by("-updated_at").values("updated_at")[:1])
    return qs.annotate(changed_at=Greatest("updated_at", Coalesce(last, "updated_at")))


def orders_changed(*, actor: Any, after: Any, **filters: str) -> QuerySet[Order]:
    """`order_list`'s orders changed after `after` (an ERP's sync since its last run), in the order they changed."""
    return order_list(actor=actor, **filters).filter(changed_at__gt=after).order_by("changed_at", "pk")


def changed_at(actor: Any, order: Order) -> Any:
    """When `order` last changed as `actor` sees it (see `_with_changed_at`), from `orders_changed`'s figure."""
    if not hasattr(order, "changed_at"):
        order = _with_changed_at(Order.objects.filter(pk=order.pk), actor).get()
    return order.changed_at


@dataclass(frozen=True)
class Progress:
    """How far an order's current plan has come, for one reader: its pieces of work (a factory's part of a step in
    one week) delivered of all of them, or, for a factory that sees only its own part, of its own."""

    delivered: int
    pieces: int
    whole: bool  # the whole plan (the buyer, operators) rather than the reader's own part


def progress_of(actor: Any, order: Order) -> Progress | None:
    """`order`'s `Progress` for `actor` (None with no piece to count), from `order_list`'s counts."""
    if not hasattr(order, "pieces"):  # an order not read through `order_list` (just created or changed)
        order = _with_progress(Order.objects.filter(pk=order.pk), policy.organization_ids(actor)).get()
    whole = sees_whole_plan(actor, order)
    delivered, pieces = (order.delivered, order.pieces) if whole else (order.own_delivered, order.own_pieces)
    return Progress(delivered, pieces, whole) if pieces else None


def _with_progress(orders: QuerySet[Order], own: set[int]) -> QuerySet[Order]:
    """Each order with `pieces` and `delivered`, its current plan's pieces of work and those delivered (not under
    dispute nor found failed), and
    `own_pieces` and `own_delivered`, the same of the pieces of `own` organizations."""
    live = Allocation.objects.filter(order=OuterRef("pk"), status__in=LIVE)
    # a delivery under dispute, or found failed, is not done (as the plan chart marks it)
    done = live.filter(status=Allocation.Status.DELIVERED).exclude(
        receipt__in=(Allocation.Receipt.DISPUTED, Allocation.Receipt.UPHELD)
    )
    return orders.annotate(
        pieces=_count(live),
        delivered=_count(done),
        own_pieces=_count(live.filter(factory_id__in=own)),
        own_delivered=_count(done.filter(factory_id__in=own)),
    )


def _count(rows: QuerySet[Allocation]) -> Coalesce:
    return Coalesce(Subquery(rows.order_by().values("order").annotate(n=Count("pk")).values("n")[:1]), 0)


def _with_receipts(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Each order with `receipts_open` and `receipts_disputed`: deliveries its buyer has not answered yet, and those
    it disputes. An order reads "Delivered" once every step is, so these say whether it is settled. Work the buyer
    made itself needs no receipt (its record is its own report)."""
    delivered = Allocation.objects.filter(order=OuterRef("pk"), status=Allocation.Status.DELIVERED).exclude(
        factory_id=OuterRef("buyer_id")
    )
    return orders.annotate(
        receipts_open=_count(delivered.filter(receipt="")),
        receipts_disputed=_count(delivered.filter(receipt=Allocation.Receipt.DISPUTED)),
    )


def plan_unchanged(order: Order, reason: str) -> bool:
    """Whether the order's last re-plan, the one for `reason`, solved and left every piece of work where it was:
    nothing offered afresh, no open offer withdrawn, no accepted work moved or cut. A re-plan that found no plan
    in time keeps the figures of the one before, and a plan from before these figures were kept says nothing."""
    stats = order.plan_stats or {}
    changes = stats.get("changes")
    if changes is None or "unsolved" in stats or stats.get("reason") != reason or order.status == "infeasible":
        return False
    return not any(changes.get(k, 1) for k in ("new", "withdrawn", "moved", "reduced"))


def receipts_pending(order: Order) -> dict[str, int]:
    """Deliveries of `order` its buyer has yet to answer, and those it disputes (see `_with_receipts`)."""
    if not hasattr(order, "receipts_open"):  # an order not read through `order_list` (just created or changed)
        order = _with_receipts(Order.objects.filter(pk=order.pk)).get()
    return {"to_answer": order.receipts_open, "disputed": order.receipts_disputed}


def order_get(*, actor: Any, pk: int) -> Order:
    order = order_list(actor=actor).filter(pk=pk).first()
    if order is None:
        raise NotFound(_("No order with id %(pk)s.") % {"pk": pk})
    return order


def reads_drawings(actor: Any, order: Order) -> bool:
    """Who may read an order's drawings: its buyer; the factories in good standing its current plan offers work to,
    or that accepted or delivered some (not one that declined, withdrew or was planned out: it keeps seeing the
    order it was offered, not the buyer's later revisions, review 90); and operators, who rule on disputes over
    what was made. Auditors read the records, not the buyer's designs."""
    if is_buyer(actor, order) or policy.is_operator(actor):
        return True
    serving = policy.active_organization_ids(actor)
    return order.allocations.filter(factory_id__in=serving, status__in=LIVE).exists()


def document_get(*, actor: Any, pk: int) -> OrderDocument:
    """One of an order's files, for whoever reads its drawings (`reads_drawings`). Anyone else is told there is no
    such file, as of an order they may not see."""
    document = OrderDocument.objects.select_related("order").filter(pk=pk).first()
    if document is None or not reads_drawings(actor, document.order):
        raise NotFound(_("No file with id %(pk)s.") % {"pk": pk})
    return document


def drawings_of(*, actor: Any, order: Order) -> list[OrderDocument]:
    """The order's drawings if the actor reads them, else none (the order page and the API list show no more)."""
    return list(order.documents.all()) if reads_drawings(actor, order) else []


@dataclass(frozen=True)
class CancelPreview:
    """What cancelling an order calls off, as `services.orders.order_cancel` does it."""

    accepted: int  # parts accepted and not delivered: their capacity is released
    offered: int  # open offers and counter-offers: withdrawn
    factories: int  # factories told
    delivered: int  # stays on record for the scorecards
    to_receive: int = 0  # of those, deliveries the buyer may still confirm (or whose dispute is open)


def cancel_preview(order: Order) -> CancelPreview:
    rows = list(order.allocations.filter(status__in=LIVE).values_list("status", "factory_id", "receipt"))
    called_off = [(status, factory) for status, factory, _r in rows if status != Allocation.Status.DELIVERED]
    open_receipts = ("", Allocation.Receipt.DISPUTED)
    return CancelPreview(
        accepted=sum(status == Allocation.Status.ACCEPTED for status, _f in called_off),
        offered=sum(status != Allocation.Status.ACCEPTED for status, _f in called_off),
        factories=len({factory for _s, factory in called_off}),
        delivered=len(rows) - len(called_off),
        # work the buyer made itself has no receipt to give
        to_receive=sum(
            s == Allocation.Status.DELIVERED and r in open_receipts and f != order.buyer_id for s, f, r in rows
        ),
    )


def is_buyer(actor: Any, order: Order) -> bool:
    return order.buyer_id in policy.active_organization_ids(actor)


def may_decide(actor: Any, order: Order) -> bool:
    """Whoever placed the order, or an admin of the buyer, makes the buyer's binding decisions: planning it (offers
    go out), changing its terms (a repair may take back accepted work), taking a counter-offer, cancelling it (all
    the factories' work called off at once). Any member of the buyer sees the plan and answers deliveries."""
    if not is_buyer(actor, order):
        return False
    return order.created_by_id == getattr(actor, "pk", None) or policy.is_org_admin(actor, order.buyer_id)


def sees_whole_plan(actor: Any, order: Order) -> bool:
    """The buyer, operators and auditors see every factory's part and the plan's costs; a factory its own part."""
    return policy.sees_all_organizations(actor) or is_buyer(actor, order)


def virtual_factory_members(*, actor: Any, order: Order) -> list[FactoryMember]:
    """The virtual factory's active members. Those who accepted work in it see each other (parts travel between
    them); a factory that was only offered work does not learn who else serves the order."""
    vf = getattr(order, "virtual_factory", None)
    if vf is None:
        return []
    members = list(vf.members.filter(active=True).select_related("organization"))
    if sees_whole_plan(actor, order) or policy.organization_ids(actor) & {m.organization_id for m in members}:
        return members
    return []


def plan_allocations(*, actor: Any, order: Order) -> QuerySet[Allocation]:
    """The current plan's allocations (of a cancelled order, the plan it had then); a factory that is not the
    buyer sees only its own."""
    current = Q(status__in=LIVE)
    if order.status == Order.Status.CANCELLED:
        # what the cancellation called off, accepted under whichever plan version (older cancellations are not
        # marked: their last version's rows)
        called_off = Q(moved_by=Allocation.MovedBy.CANCELLED) | Q(plan_version=order.plan_version)
        current |= Q(status=Allocation.Status.SUPERSEDED) & called_off
    qs = order.allocations.filter(current).select_related("factory__area", "operation__process", "capability")
    if sees_whole_plan(actor, order):
        return qs
    return qs.filter(factory_id__in=policy.organization_ids(actor))


def plan_changes(*, actor: Any, order: Order) -> QuerySet[Allocation]:
    """Work that was declined, withdrawn, not answered, whose counter-offer lapsed or was voided by a re-plan, or
    that a factory reported late, and accepted work a re-plan took away: why and how the plan changed (a factory
    sees its own)."""
    moved = Q(status=Allocation.Status.SUPERSEDED, accepted_at__isnull=False)
    voided = Q(status=Allocation.Status.SUPERSEDED, counter_quantity__isnull=False)
    qs = order.allocations.filter(
        Q(status__in=REFUSED) | Q(week__gt=F("promised_week")) | moved | voided
    ).select_related("factory", "operation__process")
    if sees_whole_plan(actor, order):
        return qs.order_by("-updated_at")
    return qs.filter(factory_id__in=policy.organization_ids(actor)).order_by("-updated_at")


OPEN_WORK = (Allocation.Status.OFFERED, Allocation.Status.COUNTERED, Allocation.Status.ACCEPTED)


def job_board(*, actor: Any, status: str = "", receipt: str = "") -> QuerySet[Allocation]:
    """Work offered to the actor's factories, by week (optionally of one status or receipt)."""
    # how many drawings each piece's order has: a factory reads them before it answers (a subquery, not a join)
    drawings = OrderDocument.objects.filter(order=OuterRef("order_id")).values("order").annotate(n=Count("pk"))
    qs = (
        Allocation.objects.filter(factory_id__in=policy.organization_ids(actor))
        .select_related("order__buyer", "operation__process", "factory")
        # on live work only: a factory that declined or was planned out reads no more of them (`reads_drawings`)
        .annotate(drawings=Case(When(status__in=LIVE, then=Coalesce(Subquery(drawings.values("n")[:1]), 0)), default=0))
    )
    if status:
        qs = qs.filter(status=status)
    if receipt:
        qs = qs.filter(receipt=receipt)
    return qs.order_by("week", "id")


def with_reductions(allocations: list[Allocation]) -> list[Allocation]:
    """Set `reduced_from` on accepted work a re-plan cut down in place (`services.replan._apply`): what was first
    accepted, so the pages can say so (the row itself holds only what is left)."""
    ids = [str(a.pk) for a in allocations if a.status in (Allocation.Status.ACCEPTED, Allocation.Status.DELIVERED)]
    first: dict[str, int] = {}
    events = AuditEvent.objects.filter(
        event="factory.allocation_reduced", subject_type="factory.allocation", subject_id__in=ids
    ).order_by("id")
    for subject_id, payload in events.values_list("subject_id", "payload"):
        first.setdefault(subject_id, int((payload or {}).get("from", 0)))
    for a in allocations:
        a.reduced_from = first.get(str(a.pk))
    return allocations


def log_keys(pieces: list[Allocation]) -> list[tuple[Allocation, str, list[OpenedEntry]]]:
    """The logged pieces of work among those a reader sees, each with its subject as the public log names it (a
    keyed digest): with the piece's `text_key` its parties find and check its entries, which come opened."""
    seen = sorted({a.pk: a for a in pieces if a.text_key}.values(), key=lambda a: (a.operation.seq, a.week, a.pk))
    entries = opened_entries(seen)
    return [(a, log_subject(a), entries.get(a.pk, [])) for a in seen]


def disputes_referred(*, actor: Any, decided: bool = False) -> QuerySet[Allocation]:
    """Disputes a party referred to the platform: those awaiting a ruling, oldest first, or (`decided`) those
    ruled on, newest first: the operators' worklist (they rule; others who oversee the platform read the texts on
    the order pages)."""
    if not policy.is_operator(actor):
        raise Forbidden(_("Only platform operators rule on disputes."))
    qs = Allocation.objects.filter(dispute_referred_at__isnull=False).select_related(
        "order__buyer", "operation__process", "factory"
    )
    if decided:
        return qs.exclude(receipt=Allocation.Receipt.DISPUTED).order_by("-updated_at", "-id")
    return qs.filter(receipt=Allocation.Receipt.DISPUTED).order_by("dispute_referred_at", "id")


# offers replaced (or cancelled) before they were answered say nothing the factory did (it was told they went); a
# counter-offer a re-plan voided is an answer, and still limits what it is offered there
_UNANSWERED = Q(status=Allocation.Status.SUPERSEDED, accepted_at__isnull=True, counter_quantity__isnull=True)


def jobs_changed(*, actor: Any, after: Any, status: str = "") -> QuerySet[Allocation]:
    """Every piece of the actor's factories' work changed after `after`, in the order they changed, including
    offers a re-plan withdrew before they were answered (`superseded`): an ERP's sync of the job board."""
    return job_board(actor=actor, status=status).filter(updated_at__gt=after).order_by("updated_at", "id")


def job_board_open(*, actor: Any, status: str = "") -> list[Allocation]:
    """The job board's open work (offers, counter-offers, accepted work), by week: all of it, however many earlier
    plans there were, so that none drops out of sight; open offers carry the room their week has left."""
    return with_free_room(list(job_board(actor=actor, status=status).filter(status__in=OPEN_WORK)))


def job_board_earlier(*, actor: Any, status: str = "") -> QuerySet[Allocation]:
    """What the actor's factories answered, did, or lost to a cancellation, most recently changed first."""
    rows = job_board(actor=actor, status=status).exclude(status__in=OPEN_WORK).exclude(_UNANSWERED)
    return rows.order_by("-updated_at", "-id")


def job_board_listing(*, actor: Any, status: str = "") -> QuerySet[Allocation]:
    """The whole job board as one list to page through: the open work by week, then the earlier rows newest
    first (the order of the two above, in one query)."""
    is_open = Q(status__in=OPEN_WORK)
    rows = job_board(actor=actor, status=status).exclude(_UNANSWERED)
    return rows.annotate(
        later=Case(When(is_open, then=Value(0)), default=Value(1)),
        open_week=Case(When(is_open, then=F("week"))),
        open_id=Case(When(is_open, then=F("id")), default=Value(0)),
        changed=Case(When(is_open, then=Value(None)), default=F("updated_at"), output_field=DateTimeField()),
    ).order_by("later", "open_week", F("changed").desc(nulls_last=True), "open_id", "-id")


def with_free_room(allocations: list[Allocation]) -> list[Allocation]:
    """Set `free_now` on each open offer: what its factory's week can still take (the rule of
    `services.capacity.free_in`, for a whole board in two queries). Only acceptance reserves capacity (an open
    offer keeps its room from new plans, not from other offers already made), so work accepted since, or a week's
    capacity lowered since, may have taken the room an offer counted on."""
    open_offers = [a for a in allocations if a.status == Allocation.Status.OFFERED]
    slots = {
        (s.capability_id, s.week): s.capacity - s.reserved
        for s in CapacitySlot.objects.filter(
            capability_id__in={a.capability_id for a in open_offers}, week__in={a.week for a in open_offers}
        )
    }
    defaults = dict(
        Capability.objects.filter(pk__in={a.capability_id for a in open_offers}).values_list("pk", "weekly_capacity")
    )
    for a in open_offers:
        a.free_now = max(0, slots.get((a.capability_id, a.week), defaults.get(a.capability_id, 0)))
    return allocations


def allocation_get(*, actor: Any, pk: int) -> Allocation:
    """An allocation the actor's factory was offered, or one in an order the actor's organization placed."""
    own = policy.organization_ids(actor)
    qs = Allocation.objects.select_related("order", "operation__process", "capability", "factory")
    if not policy.sees_all_organizations(actor):
        qs = qs.filter(Q(factory_id__in=own) | Q(order__buyer_id__in=own))
    allocation = qs.filter(pk=pk).first()
    if allocation is None:
        raise NotFound(_("No allocation with id %(pk)s.") % {"pk": pk})
    return allocation


def capability_list(*, actor: Any, organization_id: int | None = None) -> QuerySet[Capability]:
    """The actor's own capabilities (members see others' only through plans)."""
    qs = Capability.objects.select_related("process", "organization")
    if not policy.sees_all_organizations(actor):
        qs = qs.filter(organization_id__in=policy.organization_ids(actor))
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return qs
