"""Review 119 (concurrency on PostgreSQL): the three races reviews 114 and 116 left out, on their scene and with
their helpers.

A factory's reports on its accepted work (a delay, progress) at the moment the factory is suspended. A report acts
for the factory, and a suspended member acts for nobody (its people read, they do not act): so a report holds the
factory's standing first, as its answers and its withdrawal do, and of it and the suspension the later sees the
other's result. A report that comes first lands, and the suspension then takes back what the factory has not begun
(a delayed piece among it); work it reported begun stays its own, as the plan cannot move it. A report that comes
second is refused, saying that the factory is not in good standing. A delay re-plans the order, and the re-plan may
hand the late part to another factory: if that one is suspended at the same moment, its suspension waits for the
plans under way on its processes before it looks for what it leaves open, so that what the re-plan handed it is
taken back too (and a plan after the suspension reads it suspended).

The buyer's cancellation at the moment a factory of the order is suspended, and the buyer's decision on a
counter-offer at the moment the buyer itself leaves the platform (its own admin withdraws it). Whichever comes first
lands and the other sees its result; neither deadlocks, and afterwards nothing open or accepted stays on a called-off
order, nothing open is left to the suspended factory, and the capacity reserved is the work accepted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils.translation import gettext

from agglo.common.errors import Forbidden
from agglo.common.models import AuditEvent
from agglo.factory.models import Allocation, Order
from agglo.factory.services import execution, jobs
from agglo.factory.services.departures import departed_buyers_orders, departed_work
from agglo.registry.services import standing
from tests.factory import test_review114 as r114
from tests.factory.conftest import cluster  # noqa: F401 - fixture
from tests.factory.test_plan_flow import planned
from tests.factory.test_races import owner, reservations_match
from tests.factory.test_review114 import LIVE, Scene, _consistent, _race, _scene
from tests.factory.test_review116 import ADDED, _nothing_left_to, _order, _refused, _suspend
from tests.registry.test_review111 import _fresh, _status_change

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

S, MOVED = Allocation.Status, Allocation.MovedBy
# the steps this review adds: a delay holds still after its re-plan, a progress report once it recorded the step, the
# buyer's own withdrawal while its admins are told (as the operators' in review 116); a counter-offer taken is set
# aside by the buyer's withdrawal as the order is called off
STEPS = {
    **ADDED,
    "delay": ((execution, "replan"), "factory.allocation_delayed", ""),
    "progress": ((execution, "audit_step"), "factory.allocation_progress", ""),
    "leave_own": ((standing, "_tell"), standing.EVENT, MOVED.CANCELLED),
    # the buyer refusing a counter-offer, as review 114's "counter" takes one
    "refuse": ((jobs, "tell_factory"), "factory.allocation_counter_refused", ""),
}
# what a suspended factory's people are told, in the language the race's threads speak (the default)
NOT_IN_GOOD_STANDING = (
    "Your organization is not a member in good standing at present: it cannot answer or report on its work until "
    "it is reinstated."
)


@pytest.fixture(autouse=True)
def _added_steps(monkeypatch: Any) -> None:
    for kind, (hold, event, sets_aside) in STEPS.items():
        monkeypatch.setitem(r114.HOLDS, kind, hold)
        monkeypatch.setitem(r114.EVENTS, kind, event)
        if sets_aside:
            monkeypatch.setitem(r114.SETS_ASIDE, kind, sets_aside)


def _said(error: BaseException) -> str:
    return " ".join([str(error), *(m for lines in getattr(error, "errors", {}).values() for m in lines)])


# --- a factory's reports as it is suspended ---------------------------------------------------------------------------


def _reporting(cluster: dict[str, Any]) -> tuple[Scene, Allocation]:  # noqa: F811
    """Review 114's scene, with the Shenzhen factory's open offer of the first step accepted too: work without
    earlier steps to wait for, which it may report begun at once."""
    scene = _scene(cluster)
    first = scene.order.allocations.get(status=S.OFFERED, factory_id=scene.countered.factory_id)
    jobs.allocation_respond(actor=owner(cluster, first), allocation=first, action="accept")
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    return Scene(cluster, scene.order, scene.countered, scene.accepted, scene.offer, since), first


def _report(scene: Scene, kind: str, piece: Allocation) -> Callable[[], Any]:
    who = owner(scene.cluster, piece)
    fresh = lambda: Allocation.objects.get(pk=piece.pk)  # noqa: E731 - a request reads the work itself
    if kind == "delay":
        return lambda: execution.allocation_delay(actor=_fresh(who), allocation=fresh(), weeks=1, reason="模具返修")
    return lambda: execution.allocation_progress(actor=_fresh(who), allocation=fresh(), data={"quantity_done": 100})


# (the report, which comes first): a delay of accepted work not begun (the Chengdu factory's surface treatment),
# progress on accepted work of the first step (the Shenzhen factory's machining)
REPORTS = [("delay", "delay"), ("delay", "suspend_factory"), ("progress", "progress"), ("progress", "suspend_factory")]


@pytest.mark.parametrize(("step", "first"), REPORTS, ids=["-".join(p) + "-first" for p in REPORTS])
def test_a_factorys_report_as_it_is_suspended_lands_before_or_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    first: str,
) -> None:
    scene, first_step = _reporting(cluster)
    piece = scene.accepted if step == "delay" else first_step
    week = piece.week
    first, second = _order(first, step, "suspend_factory")
    steps = {**_suspend(scene, piece), step: _report(scene, step, piece)}
    outcome = _race(scene, monkeypatch, first, second, steps=steps)
    # a report holds the factory's standing first: the suspension waits for it, or it for the suspension
    _consistent(scene, outcome, first, second, waits=True)
    assert not isinstance(outcome["suspend_factory"], BaseException), outcome
    mine = Allocation.objects.get(pk=piece.pk)
    if first == "suspend_factory":  # suspended, it reports nothing: its work not begun was taken back as it stood
        assert isinstance(outcome[step], Forbidden), outcome
        _refused(outcome, step)
        assert gettext(NOT_IN_GOOD_STANDING) in _said(outcome[step]), outcome
        assert (mine.status, mine.moved_by, mine.week, mine.quantity_done) == (S.SUPERSEDED, MOVED.LEFT, week, 0)
    elif step == "delay":  # the delay stands (on the log before the suspension), and the late work is taken back
        assert not isinstance(outcome[step], BaseException), outcome
        assert (mine.status, mine.moved_by, mine.week) == (S.SUPERSEDED, MOVED.LEFT, week + dt.timedelta(weeks=1))
    else:  # work it reported begun stays its own: the plan cannot move it
        assert not isinstance(outcome[step], BaseException), outcome
        assert (mine.status, mine.started, mine.quantity_done) == (S.ACCEPTED, True, 100), outcome
    assert Order.objects.get(pk=scene.order.pk).status not in Order.CLOSED, outcome
    _nothing_left_to(scene, piece.factory_id, outcome)


def _late(cluster: dict[str, Any]) -> tuple[Scene, Allocation]:  # noqa: F811
    """An order of one step that the Suzhou factory accepted whole; reported four weeks late, the re-plan takes the
    late part from it and offers it to the Shenzhen factory, which has no part in the order before."""
    today = dt.date.today()
    order = planned(
        cluster,
        quantity=250,
        due_week=(today + dt.timedelta(weeks=2)).isoformat(),
        operations=[{"process": "cnc", "quantity": 250}],
        late_penalty="20000",
    )
    (piece,) = order.allocations.filter(status=S.OFFERED)
    assert piece.factory_id == cluster["orgs"]["su"].pk
    jobs.allocation_respond(actor=owner(cluster, piece), allocation=piece, action="accept")
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    assert not order.allocations.filter(factory=cluster["orgs"]["sz"]).exists()
    # review 114's checks read a counter-offer and an open offer of the scene: here there are none, only the piece
    return Scene(cluster, Order.objects.get(pk=order.pk), piece, piece, piece, since), piece


@pytest.mark.parametrize("delay_first", [True, False], ids=["delay-first", "suspension-first"])
def test_a_delays_re_plan_leaves_nothing_to_a_factory_suspended_at_that_moment(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    delay_first: bool,
) -> None:
    scene, piece = _late(cluster)
    sz = cluster["orgs"]["sz"]
    first, second = ("delay", "suspend_factory") if delay_first else ("suspend_factory", "delay")
    steps = {
        "suspend_factory": _status_change(cluster["operator"], sz, "suspended"),
        "delay": lambda: execution.allocation_delay(
            actor=_fresh(owner(cluster, piece)),
            allocation=Allocation.objects.get(pk=piece.pk),
            weeks=4,
            reason="主轴损坏",
        ),
    }
    outcome = _race(scene, monkeypatch, first, second, steps=steps)
    assert not isinstance(outcome["suspend_factory"], BaseException), outcome
    assert not isinstance(outcome["delay"], BaseException), outcome
    order = Order.objects.get(pk=scene.order.pk)
    # nothing of the order is open to the suspended factory afterwards, nor accepted
    assert not order.allocations.filter(factory=sz, status__in=LIVE).exists(), list(order.allocations.values())
    assert not departed_work([sz.pk]).exists(), outcome
    if delay_first:  # the late part was handed to it by the re-plan that read it in good standing, and taken back
        handed = order.allocations.filter(factory=sz, pk__gt=piece.pk)
        assert handed.exists() and not handed.exclude(moved_by=MOVED.LEFT).exists(), list(handed.values())
        assert AuditEvent.objects.filter(pk__gt=scene.since, event="factory.factories_left").exists(), outcome
    # the suspension waits for the plan under way on its processes (the delay's re-plan, first), so it sees what the
    # plan handed its factory; second, the delay lands in its own time (it is another factory's)
    _consistent(scene, outcome, first, second, waits=delay_first)


# --- the buyer cancels as a factory is suspended ----------------------------------------------------------------------


@pytest.mark.parametrize("cancel_first", [True, False], ids=["cancel-first", "suspension-first"])
def test_a_cancellation_as_a_factory_of_the_order_is_suspended_calls_everything_off(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    cancel_first: bool,
) -> None:
    scene = _scene(cluster)
    piece = scene.accepted  # the Chengdu factory's accepted work, beside its open offers on the order
    first, second = ("cancel", "suspend_factory") if cancel_first else ("suspend_factory", "cancel")
    outcome = _race(scene, monkeypatch, first, second, steps=_suspend(scene, piece))
    ended, held = outcome["ended"], outcome["held"]
    # they hold no lock in common before the order's planning turns: each lands in its own time
    _consistent(scene, outcome, first, second, waits=False)
    if cancel_first:  # the suspension, once recorded, waits for the plans under way on its factory's processes
        assert held < ended["suspend_factory"], (held, ended, outcome)
    assert not isinstance(outcome["suspend_factory"], BaseException), outcome
    assert not isinstance(outcome["cancel"], BaseException), outcome
    order = Order.objects.get(pk=scene.order.pk)
    assert order.status == Order.Status.CANCELLED, outcome
    assert not order.allocations.filter(status__in=LIVE).exists(), outcome
    # the accepted work was called off by the cancellation, or taken back by the suspension just before it
    mine = Allocation.objects.get(pk=piece.pk)
    assert mine.status == S.SUPERSEDED and mine.moved_by in (MOVED.CANCELLED, MOVED.LEFT), outcome
    if cancel_first:
        assert mine.moved_by == MOVED.CANCELLED, outcome
    assert not departed_work([piece.factory_id]).exists(), outcome
    _nothing_left_to(scene, piece.factory_id, outcome)


# --- the buyer decides on a counter-offer as it leaves the platform ---------------------------------------------------


@pytest.mark.parametrize("counter_first", [True, False], ids=["counter-first", "withdrawal-first"])
@pytest.mark.parametrize("accept", [True, False], ids=["taken", "refused"])
def test_a_counter_offer_decided_as_the_buyer_leaves_is_decided_before_the_call_off_or_not_at_all(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    accept: bool,
    counter_first: bool,
) -> None:
    scene = _scene(cluster)
    buyer_admin, buyer = cluster["people"]["buyer"], cluster["orgs"]["buyer"]
    step = "counter" if accept else "refuse"
    first, second = (step, "leave_own") if counter_first else ("leave_own", step)
    steps = {
        # the buyer's own admin withdraws it from the platform
        "leave_own": _status_change(buyer_admin, buyer, "withdrawn"),
        step: lambda: jobs.counter_decide(
            actor=_fresh(buyer_admin), allocation=Allocation.objects.get(pk=scene.countered.pk), accept=accept
        ),
    }
    outcome = _race(scene, monkeypatch, first, second, steps=steps)
    # both hold the buyer's standing: the second waits for the first
    _consistent(scene, outcome, first, second, waits=True)
    assert not isinstance(outcome["leave_own"], BaseException), outcome
    countered = Allocation.objects.get(pk=scene.countered.pk)
    decided = AuditEvent.objects.filter(
        pk__gt=scene.since, event__in=("factory.allocation_counter_taken", "factory.allocation_counter_refused")
    )
    if counter_first:  # decided before the buyer left: taken, it was then called off with the order
        assert not isinstance(outcome[step], BaseException), outcome
        assert decided.count() == 1, outcome
        expected = (S.SUPERSEDED, MOVED.CANCELLED) if accept else (S.DECLINED, "")
        assert (countered.status, countered.moved_by) == expected, outcome
    else:  # gone, the buyer decides nothing: the counter-offer was called off undecided
        assert isinstance(outcome[step], Forbidden), outcome
        assert not decided.exists(), outcome
        assert (countered.status, countered.moved_by) == (S.SUPERSEDED, MOVED.CANCELLED), outcome
    order = Order.objects.get(pk=scene.order.pk)
    assert order.status == Order.Status.CANCELLED, outcome
    assert not order.allocations.filter(status__in=LIVE).exists(), outcome
    assert not departed_buyers_orders([buyer.pk]).exists(), outcome
    assert AuditEvent.objects.filter(pk__gt=scene.since, event="factory.order_called_off").exists(), outcome
    assert reservations_match(order), outcome
