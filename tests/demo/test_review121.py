"""Review 121 (concurrency on PostgreSQL): the demo loaded while an operator suspends a member.

The demo's accounts, agreement, subsidy and orders are loaded in one transaction (`demo_accounts_ensure`, which
`agglo up` runs on every start), and a transaction holds every lock it takes until it ends. The orders took their
planning turns first and then, through the real services, the buyer's and each answering factory's organization
row (`standing_held`), and after them the agency's as its subsidy was published. A change of standing takes the
organization's row first and then the planning turns of the processes it declared (`factory.receivers`, review 119):
the two orders deadlocked, and PostgreSQL aborted one of them. Now the orders hold the rows of the organizations they
may act for before their turns, and come last in the load, after the subsidy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections

from agglo.access.models import Membership
from agglo.demo import orders as demo_orders
from agglo.demo import policy as demo_policy
from agglo.demo.factory import demo_factory_load
from agglo.demo.orders import BOARD, HOUSING
from agglo.demo.services import demo_accounts_ensure, demo_cluster_load
from agglo.factory.models import Capability, Order
from agglo.factory.services.capacity import capability_save
from agglo.policy.models import Policy
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status
from agglo.registry.services import standing as registry_standing

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

HOLD = 2.0  # seconds the step that comes first holds still with what it locked


def _nothing(*args: Any, **kwargs: Any) -> None:
    return None


def _loaded(monkeypatch: Any, member: str, *, declared: bool = True) -> Organization:
    """The demo cluster `agglo up` loads, its accounts and agreement in place but not yet its orders (nor, for the
    agency, its subsidy), as on a first start. `declared`: `member` (the demo buyer or the agency) has declared a
    process of the demo orders, at a price no plan picks, so that its change of standing waits for the plans on it."""
    demo_cluster_load(n=300, seed=42)
    demo_factory_load(seed=42)
    with monkeypatch.context() as m:
        m.setattr(demo_orders, "demo_orders_ensure", _nothing)
        if member == "agency":
            m.setattr(demo_policy, "demo_policy_ensure", _nothing)
        demo_accounts_ensure()
    org = Membership.objects.select_related("organization").get(user__username=ADMINS[member]).organization
    if declared:
        Capability.objects.create(organization=org, process_id="testing", **TESTING)
    return org


ADMINS = {"buyer": "sme-admin", "agency": "agency-admin"}
TESTING = {"weekly_capacity": 100, "unit_cost": Decimal("99999"), "min_lot": 50}


def _race(monkeypatch: Any, first: str, steps: dict[str, Callable[[], Any]]) -> dict[str, Any]:
    """The two steps, each in a thread of its name: the first holds still with what it has locked (the demo once it
    took its planning turns, a suspension as it tells the member's admins), and the second starts then."""
    reached = threading.Event()

    def holding(module: Any, name: str, thread: str) -> None:
        real = getattr(module, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            out = real(*args, **kwargs)
            if threading.current_thread().name == thread and not reached.is_set():
                reached.set()
                time.sleep(HOLD)
            return out

        monkeypatch.setattr(module, name, held)

    if first == "demo":
        holding(demo_orders, "planning_turn", "demo")
    else:
        holding(registry_standing, "_tell", first)
    outcome: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            outcome[name] = steps[name]()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome[name] = exc
        finally:
            connections.close_all()

    second = next(name for name in steps if name != first)
    threads = [threading.Thread(target=run, args=(first,), name=first)]
    threads[0].start()
    assert reached.wait(60), outcome
    threads.append(threading.Thread(target=run, args=(second,), name=second))
    threads[1].start()
    for t in threads:
        t.join(120)
    return outcome


def _products(org: Organization) -> set[str]:
    return set(Order.objects.filter(buyer=org).values_list("product", flat=True))


# (whose standing or calendar, what happens to it, which comes first): an operator suspends the demo buyer or the
# agency, or the agency's admin declares a process of the demo orders (its row, then that process's turn, as a
# change of standing takes them)
RACES = [
    ("buyer", "suspend", "demo"),
    ("buyer", "suspend", "suspend"),
    ("agency", "suspend", "demo"),
    ("agency", "declare", "demo"),
]


@pytest.mark.parametrize(("member", "other", "first"), RACES, ids=["-".join(r) + "-first" for r in RACES])
def test_the_demo_loaded_as_a_member_is_suspended_or_changes_its_calendar_does_not_deadlock(
    ref: None, monkeypatch: Any, member: str, other: str, first: str
) -> None:
    org = _loaded(monkeypatch, member, declared=other == "suspend")
    people = get_user_model().objects
    operator, admin = people.get(username="operator"), people.get(username=ADMINS[member])
    steps = {
        "demo": demo_accounts_ensure,
        "suspend": lambda: organization_set_status(
            actor=people.get(pk=operator.pk),
            organization=Organization.objects.get(pk=org.pk),
            status=Organization.Status.SUSPENDED,
        ),
        "declare": lambda: capability_save(
            actor=people.get(pk=admin.pk), organization_id=org.pk, data={"process": "testing", **TESTING}
        ),
    }
    outcome = _race(monkeypatch, first, {"demo": steps["demo"], other: steps[other]})
    # neither deadlocks (PostgreSQL aborted one of them) nor fails
    assert not any(isinstance(result, BaseException) for result in outcome.values()), outcome
    if other == "suspend":
        assert Organization.objects.get(pk=org.pk).status == Organization.Status.SUSPENDED
    else:
        assert Capability.objects.filter(organization=org, process_id="testing").exists()
    buyer = Membership.objects.get(user__username="sme-admin").organization
    if first == "demo":  # the demo landed first: its orders are placed (and its subsidy published)
        assert _products(buyer) == {HOUSING["product"], BOARD["product"]}, outcome
        assert Policy.objects.filter(status=Policy.Status.PUBLISHED).exists()
    else:  # the demo waited for the buyer's suspension: a suspended buyer places nothing
        assert not _products(buyer), outcome
