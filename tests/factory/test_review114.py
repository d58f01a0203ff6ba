"""Review 114 (concurrency on PostgreSQL): the buyer's change of terms, cancellation or decision on a counter-offer at
the moment the buyer is suspended, a factory answers an offer of the same order (one, or all of its offers at once),
or a factory withdraws work it accepted there. Whichever comes first holds what it takes (the buyer's or the
factory's standing, then the order) until it commits; the other waits and then lands on its result or is refused
with a reason. Neither deadlocks, and afterwards the order and its work agree: nothing open or accepted on a
cancelled order, the capacity reserved is the work accepted, no step offered twice over, and no counter-offer
decided once a re-plan set it aside."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agglo.common.errors import DomainError, Forbidden
from agglo.common.models import AuditEvent
from agglo.factory.models import Allocation, Order
from agglo.factory.services import amend, execution, jobs, orders
from agglo.registry.services import standing
from tests.conftest import staggered
from tests.factory.conftest import cluster  # noqa: F401 - fixture
from tests.factory.test_plan_flow import planned
from tests.factory.test_races import owner, reservations_match
from tests.registry.test_review111 import _fresh, _slowed, _status_change

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

BUYER = ("amend", "cancel", "counter")
# where each step, when it comes first, takes its time while holding what it locked: the suspension while it tells
# the buyer's admins, a change of terms after its re-plan, a cancellation once it called the work off, a decision on a
# counter-offer once it reserved the week, an acceptance once it reserved the week, a decline after its re-plan, a
# withdrawal once it released the week
HOLDS: dict[str, tuple[Any, str]] = {
    "suspend": (standing, "_tell"),
    "amend": (amend, "replan"),
    "cancel": (orders, "call_off"),
    "counter": (jobs, "tell_factory"),
    "accept": (jobs, "reserve"),
    "accept_all": (jobs, "reserve"),
    "decline": (jobs, "replan"),
    "withdraw": (execution, "release"),
}
# what each step records once it lands
EVENTS = {
    "suspend": standing.EVENT,
    "amend": "factory.order_amended",
    "cancel": "factory.order_cancelled",
    "counter": "factory.allocation_counter_taken",
    "accept": "factory.allocation_accepted",
    "accept_all": "factory.allocation_accepted",
    "decline": "factory.allocation_declined",
    "withdraw": "factory.allocation_withdrawn",
}
LIVE = ("offered", "countered", "accepted")
# once taken, a counter-offer is set aside only by a step after it, which marks it so (`moved_by`): new terms re-plan
# it, a cancellation calls it off
SETS_ASIDE: dict[str, str] = {"amend": Allocation.MovedBy.AMENDED, "cancel": Allocation.MovedBy.CANCELLED}


@dataclass(frozen=True)
class Scene:
    """A planned order on which one factory counter-offered (`countered`, for the buyer to decide), one accepted a
    piece (`accepted`, which it may withdraw) and one offer is still open (`offer`); and the audit trail's last
    event before the race."""

    cluster: dict[str, Any]
    order: Order
    countered: Allocation
    accepted: Allocation
    offer: Allocation
    since: int


def _scene(cluster: dict[str, Any]) -> Scene:  # noqa: F811
    order = planned(cluster)
    offers = list(order.allocations.filter(status="offered").order_by("operation__seq", "week", "pk"))
    countered = next(a for a in offers if a.quantity >= 2)
    # the factory counters within its own deadline, which gives the buyer its full time to decide
    Allocation.objects.filter(pk=countered.pk).update(respond_by=timezone.now() + dt.timedelta(hours=1))
    jobs.allocation_respond(
        actor=owner(cluster, countered),
        allocation=Allocation.objects.get(pk=countered.pk),
        action="counter",
        quantity=countered.quantity // 2,
    )
    accepted = next(a for a in offers if a.factory_id != countered.factory_id)
    jobs.allocation_respond(actor=owner(cluster, accepted), allocation=accepted, action="accept")
    offer = offers[-1]
    assert offer.pk not in (countered.pk, accepted.pk)
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    return Scene(cluster, Order.objects.get(pk=order.pk), countered, accepted, offer, since)


def _step(scene: Scene, kind: str) -> Callable[[], Any]:
    order, buyer = scene.order, scene.cluster["people"]["buyer"]
    fresh_order = lambda: Order.objects.get(pk=order.pk)  # noqa: E731 - a request reads the order itself
    steps: dict[str, Callable[[], Any]] = {
        "suspend": _status_change(scene.cluster["operator"], scene.cluster["orgs"]["buyer"], "suspended"),
        # a smaller order: the re-plan cuts what it must and offers the rest afresh
        "amend": lambda: amend.order_amend(actor=_fresh(buyer), order=fresh_order(), data={"quantity": 500}),
        "cancel": lambda: orders.order_cancel(actor=_fresh(buyer), order=fresh_order(), reason="需求取消"),
        "counter": lambda: jobs.counter_decide(
            actor=_fresh(buyer), allocation=Allocation.objects.get(pk=scene.countered.pk), accept=True
        ),
        "accept": lambda: jobs.allocation_respond(
            actor=_fresh(owner(scene.cluster, scene.offer)),
            allocation=Allocation.objects.get(pk=scene.offer.pk),
            action="accept",
        ),
        "accept_all": lambda: jobs.offers_accept(
            actor=_fresh(owner(scene.cluster, scene.offer)), order=fresh_order(), factory_id=scene.offer.factory_id
        ),
        "decline": lambda: jobs.allocation_respond(
            actor=_fresh(owner(scene.cluster, scene.offer)),
            allocation=Allocation.objects.get(pk=scene.offer.pk),
            action="decline",
            note="排满了",
        ),
        "withdraw": lambda: execution.allocation_withdraw(
            actor=_fresh(owner(scene.cluster, scene.accepted)),
            allocation=Allocation.objects.get(pk=scene.accepted.pk),
            reason="设备检修",
        ),
    }
    return steps[kind]


def _race(
    scene: Scene, monkeypatch: Any, first: str, second: str, steps: dict[str, Callable[[], Any]] | None = None
) -> dict[str, Any]:
    """The two steps, the second started while the first holds its locks; each one's result or error, under
    "ended" when each one's transaction committed (before what runs after the commit) or rolled back, and under
    "held" when the first stopped holding still (it commits after). `steps`: steps of kinds `_step` does not make
    (another review's), by kind; their holds and events are in HOLDS and EVENTS too."""
    module, name = HOLDS[first]
    held = _slowed(monkeypatch, module, name, only=first)
    ended: dict[str, float] = {}

    def timed(kind: str) -> Callable[[], Any]:
        step = (steps or {}).get(kind) or _step(scene, kind)

        def run() -> Any:
            try:
                with transaction.atomic():  # the step's own, whose first callback on commit says when
                    transaction.on_commit(lambda: ended.__setitem__(kind, time.monotonic()))
                    return step()
            except BaseException:
                ended[kind] = time.monotonic()
                raise

        return run

    outcome = staggered({first: timed(first), second: timed(second)}, gap=0.3)
    return {**outcome, "ended": ended, "held": held.get(first)}


def _events(scene: Scene, kind: str) -> list[int]:
    return list(AuditEvent.objects.filter(pk__gt=scene.since, event=EVENTS[kind]).values_list("pk", flat=True))


def _consistent(scene: Scene, outcome: dict[str, Any], first: str, second: str, *, waits: bool = True) -> None:
    """What holds after any of these races. `waits`: the two take a lock in common (an organization's standing,
    the order), so the second waits for the first; else each lands in its own time, in either order."""
    # the second waited for the first to commit: without the locks it ended while the first still held them
    ended, held = outcome.pop("ended"), outcome.pop("held")
    assert held is not None, (ended, outcome)
    assert held < ended[second] or not waits, (held, ended, outcome)
    # no deadlock, no server error: the loser is refused with a reason, and the first always lands
    for kind, result in outcome.items():
        assert not isinstance(result, BaseException) or isinstance(result, DomainError), (kind, result)
        if isinstance(result, DomainError):
            assert str(result) or getattr(result, "errors", None), (kind, result)
    assert not isinstance(outcome[first], BaseException), outcome
    assert _events(scene, first), outcome
    # the second waited for the first: what it did is recorded after
    if not isinstance(outcome[second], BaseException):
        assert not waits or max(_events(scene, first)) < min(_events(scene, second)), outcome
    else:
        assert not _events(scene, second), outcome
    order = Order.objects.get(pk=scene.order.pk)
    work = order.allocations.select_related("operation")
    if order.status == Order.Status.CANCELLED:
        assert not work.filter(status__in=LIVE).exists(), outcome
    # the capacity reserved is exactly the work accepted (nothing released twice, nothing accepted unreserved)
    assert reservations_match(order), outcome
    # no step is offered or held twice over
    for op in order.operations.all():
        taken = sum(
            (a.counter_quantity or 0) if a.status == "countered" else a.quantity
            for a in work.filter(operation=op, status__in=LIVE)
        )
        assert taken <= op.quantity, (op.seq, taken, op.quantity, outcome)
    # a counter-offer is decided only while it is open: once a re-plan or a cancellation set it aside, it is not
    countered = Allocation.objects.get(pk=scene.countered.pk)
    if "counter" in outcome and not isinstance(outcome["counter"], BaseException):
        taken_then = countered.status == "accepted" or (
            countered.status == "superseded" and countered.moved_by == SETS_ASIDE.get(second)
        )
        assert taken_then, (countered.status, outcome)


@pytest.mark.parametrize("buyer_first", [True, False], ids=["buyer-first", "suspension-first"])
@pytest.mark.parametrize("step", BUYER)
def test_a_buyers_step_as_the_buyer_is_suspended_lands_before_or_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    buyer_first: bool,
) -> None:
    scene = _scene(cluster)
    first, second = (step, "suspend") if buyer_first else ("suspend", step)
    outcome = _race(scene, monkeypatch, first, second)
    _consistent(scene, outcome, first, second)
    assert not isinstance(outcome["suspend"], BaseException), outcome
    if not buyer_first:  # the buyer's rights read again once its standing is: suspended, it may not act
        assert isinstance(outcome[step], Forbidden), outcome
        order = Order.objects.get(pk=scene.order.pk)
        assert order.status == Order.Status.PLANNED and order.quantity == 600
        assert Allocation.objects.get(pk=scene.countered.pk).status == "countered"


