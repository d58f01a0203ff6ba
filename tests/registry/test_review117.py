"""Review 117 (concurrency on PostgreSQL): the standing sweep (`agglo sweep_standing`) against the service and
against itself.

Raced, each side holding its locks a moment (`_slowed`) while the other starts:

1. The sweep carrying out a withdrawal written in the database around the service (nobody recorded it) while an
   operator sets the same organization's status through `organization_set_status`: to withdrawn as well, to
   suspended, or back to member; the sweep first and the operator first. Both take the organization's row first,
   and each reads it again under the lock, so the later one lands on the other's result. Expected: no deadlock and
   no error; one history record, one log entry and one notice to the admins per change that happened (the sweep's
   marked `swept`, with one notice to the operators), none twice; the final status is the later writer's (the
   operator's, which is also what the sweep finds, and records, when the operator was first to set the status it
   already had); what the apps did follows the history: a withdrawal carried out revoked the nodes and closed the
   listings and responses, which a reinstatement or suspension after it does not give back, and with no
   withdrawal carried out nothing was taken back; nothing is left open of a member withdrawn at the end; a
   second run of the sweep writes nothing.
2. Two sweeps at once (two housekeeping processes): each change, each node revoked and each listing closed is
   recorded once, and the two runs' counts add up to what was done once.
3. The market's part of the sweep (`departed_sweep`, closing what a member that left still has open) while that
   member's admin, whose request read its rights before the withdrawal, creates a listing or renews (reopens) an
   expired one. The market's service takes the member's standing first (`standing_held`), as the sweep does:
   when the member is first its listing lands and the sweep, waiting, closes it; when the sweep is first the
   member is refused. Either way nothing of the withdrawn member stays open (a listing created meanwhile was left
   open until the next run: fixed in review 117).
4. The sweep withdrawing one member while an operator withdraws another, each having answered the other's
   listing: each closes its own listings (declining the other's answer) and withdraws its answers to the other's;
   neither deadlocks.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from agglo.access import policy
from agglo.access.models import Node
from agglo.common.audit import history
from agglo.common.errors import Forbidden
from agglo.common.models import AuditEvent, Notification
from agglo.ledger.models import LogEntry
from agglo.market import lifecycle
from agglo.market.models import Interest, Listing
from agglo.market.services import listings as market_listings
from agglo.market.services import standing as market_standing
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status, standing
from tests.conftest import staggered
from tests.registry.test_review111 import _fresh, _slowed, _status_change
from tests.registry.test_standing import _answer, _publish
from tests.registry.test_standing_sweep import _node, _written

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

EVENT = standing.EVENT
OPEN = lifecycle.TRANSITIONS["close"][0]


def _changes(org: Organization) -> list[tuple[str, str, bool]]:
    return [
        (e.payload["before"], e.payload["after"], bool(e.payload.get("swept")))
        for e in history(org).filter(event=EVENT).order_by("occurred_at", "pk")
    ]


def _unchanged_by_another_run() -> None:
    before = _written()
    again = standing.standing_sweep()
    assert (again.changes, again.nodes, again.failed, again.apps.get("market")) == ({}, {}, [], 0), again
    assert _written() == before, "a second run must write nothing"


def _no_errors(outcome: dict[str, Any]) -> None:
    assert not any(isinstance(v, BaseException) for v in outcome.values()), outcome


@pytest.mark.parametrize("target", ["withdrawn", "suspended", "member"])
@pytest.mark.parametrize("sweep_first", [True, False], ids=["sweep-first", "operator-first"])
def test_the_sweep_and_an_operator_changing_one_member_at_once_record_each_change_once(
    member_of: Any, operator: Any, monkeypatch: Any, target: str, sweep_first: bool
) -> None:
    admin, org = member_of("swept-and-set")
    other, other_org = member_of("swept-and-set-other")
    node = _node(admin, org, "erp")
    mine = _publish(admin, org, "出租三坐标测量机")
    theirs = _publish(other, other_org, "寻求精密加工合作")
    sent = _answer(admin, theirs)
    Organization.objects.filter(pk=org.pk).update(status="withdrawn")  # around the service: nothing recorded
    if sweep_first:  # the sweep holds the row, the change carried out, while it tells the admins
        _slowed(monkeypatch, standing, "_tell", only="sweep")
    else:  # the operator holds the row while its rights are checked (also when it finds nothing to change)
        _slowed(monkeypatch, policy, "is_operator", only="operator")
    steps = {"sweep": standing.standing_sweep, "operator": _status_change(operator, org, target)}
    order = ["sweep", "operator"] if sweep_first else ["operator", "sweep"]
    outcome = staggered({name: steps[name] for name in order}, gap=0.3)
    _no_errors(outcome)
    assert outcome["sweep"].failed == [], outcome

    org.refresh_from_db()
    assert org.status == target  # the later writer's (or the sweep's record of the operator's own wish)
    # the sweep carries the withdrawal out when it comes first, or when the operator found nothing to change
    withdrawal_swept = sweep_first or target == "withdrawn"
    expected = [("member", "withdrawn", True)] if withdrawal_swept else []
    if target != "withdrawn":
        expected.append(("withdrawn", target, False))
    assert _changes(org) == expected, outcome
    assert outcome["sweep"].changes == ({org.pk: ("member", "withdrawn")} if withdrawal_swept else {}), outcome
    assert LogEntry.objects.filter(type=EVENT).count() == len(expected)
    # one notice per change to the admins; the operators hear of the change the sweep found, once
    assert Notification.objects.filter(user=admin, verb="registry.status").count() == len(expected)
    assert Notification.objects.filter(user=operator, verb="registry.status").count() == int(withdrawal_swept)
    # what the apps did follows the changes recorded: a withdrawal takes back, and nothing gives it back
    node.refresh_from_db()
    assert (node.revoked_at is not None) is withdrawal_swept
    mine.refresh_from_db()
    assert mine.status == ("closed" if withdrawal_swept else "published")
    assert Interest.objects.get(pk=sent.pk).status == ("declined" if withdrawal_swept else "new")
    assert Listing.objects.get(pk=theirs.pk).status == "published"
    assert AuditEvent.objects.filter(event="market.listing_close", subject_id=str(mine.pk)).count() == int(
        withdrawal_swept
    )
    if target == "withdrawn":
        assert not Listing.objects.filter(organization=org, status__in=OPEN).exists()
        assert not Node.objects.filter(organization=org, revoked_at__isnull=True).exists()
    _unchanged_by_another_run()


def test_two_sweeps_at_once_carry_each_change_out_once(member_of: Any, operator: Any, monkeypatch: Any) -> None:
    left, gone = member_of("two-sweeps-left")
    _paused, paused = member_of("two-sweeps-paused")
    before_admin, before = member_of("two-sweeps-before")
    node = _node(left, gone, "erp")
    listing = _publish(left, gone, "出租三坐标测量机")
    # one withdrawn through the service, back in the database for a node and a listing, and withdrawn there again:
    # nothing of its standing to record, but what its withdrawal ends stands again
    organization_set_status(actor=operator, organization=before, status="withdrawn")
    Organization.objects.filter(pk=before.pk).update(status="member")
    left_node = _node(_fresh(before_admin), before, "mes")
    left_listing = _publish(_fresh(before_admin), Organization.objects.get(pk=before.pk), "闲置注塑机出租")
    Organization.objects.filter(pk=before.pk).update(status="withdrawn")
    Organization.objects.filter(pk=gone.pk).update(status="withdrawn")
    Organization.objects.filter(pk=paused.pk).update(status="suspended")
    # the first run holds the first change a moment, and later the market's part; the second trails it
    _slowed(monkeypatch, standing, "_tell", only="a")
    _slowed(monkeypatch, market_standing, "departed_close", only="a")
    outcome = staggered({"a": standing.standing_sweep, "b": standing.standing_sweep}, gap=0.3)
    _no_errors(outcome)
    a, b = outcome["a"], outcome["b"]
    assert a.failed == b.failed == [], outcome
    assert {**a.changes, **b.changes} == {gone.pk: ("member", "withdrawn"), paused.pk: ("member", "suspended")}
    assert not set(a.changes) & set(b.changes), outcome
    assert {**a.nodes, **b.nodes} == {before.pk: ["mes"]} and not set(a.nodes) & set(b.nodes), outcome
    assert a.apps.get("market", 0) + b.apps.get("market", 0) == 1, outcome  # the listing left standing, once
    assert _changes(gone) == [("member", "withdrawn", True)]
    assert _changes(paused) == [("member", "suspended", True)]
    assert _changes(before) == [("member", "withdrawn", False)]
    assert LogEntry.objects.filter(type=EVENT).count() == 3
    for org, name in ((gone, "erp"), (before, "mes")):
        revoked = AuditEvent.objects.filter(event="access.node_revoked", organization_id=org.pk)
        assert revoked.count() == 1, name
    for closed in (listing, left_listing):
        assert AuditEvent.objects.filter(event="market.listing_close", subject_id=str(closed.pk)).count() == 1
        assert Listing.objects.get(pk=closed.pk).status == "closed"
    node.refresh_from_db()
    left_node.refresh_from_db()
    assert node.revoked_at is not None and left_node.revoked_at is not None
    # the operators: the two changes found, and the nodes left active, each once
    assert Notification.objects.filter(user=operator, verb="registry.status").count() == 3
    _unchanged_by_another_run()


def _withdrawn_with_leftovers(
    member_of: Any, operator: Any, withdrawn: bool = True
) -> tuple[Any, Organization, Listing, Listing]:
    """A member withdrawn through the service, then (in the database) back as a member for a published listing
    and an expired one, its admin's request reading its rights, and (`withdrawn`) withdrawn there again: the admin
    (rights read while it was a member), the organization as that request read it, the two listings."""
    admin, org = member_of("departed-racing")
    organization_set_status(actor=operator, organization=org, status="withdrawn")
    Organization.objects.filter(pk=org.pk).update(status="member")
    published = _publish(_fresh(admin), Organization.objects.get(pk=org.pk), "出租三坐标测量机")
    expired = _publish(_fresh(admin), Organization.objects.get(pk=org.pk), "闲置注塑机出租")
    Listing.objects.filter(pk=expired.pk).update(status="expired")
    requester, read = _fresh(admin), Organization.objects.get(pk=org.pk)
    assert policy.can_edit_organization(requester, org.pk)  # the request checked its rights before the service ran
    if withdrawn:
        Organization.objects.filter(pk=org.pk).update(status="withdrawn")
    return requester, read, published, Listing.objects.get(pk=expired.pk)


def _member_write(action: str, requester: Any, read: Organization, expired: Listing) -> Any:
    if action == "create":
        return lambda: market_listings.listing_create(
            actor=requester,
            organization=read,
            data={"side": "need", "kind": "technology", "title_zh": "寻求视觉检测算法", "description_zh": "产线用。"},
        )
    return lambda: market_listings.listing_renew(actor=requester, listing=Listing.objects.get(pk=expired.pk))


def _nothing_left_open(org_id: int, *listings: Listing) -> None:
    assert not Listing.objects.filter(organization_id=org_id, status__in=OPEN).exists()
    for listing in Listing.objects.filter(organization_id=org_id):  # and nothing closed twice
        assert AuditEvent.objects.filter(event="market.listing_close", subject_id=str(listing.pk)).count() <= 1
    closed = Listing.objects.filter(organization_id=org_id, status="closed", outcome="withdrawn")
    assert {x.pk for x in listings} <= set(closed.values_list("pk", flat=True))


@pytest.mark.parametrize("action", ["create", "renew"])
@pytest.mark.parametrize("sweep_first", [True, False], ids=["sweep-first", "member-first"])
def test_a_listing_created_or_reopened_as_the_market_sweeps_a_withdrawn_member_is_refused(
    member_of: Any, operator: Any, monkeypatch: Any, action: str, sweep_first: bool
) -> None:
    requester, read, published, expired = _withdrawn_with_leftovers(member_of, operator)
    if sweep_first:  # the sweep holds the member's row and its listings, all closed, a moment
        _slowed(monkeypatch, market_standing, "departed_close", only="sweep")
    else:  # the member's write holds what it took a moment (before review 117 the listing was saved by then)
        _slowed(monkeypatch, policy, "can_edit_organization", only="member")
    steps = {"sweep": market_standing.departed_sweep, "member": _member_write(action, requester, read, expired)}
    order = ["sweep", "member"] if sweep_first else ["member", "sweep"]
    outcome = staggered({name: steps[name] for name in order}, gap=0.3)
    assert outcome["sweep"] == 1, outcome
    # the member's standing is read afresh under its row (waiting for the sweep's): it left, whatever its request
    # read before; a listing created meanwhile stayed open (a draft) until the next run
    assert isinstance(outcome["member"], Forbidden), outcome
    assert Listing.objects.filter(organization_id=read.pk).count() == 2  # none created
    _nothing_left_open(read.pk, published, expired)
    _unchanged_by_another_run()


@pytest.mark.parametrize("action", ["create", "renew"])
def test_a_listing_created_or_reopened_as_the_member_is_withdrawn_lands_first_and_the_sweep_closes_it(
    member_of: Any, operator: Any, monkeypatch: Any, action: str
) -> None:
    requester, read, published, expired = _withdrawn_with_leftovers(member_of, operator, withdrawn=False)
    # the write holds the member's standing while it saves; the withdrawal written in the database waits for it
    held = _slowed(monkeypatch, market_listings, "snapshot" if action == "create" else "_publish", only="member")
    written: dict[str, float] = {}

    def withdraw() -> None:
        Organization.objects.filter(pk=read.pk).update(status="withdrawn")
        written["at"] = time.monotonic()

    outcome = staggered({"member": _member_write(action, requester, read, expired), "withdraw": withdraw}, gap=0.3)
    assert isinstance(outcome["member"], Listing), outcome
    assert written["at"] > held["member"], "the withdrawal waited for the write"
    assert market_standing.departed_sweep() == 1  # the market's part of the next sweep closes it with the rest
    _nothing_left_open(read.pk, published, expired, outcome["member"])
    _unchanged_by_another_run()


def test_the_sweep_and_an_operator_withdrawing_two_members_that_answered_each_other_do_not_deadlock(
    member_of: Any, operator: Any, monkeypatch: Any
) -> None:
    a_admin, a = member_of("crossed-a")
    b_admin, b = member_of("crossed-b")
    a_listing, b_listing = _publish(a_admin, a, "出租三坐标测量机"), _publish(b_admin, b, "寻求精密加工合作")
    a_answer, b_answer = _answer(a_admin, b_listing), _answer(b_admin, a_listing)
    Organization.objects.filter(pk=a.pk).update(status="withdrawn")
    # each closes its own listings (declining the other's answer), holds them a moment, then withdraws its answer
    calls = market_standing.listing_closed
    held: set[str] = set()

    def closed(**kw: Any) -> None:
        calls(**kw)
        if threading.current_thread().name not in held:
            held.add(threading.current_thread().name)
            time.sleep(0.6)

    monkeypatch.setattr(market_standing, "listing_closed", closed)
    outcome = staggered({"sweep": standing.standing_sweep, "operator": _status_change(operator, b, "withdrawn")}, 0.2)
    _no_errors(outcome)
    assert outcome["sweep"].failed == [], outcome
    assert _changes(a) == [("member", "withdrawn", True)] and _changes(b) == [("member", "withdrawn", False)]
    for listing in (a_listing, b_listing):
        assert Listing.objects.get(pk=listing.pk).status == "closed"
    for answer in (a_answer, b_answer):
        assert Interest.objects.get(pk=answer.pk).status == "declined"
    _unchanged_by_another_run()
