"""Review 116 (concurrency on PostgreSQL): the two races review 114 left out, on its scene and with its helpers.

A factory suspended by the operators at the moment the buyer changes the order's terms or takes the factory's
counter-offer, or the factory itself accepts or declines an offer or withdraws accepted work there. A step that
acts for the factory (its answers and withdrawals, and the buyer taking its counter-offer, which makes it the
factory's accepted work) holds the factory's standing first, so of it and the suspension the later waits and sees
the other's result: a suspended factory accepts nothing and withdraws nothing, and work it accepted just before is
taken back once the suspension commits (`services.departures`). A change of terms does not rest on the factory's
standing and lands in its own time. Either way nothing open, nor accepted and not begun, is left to the suspended
factory on the order afterwards, and the capacity reserved is the work accepted.

The buyer withdrawn from the platform at the moment a factory answers or withdraws, or the buyer itself changes or
cancels the order. A factory's step lands in its own time; the buyer's own waits for the withdrawal (and is then
refused) or the withdrawal for it, as with a suspension in review 114. Once the withdrawal commits the order is
called off unless the buyer cancelled it first: nothing open or accepted stays on it, and the capacity reserved is
the work accepted (none). Neither race deadlocks, and a step that loses is refused with a reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from agglo.common.errors import DomainError, Forbidden
from agglo.common.models import AuditEvent
from agglo.factory.models import Allocation, Order
from agglo.factory.services.departures import departed_buyers_orders, departed_work
from agglo.registry.services import standing
from tests.factory import test_review114 as r114
from tests.factory.conftest import cluster  # noqa: F401 - fixture
from tests.factory.test_review114 import LIVE, Scene, _consistent, _race, _scene
from tests.registry.test_review111 import _status_change

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

S, MOVED = Allocation.Status, Allocation.MovedBy
# the steps this review adds to review 114's races: a factory's suspension and the buyer's withdrawal, each holding
# still where review 114's suspension of the buyer does (while the members' admins are told); taken, a counter-offer
# is set aside by a departure, as the factory's work taken back or the order called off
ADDED = {
    "suspend_factory": ((standing, "_tell"), standing.EVENT, MOVED.LEFT),
    "leave": ((standing, "_tell"), standing.EVENT, MOVED.CANCELLED),
}


@pytest.fixture(autouse=True)
def _added_steps(monkeypatch: Any) -> None:
    for kind, (hold, event, sets_aside) in ADDED.items():
        monkeypatch.setitem(r114.HOLDS, kind, hold)
        monkeypatch.setitem(r114.EVENTS, kind, event)
        monkeypatch.setitem(r114.SETS_ASIDE, kind, sets_aside)


def _order(first: str, step: str, other: str) -> tuple[str, str]:
    return (step, other) if first == step else (other, step)


def _suspend(scene: Scene, allocation: Allocation) -> dict[str, Callable[[], Any]]:
    """The operators suspend the factory of `allocation`."""
    factory = next(o for o in scene.cluster["orgs"].values() if o.pk == allocation.factory_id)
    return {"suspend_factory": _status_change(scene.cluster["operator"], factory, "suspended")}


def _leave(scene: Scene) -> dict[str, Callable[[], Any]]:
    """The buyer leaves the platform (recorded by the operators)."""
    return {"leave": _status_change(scene.cluster["operator"], scene.cluster["orgs"]["buyer"], "withdrawn")}


def _refused(outcome: dict[str, Any], kind: str) -> None:
    assert isinstance(outcome[kind], DomainError), outcome
    assert str(outcome[kind]) or outcome[kind].errors, outcome


def _nothing_left_to(scene: Scene, factory_id: int, outcome: dict[str, Any]) -> None:
    """The suspended factory holds nothing open, nor accepted work not begun, on the order; the order stands."""
    assert not departed_work([factory_id]).filter(order_id=scene.order.pk).exists(), outcome
    assert not Allocation.objects.filter(
        order_id=scene.order.pk, factory_id=factory_id, status__in=(S.OFFERED, S.COUNTERED)
    ).exists(), outcome


# --- a factory suspended ---------------------------------------------------------------------------------------------

# (the buyer's step, which comes first), raced against the suspension of the factory whose counter-offer the buyer
# may take; a cancellation is raced against the buyer's own withdrawal below, which calls the order off as well
BUYER_STEPS = [("amend", "amend"), ("counter", "counter"), ("counter", "suspend_factory")]


@pytest.mark.parametrize(("step", "first"), BUYER_STEPS, ids=["-".join(p) + "-first" for p in BUYER_STEPS])
def test_a_buyers_step_as_a_factory_is_suspended_lands_before_or_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    first: str,
) -> None:
    scene = _scene(cluster)
    first, second = _order(first, step, "suspend_factory")
    # taking the counter-offer makes the factory's work accepted: it holds the factory's standing as its answers
    # do, and waits for the suspension, or the suspension for it; new terms need not
    outcome = _race(scene, monkeypatch, first, second, steps=_suspend(scene, scene.countered))
    _consistent(scene, outcome, first, second, waits=step == "counter")
    assert not isinstance(outcome["suspend_factory"], BaseException), outcome
    countered = Allocation.objects.get(pk=scene.countered.pk)
    order = Order.objects.get(pk=scene.order.pk)
    if step == "counter" and first == "suspend_factory":  # a suspended factory's counter-offer is not taken
        _refused(outcome, "counter")
        assert (countered.status, countered.moved_by) == (S.SUPERSEDED, MOVED.LEFT), outcome
    else:  # it lands, and what it leaves to the suspended factory is taken back once the suspension commits
        assert not isinstance(outcome[step], BaseException), outcome
    assert order.status not in Order.CLOSED, outcome
    if step == "counter":  # taken or not, the counter-offer was the suspended factory's, and was taken back
        assert AuditEvent.objects.filter(pk__gt=scene.since, event="factory.factories_left").exists(), outcome
        assert countered.moved_by == MOVED.LEFT, outcome
    _nothing_left_to(scene, scene.countered.factory_id, outcome)


# (the factory's step, which comes first); accept and decline answer an open offer, withdraw gives back accepted work
ANSWERS = [
    ("accept", "accept"),
    ("accept", "suspend_factory"),
    ("decline", "decline"),
    ("withdraw", "withdraw"),
    ("withdraw", "suspend_factory"),
]


@pytest.mark.parametrize(("step", "first"), ANSWERS, ids=["-".join(p) + "-first" for p in ANSWERS])
def test_a_factorys_answer_as_it_is_suspended_lands_before_or_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    first: str,
) -> None:
    scene = _scene(cluster)
    piece = scene.accepted if step == "withdraw" else scene.offer
    assert scene.offer.factory_id == scene.accepted.factory_id  # one factory's open offer and accepted work
    first, second = _order(first, step, "suspend_factory")
    outcome = _race(scene, monkeypatch, first, second, steps=_suspend(scene, piece))
    _consistent(scene, outcome, first, second, waits=True)
    assert not isinstance(outcome["suspend_factory"], BaseException), outcome
    mine = Allocation.objects.get(pk=piece.pk)
    if first == "suspend_factory":  # suspended, it may not act: the work was taken back, not answered or withdrawn
        assert isinstance(outcome[step], Forbidden | DomainError), outcome
        _refused(outcome, step)
        assert (mine.status, mine.moved_by) == (S.SUPERSEDED, MOVED.LEFT), outcome
    else:  # its answer stands; what it accepted is then taken back as not begun
        assert not isinstance(outcome[step], BaseException), outcome
        expected = {"accept": (S.SUPERSEDED, MOVED.LEFT), "decline": (S.DECLINED, ""), "withdraw": (S.WITHDRAWN, "")}
        assert (mine.status, mine.moved_by) == expected[step], outcome
    assert Order.objects.get(pk=scene.order.pk).status not in Order.CLOSED, outcome
    _nothing_left_to(scene, piece.factory_id, outcome)


# --- the buyer leaves ------------------------------------------------------------------------------------------------

# (a factory's step or the buyer's own, which comes first)
LEAVING = [
    ("accept", "accept"),
    ("decline", "leave"),
    ("withdraw", "withdraw"),
    ("amend", "leave"),
    ("cancel", "cancel"),
]


@pytest.mark.parametrize(("step", "first"), LEAVING, ids=["-".join(p) + "-first" for p in LEAVING])
def test_a_step_on_the_order_as_its_buyer_leaves_lands_before_the_call_off_or_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    first: str,
) -> None:
    scene = _scene(cluster)
    first, second = _order(first, step, "leave")
    buyers = step in r114.BUYER  # the buyer's own steps hold its standing, and wait for its withdrawal or it for them
    outcome = _race(scene, monkeypatch, first, second, steps=_leave(scene))
    _consistent(scene, outcome, first, second, waits=buyers)
    assert not isinstance(outcome["leave"], BaseException), outcome
    if first == "leave" and buyers:  # gone, the buyer may not act
        assert isinstance(outcome[step], Forbidden), outcome
    elif first != "leave":
        assert not isinstance(outcome[step], BaseException), outcome
    # the order is called off (or was cancelled by the buyer first): nothing open or accepted stays on it
    order = Order.objects.get(pk=scene.order.pk)
    assert order.status == Order.Status.CANCELLED, outcome
    assert not order.allocations.filter(status__in=LIVE).exists(), outcome
    assert not departed_buyers_orders([order.buyer_id]).exists(), outcome
    called_off = AuditEvent.objects.filter(pk__gt=scene.since, event="factory.order_called_off")
    assert called_off.exists() == (step != "cancel"), outcome
    if step == "withdraw" and first == "withdraw":
        assert Allocation.objects.get(pk=scene.accepted.pk).status == S.WITHDRAWN, outcome
