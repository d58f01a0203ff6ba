"""A member suspended meanwhile: matched no more and granted nothing, seen in no agency's list; reinstated, it is told
only of what is new since, not again of every policy it was told of before."""

from __future__ import annotations

from typing import Any

import pytest

from agglo.common.models import Notification
from agglo.policy.applications import policy_grant_eligible
from agglo.policy.matching import policy_match
from agglo.policy.models import Application, PolicyMatch
from agglo.policy.selectors import agency_workspace, eligible_ungranted, match_rows
from agglo.policy.services import policy_create, policy_publish
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 (agency is a fixture)

# for real commits: the re-match runs after each, as it does in production (and merges into one callback per
# transaction, which a test wrapped in one transaction would never run)
pytestmark = pytest.mark.django_db(transaction=True)


def _told(user: Any) -> list[str]:
    return list(
        Notification.objects.filter(user=user, verb="policy.match").order_by("pk").values_list("text", flat=True)
    )


def _set(operator: Any, org: Any, status: str) -> None:
    organization_set_status(actor=operator, organization=org, status=status)


def test_a_reinstated_member_is_told_only_of_policies_new_to_it(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
) -> None:
    admin, issuer = agency
    firm_admin, good = firm(member_of, "back-firm", rd=1_200_000, invention=True)
    first = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=issuer, data=policy_data()))
    assert len(_told(firm_admin)) == 1
    _set(operator, good, "suspended")
    # the agency no longer finds it among the eligible, nor counts it; the daily match leaves it be
    assert not match_rows(actor=admin, policy=first).filter(organization=good).exists()
    assert agency_workspace(actor=admin)[0]["policies"][0].eligible == 0
    policy_match(first, tell=True)
    assert eligible_ungranted(policy=first) == 0
    # a policy published while it is away is news to it once back; the one it was told of is not
    second = policy_publish(
        actor=admin, policy=policy_create(actor=admin, issuer=issuer, data=policy_data(title_zh="高企认定奖励"))
    )
    assert not PolicyMatch.objects.filter(policy=second, organization=good).exists()
    _set(operator, good, "member")
    told = _told(firm_admin)
    assert len(told) == 2 and "高企认定奖励" in told[1], told
    assert match_rows(actor=admin, policy=first).filter(organization=good, eligible=True).exists()
    # withdrawn and reinstated by the operators: the same
    _set(operator, good, "withdrawn")
    _set(operator, good, "member")
    assert len(_told(firm_admin)) == 2


def test_a_suspended_member_receives_no_benefit_without_application_until_reinstated(
    agency: Any,  # noqa: F811
    member_of: Any,
    operator: Any,
) -> None:
    admin, issuer = agency
    _firm_admin, good = firm(member_of, "auto-firm", rd=1_200_000, invention=True)
    auto = policy_publish(
        actor=admin, policy=policy_create(actor=admin, issuer=issuer, data=policy_data(auto_grant=True))
    )
    assert PolicyMatch.objects.filter(policy=auto, organization=good, eligible=True).exists()
    # suspended before its matches are evaluated again (a worker not yet round, a bulk change): its match stands
    Organization.objects.filter(pk=good.pk).update(status="suspended")
    assert policy_grant_eligible(actor=admin, policy=auto, amount="50000") == 0
    Organization.objects.filter(pk=good.pk).update(status="member")
    _set(operator, good, "suspended")
    assert policy_grant_eligible(actor=admin, policy=auto, amount="50000") == 0
    assert not Application.objects.filter(policy=auto, organization=good).exists()
    _set(operator, good, "member")
    assert policy_grant_eligible(actor=admin, policy=auto, amount="50000") == 1
    assert Application.objects.get(policy=auto, organization=good).automatic