@pytest.mark.parametrize("buyer_first", [True, False], ids=["buyer-first", "factory-first"])
@pytest.mark.parametrize("answer", ["accept", "decline", "accept_all"])
@pytest.mark.parametrize("step", BUYER)
def test_a_buyers_step_as_a_factory_answers_an_offer_of_the_order_both_land_or_one_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    answer: str,
    buyer_first: bool,
) -> None:
    scene = _scene(cluster)
    first, second = (step, answer) if buyer_first else (answer, step)
    outcome = _race(scene, monkeypatch, first, second)
    _consistent(scene, outcome, first, second)
    if first == "cancel":  # every offer was called off before the answer could read it
        assert isinstance(outcome[answer], DomainError), outcome
    if step != "counter" and not buyer_first:  # an answer elsewhere leaves a change or cancellation free to land
        assert not isinstance(outcome[step], BaseException), outcome


@pytest.mark.parametrize("buyer_first", [True, False], ids=["buyer-first", "factory-first"])
@pytest.mark.parametrize("step", BUYER)
def test_a_buyers_step_as_a_factory_withdraws_accepted_work_both_land_or_one_is_refused(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    step: str,
    buyer_first: bool,
) -> None:
    scene = _scene(cluster)
    first, second = (step, "withdraw") if buyer_first else ("withdraw", step)
    outcome = _race(scene, monkeypatch, first, second)
    _consistent(scene, outcome, first, second)
    if first == "cancel":  # the factory is told why its work is gone, not only that it cannot be withdrawn
        assert isinstance(outcome["withdraw"], DomainError), outcome
        said = " ".join(outcome["withdraw"].errors["action"])
        assert str(Allocation.MovedBy.CANCELLED.label) in said, said
    if not buyer_first:  # the withdrawal's re-plan keeps the buyer's open decisions: all three still land
        assert not isinstance(outcome[step], BaseException), outcome
    withdrawn = Allocation.objects.get(pk=scene.accepted.pk)
    assert (withdrawn.status == "withdrawn") == (not isinstance(outcome["withdraw"], BaseException)), outcome


@pytest.mark.parametrize("counter_first", [True, False], ids=["counter-first", "other-first"])
@pytest.mark.parametrize("other", ["amend", "cancel"])
def test_a_counter_offer_decided_as_the_order_is_changed_or_cancelled_is_decided_before_or_not_at_all(
    cluster: dict[str, Any],  # noqa: F811
    monkeypatch: Any,
    other: str,
    counter_first: bool,
) -> None:
    # two of the buyer's people at once: a change of terms re-plans and sets open counter-offers aside, a
    # cancellation calls them off; a decision after either finds none open
    scene = _scene(cluster)
    first, second = ("counter", other) if counter_first else (other, "counter")
    outcome = _race(scene, monkeypatch, first, second)
    _consistent(scene, outcome, first, second)
    assert not isinstance(outcome[other], BaseException), outcome
    if not counter_first:
        assert isinstance(outcome["counter"], DomainError), outcome
        assert not _events(scene, "counter")
