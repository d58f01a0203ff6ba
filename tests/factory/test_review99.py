"""Review 99 (concurrency on PostgreSQL): a reminder round waits for no other transaction; a plan's two reads of
a week (open offers, then reservations) cannot miss an acceptance committed between them; a week's earlier figure
is the declared capacity in force."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import connection

from agglo.common.models import AuditEvent
from agglo.factory.models import Capability
from agglo.factory.selectors import planning
from agglo.factory.services import replan as replan_module
from agglo.factory.services.amend import order_amend
from agglo.factory.services.capacity import capability_save, capacity_set
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_create, order_plan
from agglo.factory.services.reminders import offers_remind
from agglo.factory.weeks import monday
from tests.conftest import staggered
from tests.factory.conftest import order_data
from tests.factory.test_races import owner, together

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


@pytest.mark.django_db
def test_a_weeks_earlier_figure_is_the_declared_capacity_in_force(cluster: dict[str, Any]) -> None:
    sz, admin = cluster["orgs"]["sz"], cluster["people"]["sz"]
    page_copy = Capability.objects.get(organization=sz, process_id="cnc")  # read by the page: 300 a week
    capability_save(actor=admin, organization_id=sz.pk, data={"process": "cnc", "weekly_capacity": 200})
    week = monday(dt.date.today()) + dt.timedelta(weeks=3)
    capacity_set(actor=admin, capability=page_copy, week=week.isoformat(), capacity=250)
    said = AuditEvent.objects.filter(event="factory.capacity_set").latest("id").payload
    assert (said["was"], said["capacity"]) == (200, 250)  # raised, not lowered


@on_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("solve_s", [2.0, 3.5])
def test_a_reminder_round_a_replan_and_a_decline_all_finish(
    cluster: dict[str, Any], monkeypatch: Any, solve_s: float
) -> None:
    buyer = cluster["people"]["buyer"]
    later = dt.date.today() + dt.timedelta(weeks=1)  # work from next week: answers due in the full window
    data = order_data(start_week=later.isoformat(), due_week=(later + dt.timedelta(weeks=6)).isoformat())
    a = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    b = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    b1 = b.allocations.filter(status="offered").order_by("pk").first()
    when = min(x.respond_by for x in (*a.allocations.filter(status="offered"), b1)) - dt.timedelta(hours=1)
    real_solve = replan_module.solve

    def slow_solve(*args: Any, **kw: Any) -> Any:  # the solver's own time, while the re-plan holds its turns
        if threading.current_thread().name == "amend":
            time.sleep(solve_s)
        return real_solve(*args, **kw)

    monkeypatch.setattr(replan_module, "solve", slow_solve)
    outcome = staggered(
        {
            "amend": lambda: order_amend(actor=buyer, order=a, data={"late_penalty": "9000"}),
            "decline": lambda: allocation_respond(actor=owner(cluster, b1), allocation=b1, action="decline", note="满"),
            "remind": lambda: offers_remind(now=when),
        },
        gap=0.6,
    )
    assert not any(isinstance(v, BaseException) for v in outcome.values()), outcome
    # what the round left, locked by the others, the next one reminds of
    assert offers_remind(now=when) + outcome["remind"] >= 1


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_an_acceptance_between_a_plans_two_reads_is_not_offered_again(
    cluster: dict[str, Any], monkeypatch: Any
) -> None:
    buyer = cluster["people"]["buyer"]
    data = order_data(operations=[{"process": "cnc", "quantity": 1100}], quantity=1100, max_suppliers=3)
    first = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    offers = list(first.allocations.filter(status="offered"))
    second = order_create(actor=buyer, data=data)
    real, read = planning.offers_held, threading.Event()
    planner = {}

    def paused(*args: Any, **kw: Any) -> Any:  # a busy server's pause at this point of the plan's reads
        if threading.current_thread() is planner.get("thread") and not read.is_set():
            read.set()
            time.sleep(2)
        return real(*args, **kw)

    monkeypatch.setattr(planning, "offers_held", paused)

    def plan() -> None:
        planner["thread"] = threading.current_thread()
        order_plan(actor=buyer, order=second)

    def accept() -> None:
        assert read.wait(30)
        for a in offers:
            allocation_respond(actor=owner(cluster, a), allocation=a, action="accept")

    assert together(plan, accept) == [None, None]
    # every offer of the second plan fits the room the first order's accepted work left
    for a in second.allocations.filter(status="offered"):
        allocation_respond(actor=owner(cluster, a), allocation=a, action="accept")


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_a_factorys_offers_on_an_order_are_reminded_of_in_one_notice_when_part_is_locked(
    cluster: dict[str, Any],
) -> None:
    """Review 103: with part of a factory's offers on an order held by another transaction, a round used to remind
    of the rest, and the next round of that part in a second notice."""
    from django.db import transaction

    from agglo.common.models import Notification

    buyer = cluster["people"]["buyer"]
    later = dt.date.today() + dt.timedelta(weeks=1)
    data = order_data(start_week=later.isoformat(), due_week=(later + dt.timedelta(weeks=6)).isoformat())
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    offers = list(order.allocations.filter(status="offered"))
    factory = max({a.factory_id for a in offers}, key=lambda f: sum(a.factory_id == f for a in offers))
    mine = [a for a in offers if a.factory_id == factory]
    assert len(mine) >= 2
    when = min(a.respond_by for a in offers) - dt.timedelta(hours=1)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # an answer under way on one piece of the factory's work
        with transaction.atomic():
            type(mine[0]).objects.select_for_update().get(pk=mine[0].pk)
            holding.set()
            release.wait(30)

    def remind() -> None:
        assert holding.wait(30)
        first.append(offers_remind(now=when))
        release.set()

    first: list[int] = []
    assert together(hold, remind) == [None, None]
    who = next(p for n, p in cluster["people"].items() if cluster["orgs"][n].pk == factory)
    notices = Notification.objects.filter(verb="factory.offer_reminder", user=who)
    assert first[0] == len(offers) - len(mine) and not notices.exists()
    assert offers_remind(now=when) == len(mine) and notices.count() == 1  # the next round: all of it, in one notice
