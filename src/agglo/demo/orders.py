"""Two virtual-factory orders for the demo, placed by the demo buyer through the real services, so that a first
visit finds a plan on the chart, offers on the job boards and a delivery on the scorecards:

- a gateway housing (machining → surface treatment → assembly → testing), planned, accepted by every factory the
  plan picked, its first step under way: one delivery received and confirmed, the rest started;
- a motor-control board (PCB → SMT → testing), planned and waiting for the factories' answers.

The housing comes with a drawing (a one-page PDF), as a buyer would send one with the order."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from agglo.access import policy
from agglo.access.models import Membership
from agglo.access.policy import PUBLIC_ORG_STATUSES
from agglo.common.errors import DomainError
from agglo.factory.models import Allocation, Capability, Order
from agglo.factory.selectors.orders import LIVE
from agglo.factory.selectors.planning import first_open_day
from agglo.factory.services.capacity import planning_turn
from agglo.factory.services.execution import allocation_progress, allocation_receipt
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_create, order_plan
from agglo.factory.weeks import monday
from agglo.registry.services.standing import standing_held

HOUSING = {
    "product": "工业网关铝合金外壳",
    "quantity": 600,
    "weeks": 8,
    "max_suppliers": 2,
    "late_penalty": "2000",
    "min_quality": 1,
    "operations": [
        {"process": "cnc", "quantity": 600, "after": []},
        {"process": "surface", "quantity": 600, "after": [1]},
        {"process": "assembly", "quantity": 600, "after": [2]},
        {"process": "testing", "quantity": 600, "after": [3]},
    ],
    "drawing": [
        "GW-200 gateway housing - drawing rev B",
        "Material: 6061-T6 aluminium; anodised, black",
        "Tolerances: ISO 2768-m; flatness 0.05 on the base",
        "Threads: 4 x M3 blind, 6 deep",
    ],
}
BOARD = {
    "product": "电机控制板",
    "quantity": 400,
    "weeks": 6,
    "max_suppliers": 3,
    "late_penalty": "1500",
    "operations": [
        {"process": "pcb", "quantity": 400, "after": []},
        {"process": "smt", "quantity": 400, "after": [1]},
        {"process": "testing", "quantity": 400, "after": [2]},
    ],
}

ORDERS = (HOUSING, BOARD)


def demo_orders_ensure(buyer_admin: Any) -> list[Order]:
    """Once per buyer: both orders, planned; the housing's plan accepted and its first step under way. An order
    that no plan fits (a demo with too few factories) stays as the solver left it, with its diagnosis."""
    membership = Membership.objects.filter(user=buyer_admin, role=Membership.Role.ADMIN).first()
    if membership is None:
        return []
    buyer = membership.organization_id
    placed = {
        terms["product"]: Order.objects.filter(buyer_id=buyer, product=terms["product"]).first() for terms in ORDERS
    }
    if all(placed.values()):  # as `agglo up` finds them on every start after the first: nothing to lock
        return [order for order in placed.values() if order is not None]
    # The demo is loaded in one transaction, which holds every lock it takes until it ends. A change of standing
    # takes the organization's row, then the planning turns of the processes it declared (`factory.receivers`):
    # so the rows of every organization these orders may act for (the buyer, and each factory that declared one of
    # their processes, which a plan may offer work and which then answers) are held first, in one sweep, and the
    # turns only after them; the services below take those rows again, held already. The turns first deadlocked
    # with an operator suspending the buyer, or a factory, as the orders were placed (review 121).
    processes = sorted({op["process"] for terms in ORDERS for op in terms["operations"]})
    factories = Capability.objects.filter(process_id__in=processes).values_list("organization_id", flat=True)
    held = standing_held([buyer, *factories])
    if held.get(buyer) not in PUBLIC_ORG_STATUSES:  # a suspended buyer places nothing (its people do not act)
        return [order for order in placed.values() if order is not None]
    # both orders' planning turns at once (see `capacity.planning_turn`)
    planning_turn(processes)
    orders = []
    for terms, under_way in ((HOUSING, True), (BOARD, False)):
        order = placed[terms["product"]]
        if order is None:
            order = _placed(buyer_admin, buyer, terms)
            if under_way and order.status == Order.Status.PLANNED:
                _accepted_and_started(order, buyer_admin)
        orders.append(order)
    return orders


def _placed(buyer_admin: Any, buyer_id: int, terms: dict[str, Any]) -> Order:
    start = monday(first_open_day())
    data = {k: v for k, v in terms.items() if k != "weeks"}
    data |= {"buyer": buyer_id, "start_week": start, "due_week": start + dt.timedelta(weeks=terms["weeks"])}
    files = [SimpleUploadedFile(DRAWING_NAME, drawing_pdf(terms["drawing"]))] if "drawing" in terms else []
    order = order_create(actor=buyer_admin, data={k: v for k, v in data.items() if k != "drawing"}, files=files)
    return order_plan(actor=buyer_admin, order=order)


DRAWING_NAME = "GW-200 外壳图纸 rev B.pdf"


def drawing_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with `lines` of ASCII text: small, valid, made here rather than shipped as a binary."""
    text = "BT /F1 14 Tf 56 780 Td 18 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text.encode("ascii")),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _admin_of(organization_id: int) -> Any:
    """One of the organization's admins (any may answer for it), or None."""
    return next(iter(policy.organization_admins(organization_id)), None)


def _accepted_and_started(order: Order, buyer_admin: Any) -> None:
    """Every offer accepted by its factory's admin; on the first step, the first part delivered today (and
    confirmed by the buyer, so the scorecard counts it) and the others started with half done."""
    for allocation in order.allocations.filter(status=Allocation.Status.OFFERED).order_by("pk"):
        admin = _admin_of(allocation.factory_id)
        if admin is not None:
            allocation_respond(actor=admin, allocation=allocation, action="accept")
    first_step = order.allocations.filter(status=Allocation.Status.ACCEPTED, operation__seq=1).order_by("week", "pk")
    today = timezone.localdate()
    try:
        for n, allocation in enumerate(first_step):
            admin = _admin_of(allocation.factory_id)
            if n == 0:
                data = {"started": True, "quantity_done": allocation.quantity, "delivered_on": today}
                delivered = allocation_progress(actor=admin, allocation=allocation, data=data)
                allocation_receipt(actor=buyer_admin, allocation=delivered, confirm=True, defects_found=0)
            else:
                allocation_progress(
                    actor=admin,
                    allocation=allocation,
                    data={"started": True, "quantity_done": allocation.quantity // 2},
                )
    except DomainError:  # a rule of the real services said no (say, a minimum lot): the plan stays as accepted
        return


def demo_orders_summary(buyer_admin: Any) -> list[tuple[Order, list[str]]]:
    """The demo buyer's orders, each with the demo logins of the factories its current plan involves (so that
    whoever tries the demo knows whose job board to open)."""
    orders = list(Order.objects.filter(buyer__memberships__user=buyer_admin).order_by("pk"))
    result = []
    for order in orders:
        factories = set(order.allocations.filter(status__in=LIVE).values_list("factory_id", flat=True))
        usernames = (
            Membership.objects.filter(
                organization_id__in=factories, role=Membership.Role.ADMIN, user__username__regex=r"^factory\d+-admin$"
            )
            .order_by("user__username")
            .values_list("user__username", flat=True)
        )
        # factory12-admin after factory2-admin: by the number in the name
        result.append((order, sorted(usernames, key=lambda u: int(u.removeprefix("factory").removesuffix("-admin")))))
    return result
