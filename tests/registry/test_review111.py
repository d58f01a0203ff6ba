"""Review 111 (concurrency on PostgreSQL): a member's change of standing at the moment its responses are accepted,
its grants decided, its offers taken up, or another operator changes it too. Neither side deadlocks, and the
later of the two sees the other's result: a decision that read the member in good standing just before a
suspension committed lands before it (the log's order says so), or is refused."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from agglo.common.audit import history
from agglo.common.errors import ValidationFailed
from agglo.factory.models import Allocation
from agglo.factory.services import jobs
from agglo.factory.services.orders import order_create, order_plan
from agglo.ledger.models import LogEntry
from agglo.market import services as market
from agglo.market.models import Interest, Listing
from agglo.market.services import interests as market_interests
from agglo.policy import applications as apps
from agglo.policy.applications import application_decide
from agglo.policy.models import Application
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status
from tests.conftest import staggered
from tests.factory.conftest import cluster, order_data  # noqa: F401 - fixture
from tests.policy.test_review99 import applied
from tests.policy.test_services import agency  # noqa: F401 - fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _fresh(user: Any) -> Any:
    return type(user).objects.get(pk=user.pk)  # a request of its own: its rights read again


def _slowed(
    monkeypatch: Any, module: Any, name: str, seconds: float = 1.0, only: str | None = None
) -> dict[str, float]:
    """`module.name` takes `seconds` longer (once per thread; `only`: in the thread of that name alone), holding
    whatever its caller holds by then. Returns, by thread, when its wait ended (`time.monotonic`), once it has."""
    real, slept, ended = getattr(module, name), set(), {}

    def slow(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        thread = threading.current_thread().name
        if thread not in slept and only in (None, thread):
            slept.add(thread)
            time.sleep(seconds)
            ended[thread] = time.monotonic()
        return out

    monkeypatch.setattr(module, name, slow)
    return ended


def _status_change(operator: Any, org: Organization, status: str) -> Any:
    return lambda: organization_set_status(
        actor=_fresh(operator), organization=Organization.objects.get(pk=org.pk), status=status
    )


def _logged(event: str) -> int:
    return LogEntry.objects.filter(type=event).values_list("index", flat=True).get()


def _answered(member_of: Any) -> tuple[Any, Organization, Organization, Interest]:
    """An owner's published offer answered by another member: the owner's admin, both organizations, the answer."""
    owner, org = member_of("race-owner")
    responder, other = member_of("race-responder")
    listing = market.listing_create(
        actor=owner,
        organization=org,
        data={"side": "offer", "kind": "equipment", "title_zh": "出租三坐标测量机", "description_zh": "每周两天。"},
    )
    listing = market.listing_submit(actor=owner, listing=listing)
    interest = market.interest_express(
        actor=responder, listing=listing, data={"cooperation": "purchase", "message": "想租用。"}
    )
    return owner, org, other, interest


def _accept(owner: Any, interest: Interest) -> Any:
    return lambda: market.interest_accept(
        actor=_fresh(owner), interest=Interest.objects.select_related("listing").get(pk=interest.pk)
    )


@pytest.mark.parametrize("leaving", ["owner", "responder"])
def test_a_response_accepted_while_either_side_leaves_does_not_deadlock(
    member_of: Any, operator: Any, monkeypatch: Any, leaving: str
) -> None:
    owner, org, other, interest = _answered(member_of)
    # the acceptance holds the listing and the response a moment before it appends to the log; the withdrawal
    # appended first, then waited for them (a deadlock: one of the two answered with a server error)
    _slowed(monkeypatch, market_interests, "work_key")
    outcome = staggered(
        {
            "accept": _accept(owner, interest),
            "withdraw": _status_change(operator, org if leaving == "owner" else other, "withdrawn"),
        },
        gap=0.3,
    )
    assert not any(isinstance(v, BaseException) for v in outcome.values()), outcome
    # the acceptance came first; the withdrawal saw it (a partner's listing is closed, its response stays accepted)
    assert Interest.objects.get(pk=interest.pk).status == "accepted"
    assert Listing.objects.get(pk=interest.listing_id).status == ("closed" if leaving == "owner" else "published")


@pytest.mark.parametrize("suspended", ["owner", "responder"])
def test_a_response_accepted_as_either_side_is_suspended_lands_before_the_suspension_or_not_at_all(
    member_of: Any, operator: Any, monkeypatch: Any, suspended: str
) -> None:
    owner, org, other, interest = _answered(member_of)
    # the acceptance read both sides in good standing, then took its time: the suspension committed meanwhile,
    # and the acceptance landed after it, for a member no longer in good standing
    _slowed(monkeypatch, market_interests, "work_key")
    outcome = staggered(
        {
            "accept": _accept(owner, interest),
            "suspend": _status_change(operator, org if suspended == "owner" else other, "suspended"),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["suspend"], BaseException), outcome
    if Interest.objects.get(pk=interest.pk).status == "accepted":
        assert _logged("market.interest_accepted") < _logged("registry.organization_status_changed"), outcome
    else:
        assert isinstance(outcome["accept"], ValidationFailed | market_interests.Forbidden), outcome


def test_a_grant_decided_as_the_applicant_is_suspended_lands_before_the_suspension_or_not_at_all(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
    monkeypatch: Any,
) -> None:
    admin, _applicant_admin, _policy, application = applied(agency, member_of, "suspended-firm")
    # the decision read the applicant in good standing with its application, then took its time
    _slowed(monkeypatch, apps, "_in_good_standing")
    outcome = staggered(
        {
            "decide": lambda: application_decide(
                actor=_fresh(admin),
                application=Application.objects.select_related("policy").get(pk=application.pk),
                grant=True,
                amount="100000",
            ),
            "suspend": _status_change(operator, application.organization, "suspended"),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["suspend"], BaseException), outcome
    if Application.objects.get(pk=application.pk).status == "granted":
        assert _logged("policy.granted") < _logged("registry.organization_status_changed"), outcome
    else:
        assert isinstance(outcome["decide"], ValidationFailed), outcome


def test_an_offer_accepted_as_its_factory_is_suspended_lands_before_the_suspension_or_not_at_all(
    cluster: dict[str, Any],  # noqa: F811
    operator: Any,
    monkeypatch: Any,
) -> None:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    offer = order.allocations.filter(status="offered").first()
    name = next(n for n, o in cluster["orgs"].items() if o.pk == offer.factory_id)
    _slowed(monkeypatch, jobs, "reserve")  # the acceptance holds its capacity a moment, then logs the step
    outcome = staggered(
        {
            "accept": lambda: jobs.allocation_respond(
                actor=_fresh(cluster["people"][name]), allocation=Allocation.objects.get(pk=offer.pk), action="accept"
            ),
            "suspend": _status_change(operator, cluster["orgs"][name], "suspended"),
        },
        gap=0.3,
    )
    assert not any(isinstance(v, BaseException) and "deadlock" in str(v) for v in outcome.values()), outcome
    assert not isinstance(outcome["suspend"], BaseException), outcome
    if not isinstance(outcome["accept"], BaseException):
        assert _logged("factory.allocation_accepted") < _logged("registry.organization_status_changed"), outcome


@pytest.mark.parametrize(("first", "second"), [("suspended", "withdrawn"), ("withdrawn", "suspended")])
def test_two_operators_changing_one_member_at_once_each_see_the_others_change(
    member_of: Any, operator: Any, monkeypatch: Any, first: str, second: str
) -> None:
    _owner, org = member_of("twice-changed")
    from agglo.registry.services import standing

    _slowed(monkeypatch, standing, "nodes_revoke_departed" if first == "withdrawn" else "_tell")
    outcome = staggered(
        {"first": _status_change(operator, org, first), "second": _status_change(operator, org, second)}, gap=0.3
    )
    assert not any(isinstance(v, BaseException) for v in outcome.values()), outcome
    assert Organization.objects.get(pk=org.pk).status == second
    changes = [e.payload for e in history(org).filter(event=standing.EVENT).order_by("occurred_at", "pk")]
    assert [(c["before"], c["after"]) for c in changes] == [("member", first), (first, second)]


def test_a_profile_edit_waiting_on_a_suspension_is_refused_once_it_commits(
    member_of: Any, operator: Any, monkeypatch: Any
) -> None:
    from agglo.access import policy
    from agglo.common.errors import Forbidden
    from agglo.registry.services import organization_update, standing

    admin, org = member_of("edited-while-suspended")
    editor = _fresh(admin)
    assert policy.can_edit_organization(editor, org.pk)  # the request checked its rights before the service ran
    _slowed(monkeypatch, standing, "_tell")  # the suspension holds the row a moment
    outcome = staggered(
        {
            "suspend": _status_change(operator, org, "suspended"),
            "edit": lambda: organization_update(
                actor=editor, organization=Organization.objects.get(pk=org.pk), data={"website": "https://x.example"}
            ),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["suspend"], BaseException), outcome
    assert isinstance(outcome["edit"], Forbidden), outcome
    assert Organization.objects.get(pk=org.pk).website != "https://x.example"


def test_a_node_registered_as_its_organization_leaves_is_refused_or_revoked(
    member_of: Any, operator: Any, monkeypatch: Any
) -> None:
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from agglo.access import nodes
    from agglo.access.models import Node
    from agglo.common.errors import Forbidden
    from agglo.registry.services import standing

    admin, org = member_of("leaving-with-a-node")
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    public = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    registrar = _fresh(admin)
    assert nodes.policy.can_edit_organization(registrar, org.pk)  # checked when the request began
    _slowed(monkeypatch, standing, "_tell")  # the withdrawal has revoked the nodes there were, and holds the row
    outcome = staggered(
        {
            "withdraw": _status_change(operator, org, "withdrawn"),
            "register": lambda: nodes.node_register(
                actor=registrar, organization_id=org.pk, name="erp", public_key=public
            ),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["withdraw"], BaseException), outcome
    # a key of an organization that left must not live on: refused, or registered before and revoked with the rest
    assert not Node.objects.filter(organization=org, revoked_at__isnull=True).exists(), outcome
    assert isinstance(outcome["register"], Forbidden) or Node.objects.filter(organization=org).exists(), outcome


def test_an_order_planned_as_its_buyer_is_suspended_lands_before_the_suspension_or_not_at_all(
    cluster: dict[str, Any],  # noqa: F811
    operator: Any,
    monkeypatch: Any,
) -> None:
    from agglo.common.models import AuditEvent
    from agglo.factory.services import orders as order_services
    from agglo.registry.services import standing

    buyer = cluster["people"]["buyer"]
    order = order_create(actor=buyer, data=order_data())
    _slowed(monkeypatch, order_services, "replan")  # the plan's offers are made, then it takes its time
    outcome = staggered(
        {
            "plan": lambda: order_services.order_plan(actor=_fresh(buyer), order=type(order).objects.get(pk=order.pk)),
            "suspend": _status_change(operator, cluster["orgs"]["buyer"], "suspended"),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["suspend"], BaseException), outcome
    events = list(AuditEvent.objects.filter(event__in=("factory.order_planned", standing.EVENT)).order_by("pk"))
    if not isinstance(outcome["plan"], BaseException):  # offers went out while the buyer was in good standing
        assert [e.event for e in events] == ["factory.order_planned", standing.EVENT], outcome
    else:
        assert [e.event for e in events] == [standing.EVENT], outcome
