"""Reviews 99 and 103 (concurrency on PostgreSQL): a grant decided while the agency changes the formula is reckoned
on the terms in force when it is decided; materials sent while the agency decides do not deadlock."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from agglo.policy import applications as apps
from agglo.policy import services as policy_services
from agglo.policy.applications import application_decide, application_documents_add, application_submit
from agglo.policy.models import Application
from agglo.policy.services import policy_create, policy_publish, policy_update
from tests.conftest import staggered, upload
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def applied(agency: Any, member_of: Any, name: str, **terms: Any) -> tuple[Any, Any, Any, Application]:  # noqa: F811
    """A firm's application to a published policy of the agency's: the agency's admin, the firm's, the policy, it."""
    admin, org = agency
    applicant_admin, applicant = firm(member_of, name, rd=1_200_000, invention=True)
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data(**terms)))
    return (
        admin,
        applicant_admin,
        policy,
        application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk),
    )


def test_a_grant_decided_while_the_rate_changes_is_paid_at_the_rate_in_force(
    agency: Any,  # noqa: F811
    member_of: Any,
    monkeypatch: Any,
) -> None:
    admin, applicant_admin, policy, application = applied(
        agency, member_of, "formula-firm", grant_basis="ip_invention", grant_rate="5000"
    )
    real = policy_services.policy_match

    def slow_match(*args: Any, **kw: Any) -> Any:  # matching every member in scope takes its time, under the lock
        out = real(*args, **kw)
        time.sleep(1.5)
        return out

    monkeypatch.setattr(policy_services, "policy_match", slow_match)
    outcome = staggered(  # the change holds the policy's lock first
        {
            "change": lambda: policy_update(
                actor=admin, policy=policy, data={"grant_rate": "1000", "rule": "ip_invention >= 1"}
            ),
            "decide": lambda: application_decide(
                actor=admin, application=Application.objects.select_related("policy").get(pk=application.pk), grant=True
            ),
        },
        gap=0.3,
    )
    assert not any(isinstance(x, BaseException) for x in outcome.values()), outcome
    assert Application.objects.get(pk=application.pk).amount == Decimal("1000.00")


def test_materials_sent_while_the_agency_decides_do_not_deadlock(
    agency: Any,  # noqa: F811
    member_of: Any,
    monkeypatch: Any,
) -> None:
    admin, applicant_admin, _policy, application = applied(agency, member_of, "deadlock-firm")
    real = apps.locked

    def slow(p: Any, **kw: Any) -> Any:  # the decision holds the policy a moment before it takes the application
        found = real(p, **kw)
        time.sleep(1.0)
        return found

    monkeypatch.setattr(apps, "locked", slow)
    outcome = staggered(
        {
            "decide": lambda: application_decide(
                actor=admin,
                application=Application.objects.select_related("policy").get(pk=application.pk),
                grant=False,
                reason="材料不全",
            ),
            "send": lambda: application_documents_add(
                actor=applicant_admin, application=Application.objects.get(pk=application.pk), files=[upload()]
            ),
        },
        gap=0.3,
    )
    assert not any(isinstance(e, BaseException) and "deadlock" in str(e).lower() for e in outcome.values()), outcome
