"""Policy writes act on the terms in force (read again under the policy's lock), not on a copy read before an edit;
and posted ids are checked, not trusted."""

from __future__ import annotations

import pytest

from agglo.common.errors import ValidationFailed
from agglo.common.models import AuditEvent
from agglo.policy.applications import application_submit, policy_grant_eligible
from agglo.policy.models import Application, Policy, PolicyMatch
from agglo.policy.services import policy_create, policy_publish, policy_update
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_publish_from_a_copy_read_before_an_edit_matches_the_rule_in_force(agency, member_of):  # noqa: F811
    admin, org = agency
    _, good = firm(member_of, "stale-good", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data(auto_grant=True))
    stale = Policy.objects.get(pk=policy.pk)  # the publish request's copy, read before the edit commits
    policy_update(actor=admin, policy=policy, data={"rule": "headcount >= 100000"})  # nobody qualifies now
    policy_publish(actor=admin, policy=stale)
    fresh = Policy.objects.get(pk=policy.pk)
    assert fresh.rule == "headcount >= 100000" and fresh.status == "published"
    # the stored matches (what "grant to every eligible member" pays out on) follow the stored rule
    assert policy_grant_eligible(actor=admin, policy=fresh, amount="1000") == 0
    assert not PolicyMatch.objects.filter(policy=policy, organization=good, eligible=True).exists()


def test_a_draft_is_published_once_even_from_two_copies(agency, member_of):  # noqa: F811
    admin, org = agency
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    first, second = Policy.objects.get(pk=policy.pk), Policy.objects.get(pk=policy.pk)
    policy_publish(actor=admin, policy=first)
    with pytest.raises(ValidationFailed):
        policy_publish(actor=admin, policy=second)  # a double click: "Only a draft can be published."
    assert AuditEvent.objects.filter(event="policy.published").count() == 1


def test_grant_to_every_eligible_member_rereads_the_terms_under_its_lock(agency, member_of):  # noqa: F811
    admin, org = agency
    firm(member_of, "auto-good", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data(auto_grant=True))
    policy_publish(actor=admin, policy=policy)
    stale = Policy.objects.get(pk=policy.pk)
    policy_update(actor=admin, policy=policy, data={"auto_grant": False})  # no longer "without application"
    with pytest.raises(ValidationFailed):
        policy_grant_eligible(actor=admin, policy=stale, amount="1000")
    assert not Application.objects.filter(policy=policy).exists()


def test_an_auto_grant_policy_takes_no_applications(agency, member_of):  # noqa: F811
    """The page offers no Apply form on a 免申即享 policy, and the service (so the API) takes none either: an
    applicant would be left out of "grant to every eligible member", which skips members with an application."""
    admin, org = agency
    firm_admin, good = firm(member_of, "auto-applicant", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data(auto_grant=True))
    policy_publish(actor=admin, policy=policy)
    with pytest.raises(ValidationFailed):
        application_submit(actor=firm_admin, policy=policy, organization_id=good.pk)


@pytest.mark.parametrize("digit", ["²", "①"])  # str.isdigit() is True for these; int() refuses them
def test_a_unicode_digit_in_a_posted_id_is_refused_not_a_500(agency, member_of, client, digit):  # noqa: F811
    admin, org = agency
    firm_admin, _good = firm(member_of, "digit-firm", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    policy_publish(actor=admin, policy=policy)
    client.raise_request_exception = False
    client.force_login(firm_admin)
    answers = {
        "apply": client.post(f"/policies/{policy.pk}/apply/", {"organization": digit}).status_code,
        "need": client.post(
            "/policies/needs/", {"organization": digit, "topic": "talent", "text": "需要人才政策的支持和说明"}
        ).status_code,
    }
    from agglo.policy.models import PolicyNeed

    need = PolicyNeed.objects.order_by("-pk").first()
    if need is None:  # the filing above was refused: file one properly
        from agglo.policy.needs import need_submit

        need = need_submit(
            actor=firm_admin, organization_id=_good.pk, data={"topic": "talent", "text": "需要人才政策的支持和说明"}
        )
    client.force_login(admin)
    r = client.post(f"/policies/needs/{need.pk}/answer/", {"answer": "已有政策", "policy": digit})
    answers["answer"] = r.status_code
    assert 500 not in answers.values(), answers
