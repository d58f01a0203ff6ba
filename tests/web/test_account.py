"""A user's own account page: whom they act for, how they log in, today's limits, and their personal tokens."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from agglo.access.models import ApiToken, DailyQuota
from agglo.access.tokens import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    c = Client()
    c.force_login(user)
    c.cookies["django_language"] = "en"
    return c


@override_settings(AGGLO_DAILY_LIMITS={"profile_view": 300, "export": 20, "policy_match": 20})
def test_the_account_page_says_whom_you_act_for_and_what_is_left_today(member_of):
    admin, org = member_of("acct-admin")
    DailyQuota.objects.create(user=admin, day=timezone.localdate(), kind="export", count=3)
    page = browser(admin).get("/account/").content.decode()
    assert org.name_zh in page or org.name_en in page
    usage = page.split('id="account-usage"')[1].split("</table>")[0]
    assert '<tr data-kind="export"><td>Exports</td><td class="num">3</td><td class="num">20</td></tr>' in usage
    assert 'data-kind="policy_match"' not in usage  # matching rules is for agencies (review 47 F10)
    assert 'href="/account/nodes/"' in page and 'id="nav-account"' in page
    assert Client().get("/account/").status_code == 302  # to the login page


def test_a_personal_token_is_shown_once_and_revoked_by_its_owner_only(member_of):
    me, _ = member_of("token-owner")
    other, _ = member_of("token-other")
    c = browser(me)
    sent = c.post("/account/tokens/", {"name": "nightly report"})
    assert "agg_" not in str(sent.cookies)  # the secret waits on the server, not in a cookie (review 47 F7)
    issued = c.get(sent["Location"]).content.decode()
    assert "Copy the token now, it is not shown again: agg_" in issued
    token = ApiToken.objects.get(user=me)
    assert "nightly report" in c.get("/account/").content.decode()
    assert "Copy the token now" not in c.get("/account/").content.decode()
    theirs, _clear = api_token_create(actor=other, user=other, name="theirs")
    assert c.post(f"/account/tokens/{theirs.pk}/revoke/").status_code == 404
    assert c.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    theirs.refresh_from_db()
    assert token.revoked_at is not None and theirs.revoked_at is None
    first = token.revoked_at
    api_token_revoke(actor=me, token=token)  # again: it keeps its first time (review 47 F9)
    token.refresh_from_db()
    assert token.revoked_at == first
    refused = c.post("/account/tokens/", {"name": " "}, follow=True).content.decode()
    assert "Give the token a name of 1 to 100 characters." in refused and "name: Give" not in refused
