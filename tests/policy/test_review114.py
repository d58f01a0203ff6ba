"""Review 114 (concurrency on PostgreSQL): a benefit granted to every eligible member at once (免申即享) while the
operators suspend one of them, or it withdraws. The grant holds the standing of every member it grants to before it
writes: one that read the member in good standing lands before the change of standing (the log's order says so),
and one that comes while the change is under way waits for it and leaves that member out; neither deadlocks."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from agglo.common.errors import Forbidden
from agglo.ledger.models import LogEntry
from agglo.policy import applications as apps
from agglo.policy.applications import application_decide, policy_grant_eligible
from agglo.policy.models import Application, Policy
from agglo.policy.services import can_issue, policy_create, policy_publish
from agglo.registry.models import Organization
from agglo.registry.services import standing
from tests.conftest import staggered
from tests.policy.test_review99 import applied
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixture
from tests.registry.test_review111 import _fresh, _slowed, _status_change

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def _eligible_three(agency: Any, member_of: Any) -> tuple[Any, Policy, list[Organization]]:  # noqa: F811
    """A published benefit without application and three members eligible for it: the agency's admin, the policy,
    the members."""
    admin, issuer = agency
    members = [firm(member_of, f"bulk-{i}", rd=1_200_000, invention=True)[1] for i in range(3)]
    policy = policy_create(actor=admin, issuer=issuer, data=policy_data(title_zh="免申即享补贴", auto_grant=True))
    return admin, policy_publish(actor=admin, policy=policy), members


def _grant(admin: Any, policy: Policy) -> Any:
    return lambda: policy_grant_eligible(actor=_fresh(admin), policy=Policy.objects.get(pk=policy.pk), amount="50000")


def _granted_to(policy: Policy) -> set[int]:
    return set(Application.objects.filter(policy=policy, status="granted").values_list("organization_id", flat=True))


@pytest.mark.parametrize("status", ["suspended", "withdrawn"])
def test_a_bulk_grant_holding_the_members_standing_lands_before_the_change(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
    monkeypatch: Any,
    status: str,
) -> None:
    admin, policy, members = _eligible_three(agency, member_of)
    leaving = members[1]
    # the grant holds the three members' standing, then reckons the sums a while: the change of standing waits
    _slowed(monkeypatch, apps, "_amounts", only="grant")
    outcome = staggered(
        {"grant": _grant(admin, policy), "status": _status_change(operator, leaving, status)},
        gap=0.3,
    )
    assert outcome == {"grant": 3, "status": outcome["status"]}, outcome
    assert Organization.objects.get(pk=leaving.pk).status == status
    assert _granted_to(policy) == {m.pk for m in members}
    # on the log, every grant before the change of standing (without the hold, the change committed meanwhile and
    # the grant to a member no longer in good standing came after it)
    grants = LogEntry.objects.filter(type="policy.granted").values_list("index", flat=True)
    assert len(grants) == 3
    assert max(grants) < LogEntry.objects.get(type=standing.EVENT).index


@pytest.mark.parametrize("status", ["suspended", "withdrawn"])
def test_a_bulk_grant_during_a_change_of_standing_waits_and_leaves_that_member_out(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
    monkeypatch: Any,
    status: str,
) -> None:
    admin, policy, members = _eligible_three(agency, member_of)
    leaving = members[0]
    # the change holds the member's row while it tells its admins; the grant read the member among the eligible
    # (the change is not committed yet), then waits for its standing, and finds it no longer in good standing
    _slowed(monkeypatch, standing, "_tell", only="status")
    outcome = staggered(
        {"status": _status_change(operator, leaving, status), "grant": _grant(admin, policy)},
        gap=0.3,
    )
    assert not isinstance(outcome["status"], BaseException), outcome
    assert outcome["grant"] == 2, outcome
    assert _granted_to(policy) == {m.pk for m in members[1:]}
    # what it left out is granted on a later run once reinstated, not before
    assert policy_grant_eligible(actor=_fresh(admin), policy=policy, amount="50000") == 0


@pytest.mark.parametrize("status", ["suspended", "withdrawn"])
def test_a_bulk_grant_as_its_agency_leaves_is_refused(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
    monkeypatch: Any,
    status: str,
) -> None:
    admin, policy, _members = _eligible_three(agency, member_of)
    officer = _fresh(admin)
    assert can_issue(officer, policy.issuer)  # the request read the officer's rights before the service ran
    _slowed(monkeypatch, standing, "_tell", only="status")
    outcome = staggered(
        {
            "status": _status_change(operator, policy.issuer, status),
            "grant": lambda: policy_grant_eligible(
                actor=officer, policy=Policy.objects.get(pk=policy.pk), amount="50000"
            ),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["status"], BaseException), outcome
    # an agency no longer in good standing grants nothing: its officer's rights are read again once it is
    assert isinstance(outcome["grant"], Forbidden), outcome
    assert not _granted_to(policy)


def test_a_grant_decided_as_its_agency_is_suspended_is_refused(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
    monkeypatch: Any,
) -> None:
    admin, _applicant_admin, policy, application = applied(agency, member_of, "decided-firm")
    officer = _fresh(admin)
    assert can_issue(officer, policy.issuer)  # checked when the request began
    _slowed(monkeypatch, standing, "_tell", only="status")
    outcome = staggered(
        {
            "status": _status_change(operator, policy.issuer, "suspended"),
            "decide": lambda: application_decide(
                actor=officer,
                application=Application.objects.select_related("policy").get(pk=application.pk),
                grant=True,
                amount="100000",
            ),
        },
        gap=0.3,
    )
    assert not isinstance(outcome["status"], BaseException), outcome
    assert isinstance(outcome["decide"], Forbidden), outcome
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_a_bulk_grant_and_a_members_acceptance_of_the_agencys_response_do_not_deadlock(
    member_of: Any, monkeypatch: Any
) -> None:
    # The grant locked the policy with its issuer's row (a full lock, by `select_related`), then the members'
    # standing; the acceptance holds both sides' standing in id order, the member's first (it joined before the
    # agency), then waited for the agency's row: each waited for the other. Both take the organizations' rows in
    # one sweep now, before anything else.
    from agglo.market import services as market
    from agglo.market.models import Interest
    from tests.registry.test_review111 import _accept

    member_admin, member = firm(member_of, "early-firm", rd=1_200_000, invention=True)
    admin, issuer = member_of("agency-admin", kind="government", name_zh="深圳市科技创新局")
    assert member.pk < issuer.pk
    policy = policy_publish(
        actor=admin, policy=policy_create(actor=admin, issuer=issuer, data=policy_data(auto_grant=True))
    )
    listing = market.listing_create(
        actor=member_admin,
        organization=member,
        data={"side": "offer", "kind": "equipment", "title_zh": "出租三坐标测量机", "description_zh": "每周两天。"},
    )
    listing = market.listing_submit(actor=member_admin, listing=listing)
    interest = market.interest_express(
        actor=admin, listing=listing, data={"cooperation": "purchase", "message": "想租用，用于检测。"}
    )
    _slowed(monkeypatch, apps, "locked", only="grant")  # the grant holds what it locked first a moment
    outcome = staggered({"grant": _grant(admin, policy), "accept": _accept(member_admin, interest)}, gap=0.3)
    assert outcome["grant"] == 1, outcome
    assert not isinstance(outcome["accept"], BaseException), outcome
    assert Interest.objects.get(pk=interest.pk).status == "accepted"
    assert _granted_to(policy) == {member.pk}


def test_an_officer_of_another_agency_is_refused_without_waiting_for_the_agencys_rows(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
    monkeypatch: Any,
) -> None:
    """The rights are checked before any lock: a caller without them neither waits for nor holds the issuer's and
    the applicant's rows (it held them until its refusal before)."""
    import time

    _admin, _applicant_admin, policy, application = applied(agency, member_of, "outsider-decided-firm")
    stranger, _other = member_of("other-agency-admin", kind="government", name_zh="另一个科技局")
    held = _slowed(monkeypatch, standing, "_tell", seconds=2.0, only="status")  # the suspension holds the rows
    refused_at: dict[str, float] = {}

    def decide() -> Any:
        try:
            return application_decide(
                actor=_fresh(stranger),
                application=Application.objects.select_related("policy").get(pk=application.pk),
                grant=True,
                amount="100000",
            )
        finally:
            refused_at["decide"] = time.monotonic()

    outcome = staggered({"status": _status_change(operator, policy.issuer, "suspended"), "decide": decide}, gap=0.3)
    assert isinstance(outcome["decide"], Forbidden), outcome
    assert refused_at["decide"] < held["status"], "the outsider waited for the suspension's locks"
    assert Application.objects.get(pk=application.pk).status == "submitted"
