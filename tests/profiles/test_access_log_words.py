"""The access log and the log-entry list read in the reader's language: no stored codes shown as they are."""

from __future__ import annotations

import pytest

from agglo.access.models import AccessLogEntry
from agglo.access.services import sensitive_views_record
from agglo.profiles.templatetags.profiles_tags import event_label, history_field
from tests.conftest import user
from tests.profiles.test_api_and_pages import login

pytestmark = pytest.mark.django_db


def test_the_access_log_names_visitors_roles_and_channels_in_chinese(org_admin):
    admin, org = org_admin
    from django.contrib.auth.models import AnonymousUser

    sensitive_views_record(viewer=AnonymousUser(), owner_ids=[org.pk], groups=["contacts"], channel="page")
    sensitive_views_record(
        viewer=user("watcher", role="auditor"), owner_ids=[org.pk], groups=["financials"], channel="page"
    )
    assert AccessLogEntry.objects.count() == 2
    page = login(admin).get(f"/organizations/{org.pk}/tab/access/").content.decode()
    table = page[page.index('id="access-log"') :]
    assert "未登录的访客" in table and "审计员" in table and "网页" in table
    assert ">anonymous<" not in table and ">auditor<" not in table


def test_log_entry_facts_and_events_have_chinese_names():
    from django.utils import translation

    with translation.override("zh-hans"):
        names = [history_field("market.interest_accepted", k) for k in ("owner", "terms")]
        names += [history_field("profiles.case_participation_confirmed", k) for k in ("case", "lead", "input")]
        names += [history_field("policy.granted", k) for k in ("policy", "amount", "automatic", "rule")]
        names.append(event_label("profiles.case_participation_confirmed"))
    assert all(not any("a" <= ch.lower() <= "z" for ch in n) for n in names), names


def test_the_access_log_never_shows_a_viewers_login(org_admin, member_of):
    """Review 44 F4: an admitted admin's login is its contact e-mail address, which its organization may keep
    from other members; the log named viewers by it."""
    from django.test import Client

    from tests.registry.test_api import bearer

    admin, org = org_admin
    viewer, _ = member_of("zhang@secret-applicant.example")
    sensitive_views_record(viewer=viewer, owner_ids=[org.pk], groups=["contacts"], channel="api")
    page = login(admin).get(f"/organizations/{org.pk}/tab/access/").content.decode()
    table = page[page.index('id="access-log"') :]
    assert "secret-applicant" not in table and f"#{viewer.pk}" in table
    log = Client().get(f"/api/v1/organizations/{org.pk}/access-log", **bearer(admin)).json()
    assert [e["viewer"] for e in log] == [f"#{viewer.pk}"]


def test_a_plans_history_entry_says_why_in_words_and_keeps_the_solvers_number_to_itself(org_admin):
    """Walk review 45 F7: the history read "Objective: 7808; Reason: plan"."""
    from agglo.common.audit import record

    admin, org = org_admin
    record(
        "factory.order_planned",
        actor=admin,
        subject=org,
        payload={"version": 2, "objective": 7808, "reason": "withdrawn"},
        organization_id=org.pk,
    )
    page = login(admin).get(f"/organizations/{org.pk}/tab/history/").content.decode()
    assert "有工厂退回了已接受的工作" in page and "7808" not in page and "withdrawn" not in page


def test_a_balance_error_groups_its_yuan_as_the_pages_do(english):
    """Walk review 45 F8: "Total assets (1000000.00) …" beside pages that show 1,000,000."""
    from decimal import Decimal

    from agglo.profiles.fields import Problem
    from agglo.profiles.messages import word

    said = word(
        Problem(
            "total_assets",
            "balance",
            {"assets": Decimal("1000000.00"), "sum": Decimal("900000"), "tolerance": Decimal("10000.00")},
        )
    )
    assert said == "Total assets (1,000,000.00) must equal total liabilities plus equity (900,000.00) within 10,000.00."
