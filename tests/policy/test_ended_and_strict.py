"""An ended policy tells nobody they are eligible when it changes; a change with a misspelt field is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from agglo.common.models import Notification
from agglo.policy.services import policy_create, policy_publish, policy_update
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_changing_a_policy_that_has_ended_tells_nobody_they_are_eligible(agency, member_of):  # noqa: F811
    admin, org = agency
    firm_admin, _good = firm(member_of, "r24-firm", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data(rule="headcount >= 100000"))
    policy_publish(actor=admin, policy=policy)
    before = set(Notification.objects.filter(user=firm_admin).values_list("pk", flat=True))
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    # the period is over (set here by an edit; the same holds for one that simply ran out), then the rule is widened
    policy_update(actor=admin, policy=policy, data={"ends_on": yesterday, "rule": "headcount >= 1"})
    told = [str(n.text) for n in Notification.objects.filter(user=firm_admin).exclude(pk__in=before)]
    assert told == [], told


def test_a_misspelt_field_in_a_policy_change_is_refused(agency, client):  # noqa: F811
    admin, org = agency
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    client.force_login(admin)
    r = client.patch(
        f"/api/v1/policies/{policy.pk}", {"budgte": "1", "title_zh": "改名"}, content_type="application/json"
    )
    assert r.status_code == 422, (r.status_code, r.json().get("budget"), r.json().get("title"))
