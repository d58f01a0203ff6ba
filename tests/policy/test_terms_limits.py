"""What a policy's terms allow: an ended policy is not published (nobody is told of what they cannot get) and takes
no applications; long texts are refused with the limit named, never cut short; a firm outside the policy's regions
is offered no application form."""

from __future__ import annotations

import pytest

from agglo.common.errors import ValidationFailed
from agglo.common.models import Notification
from agglo.policy.applications import application_decide, application_submit
from agglo.policy.models import Application, Policy
from agglo.policy.services import policy_create, policy_publish, policy_update
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_an_ended_policy_is_not_published_and_no_one_is_told(agency, member_of, english):  # noqa: F811
    admin, org = agency
    firm(member_of, "late-firm", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data(starts_on="2025-01-01", ends_on="2025-06-30"))
    with pytest.raises(ValidationFailed) as refused:
        policy_publish(actor=admin, policy=policy)
    assert refused.value.errors == {"ends_on": ["The policy ended on 2025-06-30: change its end date first."]}
    assert Policy.objects.get(pk=policy.pk).status == "draft" and not Notification.objects.exists()
    policy_update(actor=admin, policy=policy, data={"ends_on": "2030-12-31"})
    assert policy_publish(actor=admin, policy=policy).status == "published"


def test_long_texts_are_refused_with_their_limit_not_cut(agency, member_of, english):  # noqa: F811
    admin, org = agency
    with pytest.raises(ValidationFailed) as refused:
        policy_create(actor=admin, issuer=org, data=policy_data(summary_zh="长" * 5001))
    assert refused.value.errors == {"summary_zh": ["At most 5000 characters (has 5001)."]}
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))
    firm_admin, good = firm(member_of, "long-note", rd=1_200_000, invention=True)
    with pytest.raises(ValidationFailed) as refused:
        application_submit(actor=firm_admin, policy=policy, organization_id=good.pk, note="x" * 2001)
    assert refused.value.errors == {"note": ["At most 2000 characters (has 2001)."]}
    application = application_submit(actor=firm_admin, policy=policy, organization_id=good.pk, note="x" * 2000)
    with pytest.raises(ValidationFailed) as refused:
        application_decide(actor=admin, application=application, grant=False, reason="y" * 2001)
    assert refused.value.errors == {"reason": ["At most 2000 characters (has 2001)."]}
    assert Application.objects.get(pk=application.pk).status == "submitted"


def test_the_apply_form_is_offered_only_where_it_can_succeed(agency, member_of, client):  # noqa: F811
    admin, org = agency
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))
    inside_admin, _inside = firm(member_of, "inside-firm", rd=1_200_000, invention=True)
    outside_admin, _outside = firm(member_of, "outside-firm", rd=1_200_000, invention=True, region="110000")
    client.force_login(inside_admin)
    assert 'id="apply-form"' in client.get(f"/policies/{policy.pk}/").content.decode()
    client.force_login(outside_admin)
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert 'id="outside-scope"' in page and 'id="apply-form"' not in page
    Policy.objects.filter(pk=policy.pk).update(ends_on="2025-06-30")  # its period has passed since
    client.force_login(inside_admin)
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert 'id="policy-ended"' in page and 'id="apply-form"' not in page
    assert "已结束" in client.get("/policies/").content.decode()  # the list marks it too


def test_eligibility_asks_a_visitor_to_log_in(agency, client):  # noqa: F811
    admin, org = agency
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))
    r = client.get(f"/api/v1/policies/{policy.pk}/eligibility")
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["type"].endswith(":unauthenticated")
