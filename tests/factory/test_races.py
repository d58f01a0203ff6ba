"""Two people act on one order at the same moment, on a real PostgreSQL server: every plan change locks the order
first, so the second waits for the first and sees what it did; nothing is left half-applied."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from agglo.common.errors import DomainError
from agglo.factory.models import Allocation, CapacitySlot
from agglo.factory.services.amend import order_amend
from agglo.factory.services.execution import allocation_withdraw
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel
from tests.factory.test_amend import confirmed
from tests.factory.test_plan_flow import planned

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (SQLite has one writer)"),
]


def together(*steps: Callable[[], Any]) -> list[BaseException | None]:
    """Run the steps in threads released at once; each step's error, or None."""
    gate = threading.Barrier(len(steps))
    outcome: list[BaseException | None] = [None] * len(steps)

    def run(i: int, step: Callable[[], Any]) -> None:
        try:
            gate.wait()
            step()
        except BaseException as exc:  # noqa: BLE001 - reported to the test, which decides
            outcome[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(steps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcome


def owner(cluster: dict[str, Any], allocation: Allocation) -> Any:
    name = next(n for n, o in cluster["orgs"].items() if o.pk == allocation.factory_id)
    return cluster["people"][name]


def reserved(order_caps: set[int]) -> int:
    return sum(CapacitySlot.objects.filter(capability_id__in=order_caps).values_list("reserved", flat=True))


def reservations_match(*orders: Any) -> bool:
    """Whether the capacity reserved at the orders' capabilities is exactly what their accepted work holds (no other
    order holds any there)."""
    work = Allocation.objects.filter(order__in=orders)
    caps = set(work.values_list("capability_id", flat=True))
    return reserved(caps) == sum(work.filter(status="accepted").values_list("quantity", flat=True))


@pytest.mark.parametrize("attempt", range(3))
def test_accepting_while_the_buyer_cancels_leaves_nothing_reserved(cluster: dict[str, Any], attempt: int) -> None:
    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered"))
    caps = {a.capability_id for a in offers}
    accepts = [
        (lambda a=a: allocation_respond(actor=owner(cluster, a), allocation=a, action="accept")) for a in offers[:2]
    ]
    errors = together(lambda: order_cancel(actor=cluster["people"]["buyer"], order=order, reason="需求取消"), *accepts)
    assert errors[0] is None, errors[0]
    assert all(e is None or isinstance(e, DomainError) for e in errors[1:]), errors
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert not order.allocations.filter(status__in=["offered", "accepted"]).exists()
    assert reserved(caps) == 0


@pytest.mark.parametrize("attempt", range(3))
def test_a_withdrawal_and_a_change_of_terms_at_once_both_land(cluster: dict[str, Any], attempt: int) -> None:
    order = confirmed(cluster)
    leaving = order.allocations.filter(status="accepted").order_by("id").first()
    assert leaving is not None
    # what the factory may keep of the step: the rest of it that it accepted
    rest = order.allocations.filter(status="accepted", capability=leaving.capability, operation=leaving.operation)
    keeps = sum(rest.exclude(pk=leaving.pk).values_list("quantity", flat=True))
    errors = together(
        lambda: allocation_withdraw(actor=owner(cluster, leaving), allocation=leaving, reason="设备检修"),
        lambda: order_amend(actor=cluster["people"]["buyer"], order=order, data={"late_penalty": "5000"}),
    )
    assert errors == [None, None], errors
    order.refresh_from_db()
    leaving.refresh_from_db()
    assert leaving.status == "withdrawn" and order.late_penalty == 5000
    # the plan covers every step exactly once, and what is accepted is what is reserved
    live = order.allocations.filter(status__in=["offered", "accepted"]).select_related("operation")
    per_step: dict[int, int] = {}
    for a in live:
        per_step[a.operation.seq] = per_step.get(a.operation.seq, 0) + a.quantity
    assert per_step == {1: 600, 2: 600, 3: 600}
    assert (
        sum(live.filter(capability=leaving.capability, operation=leaving.operation).values_list("quantity", flat=True))
        <= keeps
    )
    accepted = sum(order.allocations.filter(status="accepted").values_list("quantity", flat=True))
    assert reserved({a.capability_id for a in order.allocations.all()}) == accepted


@pytest.mark.parametrize("attempt", range(2))
def test_plans_made_at_once_do_not_offer_the_same_room_twice(cluster: dict[str, Any], attempt: int) -> None:
    # Each plan keeps out of the room other orders' open offers hold: made at once, each read the other's room as
    # free (review 53 R6). They take turns now, and the second plans around the first's offers.
    from agglo.factory.models import Capability
    from agglo.factory.services.orders import order_create, order_plan
    from tests.factory.conftest import order_data

    buyer = cluster["people"]["buyer"]
    orders = [order_create(actor=buyer, data=order_data()) for _ in range(2)]
    errors = together(*[(lambda o=o: order_plan(actor=buyer, order=o)) for o in orders])
    assert errors == [None, None], errors
    offered: dict[tuple[int, Any], int] = {}
    for a in Allocation.objects.filter(order__in=orders, status="offered"):
        offered[a.capability_id, a.week] = offered.get((a.capability_id, a.week), 0) + a.quantity
    assert offered
    for (capability, week), units in offered.items():
        slot = CapacitySlot.objects.filter(capability_id=capability, week=week).first()
        room = (slot.capacity - slot.reserved) if slot else Capability.objects.get(pk=capability).weekly_capacity
        assert units <= room, (capability, week, units, room)


@pytest.mark.parametrize("attempt", range(3))
def test_a_delay_and_an_acceptance_at_one_factory_at_once_both_land(cluster: dict[str, Any], attempt: int) -> None:
    # The delay re-plans (its new offers' foreign keys are checked at its commit) while the acceptance holds the
    # capability's row: that lock no longer blocks the check, and the delay takes its planning turn before it
    # locks any capacity (review 53 R1, recheck 54 N1).
    import datetime as dt

    from agglo.factory.services.capacity import free_in
    from agglo.factory.services.execution import allocation_delay
    from agglo.factory.services.orders import order_create, order_plan
    from tests.factory.conftest import order_data

    first = confirmed(cluster)
    buyer = cluster["people"]["buyer"]
    second = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    offers = {a.capability_id: a for a in second.allocations.filter(status="offered")}
    late = next(
        (a for a in first.allocations.filter(status="accepted").order_by("week") if a.capability_id in offers), None
    )
    assert late is not None, "the two plans should share a factory's capability"
    weeks = next(n for n in range(1, 5) if free_in(late.capability, late.week + dt.timedelta(weeks=n)) >= late.quantity)
    offer = offers[late.capability_id]
    errors = together(
        lambda: allocation_delay(actor=owner(cluster, late), allocation=late, weeks=weeks, reason="来料延误"),
        lambda: allocation_respond(actor=owner(cluster, offer), allocation=offer, action="accept"),
    )
    assert all(e is None or isinstance(e, DomainError) for e in errors), errors
    assert reservations_match(first, second)


@pytest.mark.parametrize("attempt", range(3))
def test_a_cancellation_and_a_delay_at_one_factory_at_once_both_land(cluster: dict[str, Any], attempt: int) -> None:
    # The cancellation releases capacity week by week as the delay's re-plan does: both take the planning turn
    # before any capacity lock (recheck 55: 8 of 17 trials deadlocked).
    import datetime as dt

    from agglo.factory.services.capacity import free_in
    from agglo.factory.services.execution import allocation_delay

    first, second = confirmed(cluster), confirmed(cluster)
    shared = {a.capability_id for a in second.allocations.filter(status="accepted")}
    late = next(
        (a for a in first.allocations.filter(status="accepted").order_by("week") if a.capability_id in shared), None
    )
    assert late is not None, "the two plans should share a factory's capability"
    weeks = next(n for n in range(1, 5) if free_in(late.capability, late.week + dt.timedelta(weeks=n)) >= late.quantity)
    errors = together(
        lambda: allocation_delay(actor=owner(cluster, late), allocation=late, weeks=weeks, reason="来料延误"),
        lambda: order_cancel(actor=cluster["people"]["buyer"], order=second, reason="需求取消"),
    )
    assert all(e is None or isinstance(e, DomainError) for e in errors), errors
    assert reservations_match(first, second)


@pytest.mark.parametrize("attempt", range(3))
def test_a_calendar_file_and_a_delay_at_one_factory_at_once_both_land(cluster: dict[str, Any], attempt: int) -> None:
    # The file sets its weeks in its own order (here the accepted week, then the later one) while the delay
    # reserves the later week and then releases the earlier: the file takes the planning turn before its first
    # week, as the delay does (the two deadlocked).
    import datetime as dt

    from agglo.factory.selectors.calendar_file import KEY_COLUMNS
    from agglo.factory.services.calendar_file import calendar_import
    from agglo.factory.services.capacity import free_in
    from agglo.factory.services.execution import allocation_delay

    order = confirmed(cluster)
    late = order.allocations.filter(status="accepted").order_by("week").first()
    assert late is not None
    weeks = next(n for n in range(1, 5) if free_in(late.capability, late.week + dt.timedelta(weeks=n)) >= late.quantity)
    later = late.week + dt.timedelta(weeks=weeks)
    room = late.capability.weekly_capacity + 50  # enough for the work in either week, whichever lands first
    body = ",".join(KEY_COLUMNS) + "\n"
    for week in (late.week, later):
        body += f"{late.factory_id},{late.capability.process_id},{week.isoformat()},{room}\n"
    admin = owner(cluster, late)
    results: list[Any] = []
    errors = together(
        lambda: allocation_delay(actor=admin, allocation=late, weeks=weeks, reason="来料延误"),
        lambda: results.append(calendar_import(actor=admin, body=body.encode(), filename="周历.csv", dry_run=False)),
    )
    assert all(e is None for e in errors), errors
    assert results[0].applied, results[0].errors
    assert reservations_match(order)
    assert CapacitySlot.objects.get(capability=late.capability, week=later).capacity == room


@pytest.mark.parametrize("attempt", range(3))
def test_an_early_delivery_and_a_decline_on_one_order_while_another_plans_all_land(
    cluster: dict[str, Any], attempt: int
) -> None:
    # recheck 57 F1: the delivery took its planning turn before the order's lock, the decline after it: with a
    # third plan holding the turn, they waited for each other
    import datetime as dt

    from django.utils import timezone

    from agglo.factory.services.execution import allocation_progress
    from agglo.factory.services.orders import order_create, order_plan
    from agglo.factory.weeks import monday
    from tests.factory.conftest import order_data

    buyer = cluster["people"]["buyer"]
    later = monday(timezone.localdate()) + dt.timedelta(weeks=3)
    data = order_data(start_week=later.isoformat(), due_week=(later + dt.timedelta(weeks=6)).isoformat())
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    offers = list(order.allocations.filter(status="offered").order_by("operation__seq", "week"))
    first, other = offers[0], offers[-1]
    allocation_respond(actor=owner(cluster, first), allocation=first, action="accept")

    def another_plan() -> None:  # a plan elsewhere that holds the turn while the two come in
        import time

        from django.db import transaction

        from agglo.factory.services.capacity import order_turn

        with transaction.atomic():
            order_turn(order)  # the same processes' turns
            time.sleep(1.5)

    errors = together(
        another_plan,
        lambda: allocation_progress(
            actor=owner(cluster, first), allocation=first, data={"delivered_on": timezone.localdate().isoformat()}
        ),
        lambda: allocation_respond(actor=owner(cluster, other), allocation=other, action="decline", note="排满了"),
    )
    assert all(e is None or isinstance(e, DomainError) for e in errors), errors
    first.refresh_from_db()
    assert first.status == "delivered"


def test_plans_take_turns_by_process_and_orders_with_none_in_common_go_on_at_once(cluster: dict[str, Any]) -> None:
    """A plan waits only for plans and capacity changes on its own processes, not for every plan on the platform."""
    from django.db import transaction

    from agglo.factory.services.capacity import order_turn, planning_turn
    from agglo.factory.services.orders import order_create, order_plan
    from tests.factory.conftest import order_data

    buyer = cluster["people"]["buyer"]
    machining = order_create(actor=buyer, data=order_data(operations=[{"process": "cnc", "quantity": 200}]))
    finishing = order_create(actor=buyer, data=order_data(operations=[{"process": "surface", "quantity": 300}]))
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # a plan on machining's processes, under way
        try:
            with transaction.atomic():
                order_turn(machining)
                holding.set()
                release.wait(60)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        waiting: list[BaseException | None] = []

        def plan(order: Any) -> None:
            try:
                order_plan(actor=buyer, order=order)
                waiting.append(None)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                waiting.append(exc)
            finally:
                connections.close_all()

        other = threading.Thread(target=plan, args=(finishing,))
        other.start()
        other.join(60)
        assert waiting == [None]  # planned while machining's turn is held
        finishing.refresh_from_db()
        assert finishing.status == "planned"
        same = threading.Thread(target=plan, args=(machining,))
        same.start()
        same.join(2)
        assert same.is_alive() and waiting == [None]  # machining's own plan waits for the turn
        with transaction.atomic():  # so does a capacity change on its process
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(Exception, match="lock timeout"):
                planning_turn(["cnc"])
    finally:
        release.set()
        holder.join(60)
    same.join(60)
    assert waiting == [None, None]
    machining.refresh_from_db()
    assert machining.status == "planned"


def test_a_calendar_file_over_two_processes_and_a_plan_at_once_both_land(
    cluster: dict[str, Any], monkeypatch: Any
) -> None:
    """Review 90: the file took each week's process turn as it came (cnc, then assembly), a plan takes its sorted;
    with a plan waiting on cnc while holding assembly, they deadlocked. The file now takes every turn first."""
    import datetime as dt
    import time

    from agglo.factory.services import calendar_file
    from agglo.factory.services.orders import order_create, order_plan
    from agglo.factory.weeks import monday
    from tests.factory.conftest import order_data

    sz = cluster["orgs"]["sz"]
    week = (monday(dt.date.today()) + dt.timedelta(weeks=2)).isoformat()
    body = f"organization_id,process,week,capacity\n{sz.pk},cnc,{week},299\n{sz.pk},assembly,{week},399\n".encode()
    buyer = cluster["people"]["buyer"]
    order = order_create(actor=buyer, data=order_data())
    real, first = calendar_file.week_write, threading.Event()

    def slow_write(**kw: Any) -> Any:  # an ERP's file of many weeks: the first process's weeks take a while
        out = real(**kw)
        if not first.is_set():
            first.set()
            time.sleep(1.5)
        return out

    monkeypatch.setattr(calendar_file, "week_write", slow_write)
    outcome: dict[str, BaseException | None] = {}

    def run(name: str, step: Callable[[], Any]) -> None:
        try:
            step()
            outcome[name] = None
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome[name] = exc
        finally:
            connections.close_all()

    upload = threading.Thread(
        target=run,
        args=(
            "file",
            lambda: calendar_file.calendar_import(
                actor=cluster["people"]["sz"], body=body, filename="c.csv", dry_run=False
            ),
        ),
    )
    upload.start()
    assert first.wait(30)
    plan = threading.Thread(target=run, args=("plan", lambda: order_plan(actor=buyer, order=order)))
    plan.start()
    upload.join(60)
    plan.join(60)
    assert outcome == {"file": None, "plan": None}, outcome
