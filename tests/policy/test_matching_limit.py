"""Publishing a policy, or changing a published rule, matches the members again, and whether a member matches is
what the agency reads even where the member keeps the figure from it: each user may do so a limited number of
times a day, so that a rule changed again and again cannot narrow down a hidden figure."""

from __future__ import annotations

import pytest
from django.test import override_settings

from agglo.access.models import DailyQuota
from agglo.common.errors import ValidationFailed
from agglo.common.models import AuditEvent, Notification
from agglo.policy.models import Policy
from agglo.policy.services import policy_create, policy_publish, policy_update

pytestmark = pytest.mark.django_db

LIMITS = {"profile_view": 300, "export": 20, "policy_match": 2}
DATA = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}


@pytest.fixture
def agency(member_of):
    member_of("firm")
    return member_of("agency-admin", kind="government", name_zh="某市科技局")


@override_settings(AGGLO_DAILY_LIMITS=LIMITS)
def test_publications_and_rule_changes_count_and_past_the_limit_nothing_changes(client, agency):
    admin, org = agency
    first = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=DATA))
    # a changed title matches nobody again and is not counted
    policy_update(actor=admin, policy=first, data={"title_zh": "研发补贴（修订）"})
    policy_update(actor=admin, policy=first, data={"rule": "revenue >= 2"})  # the second matching
    assert DailyQuota.objects.get(user=admin, kind="policy_match").count == 2

    client.force_login(admin)
    r = client.patch(f"/api/v1/policies/{first.pk}", {"rule": "revenue >= 3"}, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["errors"]["rule"] == ["今天您已按规则匹配成员 2 次，已达每日上限；请明天再试。"]
    first.refresh_from_db()
    assert first.rule == "revenue >= 2"

    draft = policy_create(actor=admin, issuer=org, data=DATA)
    r = client.post(f"/api/v1/policies/{draft.pk}/publish")
    assert r.status_code == 422 and list(r.json()["errors"]) == ["status"]
    page = client.post(f"/policies/{draft.pk}/publish/", follow=True).content.decode()
    assert "已按规则匹配成员 2 次" in page  # the page says why, with the limit in force
    draft.refresh_from_db()
    assert draft.status == Policy.Status.DRAFT and not draft.matches.exists()
    assert DailyQuota.objects.get(user=admin, kind="policy_match").count == 2  # refusals are not counted


@override_settings(AGGLO_DAILY_LIMITS=LIMITS)
def test_the_limit_reads_in_english_too(client, agency):
    admin, org = agency
    for _ in range(2):
        policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=DATA))
    draft = policy_create(actor=admin, issuer=org, data=DATA)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    r = client.post(f"/api/v1/policies/{draft.pk}/publish", HTTP_ACCEPT_LANGUAGE="en")
    assert r.json()["errors"]["status"] == [
        "You have matched rules against the members 2 times today, the daily limit; try again tomorrow."
    ]


@override_settings(AGGLO_DAILY_LIMITS={**LIMITS, "policy_match": 1})
def test_the_same_rule_sent_back_by_the_edit_form_is_no_new_matching(client, agency):
    """The form sends a rule's line breaks as \\r\\n: a title changed on the page leaves the rule as it was and
    is not counted (review 33: it was refused once the day's matchings were used)."""
    admin, org = agency
    data = {**DATA, "rule": "revenue >= 1\nand founded_year >= 1900"}
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    client.force_login(admin)
    form = {
        "issuer": org.pk,
        "kind": "subsidy",
        "title_zh": "研发补贴（修订）",
        "starts_on": "2026-01-01",
        "rule": "revenue >= 1\r\nand founded_year >= 1900",
    }
    r = client.post(f"/policies/{policy.pk}/edit/", form)
    assert r.status_code == 302, r.content.decode()[-2000:]
    policy.refresh_from_db()
    assert policy.title_zh == "研发补贴（修订）"
    assert DailyQuota.objects.get(user=admin, kind="policy_match").count == 1


@override_settings(AGGLO_DAILY_LIMITS={**LIMITS, "policy_match": 1})
def test_a_refusal_at_the_limit_alerts_the_operators_once(client, agency, operator):
    """The refused write rolls back with its count, but the operators still hear that someone tried past the
    limit: once a day, from the page or the API, whichever came first."""
    admin, org = agency
    published = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=DATA))
    alerts = Notification.objects.filter(user=operator, verb="access.daily_limit_exceeded")
    assert not alerts.exists()

    client.force_login(admin)
    r = client.patch(f"/api/v1/policies/{published.pk}", {"rule": "revenue >= 3"}, content_type="application/json")
    assert r.status_code == 422 and list(r.json()["errors"]) == ["rule"]
    assert alerts.count() == 1 and "agency-admin" in alerts.get().text
    draft = policy_create(actor=admin, issuer=org, data=DATA)
    client.post(f"/policies/{draft.pk}/publish/")
    assert alerts.count() == 1  # once a day
    assert AuditEvent.objects.filter(event="access.daily_limit_exceeded", actor=admin).count() == 1
    row = DailyQuota.objects.get(user=admin, kind="policy_match")
    assert (row.count, row.alerted) == (1, True)
    draft.refresh_from_db()
    assert draft.status == Policy.Status.DRAFT


@override_settings(AGGLO_DAILY_LIMITS={**LIMITS, "policy_match": 0})
def test_a_limit_of_none_a_day_refuses_and_alerts_without_a_count(agency, operator):
    admin, org = agency
    draft = policy_create(actor=admin, issuer=org, data=DATA)
    with pytest.raises(ValidationFailed) as refused:
        policy_publish(actor=admin, policy=draft)
    assert list(refused.value.errors) == ["status"]
    row = DailyQuota.objects.get(user=admin, kind="policy_match")
    assert (row.count, row.alerted) == (0, True)
    assert Notification.objects.filter(user=operator, verb="access.daily_limit_exceeded").count() == 1
