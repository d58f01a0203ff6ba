"""Granted sums are paid (拨付) in instalments up to the grant: the agency records each, the log holds it, the member
is told, and the public list of grants says what was paid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import Notification
from agglo.ledger.entries import decode
from agglo.ledger.models import EntryParty, LogEntry
from agglo.policy.applications import application_decide, application_submit
from agglo.policy.models import GrantPayment
from agglo.policy.payments import grant_payment_record
from agglo.policy.services import policy_create, policy_publish
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 (agency is a fixture)
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def granted(agency, member_of):  # noqa: F811
    admin, org = agency
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    application = application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)
    application_decide(actor=admin, application=application, grant=True, amount="200000")
    return admin, applicant_admin, application


def test_an_agency_pays_a_grant_in_instalments_each_logged_and_told(granted):
    admin, applicant_admin, application = granted
    today = dt.date.today()
    page = Client()
    page.force_login(admin)
    sent = page.post(
        f"/applications/{application.pk}/pay/",
        {"amount": "120000", "paid_on": today.isoformat(), "reference": "GK-2026-0042"},
    )
    assert sent.status_code == 302
    entry = LogEntry.objects.get(type="policy.paid")
    logged = decode(bytes(entry.data))["payload"]
    assert logged["amount"] == "120000.00" and logged["paid_on"] == today.isoformat()
    assert logged["reference"].startswith("sha256:")  # the transfer number only by digest
    assert set(EntryParty.objects.filter(entry=entry).values_list("organization_id", flat=True)) == {
        application.policy.issuer_id,
        application.organization_id,
    }
    told = Notification.objects.get(user=applicant_admin, verb="policy.paid")
    assert "120,000" in told.text
    # the rest through the API; then nothing is left to pay, and the page offers no more
    api = Client().post(
        f"/api/v1/applications/{application.pk}/payments",
        {"amount": "80000", "paid_on": today.isoformat()},
        content_type="application/json",
        **bearer(admin),
    )
    assert api.status_code == 201, api.content
    listed = Client().get(f"/api/v1/policies/{application.policy_id}/applications", **bearer(applicant_admin)).json()
    assert listed[0]["paid"] == "200000.00" and len(listed[0]["payments"]) == 2
    workspace = page.get("/policies/agency/").content.decode()
    assert "200,000 元" in workspace and "已付 200,000" in workspace
    detail = page.get(f"/policies/{application.policy_id}/").content.decode()
    assert f"/applications/{application.pk}/pay/" not in detail
    public = Client().get(f"/policies/{application.policy_id}/").content.decode()
    grants = public.split('id="grants"')[1].split("</table>")[0]
    assert "200,000" in grants and "GK-2026-0042" not in public  # the number stays between agency and member


def test_a_payment_past_the_grant_or_on_a_wrong_day_keeps_nothing(granted):
    admin, applicant_admin, application = granted
    today = dt.date.today()
    with translation.override("en"):
        with pytest.raises(ValidationFailed) as refused:
            grant_payment_record(
                actor=admin,
                application=application,
                amount="250000",
                paid_on=(today + dt.timedelta(days=1)).isoformat(),
                reference="a\nb",
            )
        assert set(refused.value.errors) == {"amount", "paid_on", "reference"}
        assert "at most the 200,000 yuan left to pay of 200,000" in refused.value.errors["amount"][0]
        with pytest.raises(ValidationFailed) as early:
            grant_payment_record(
                actor=admin, application=application, amount="1", paid_on=(today - dt.timedelta(days=3)).isoformat()
            )
        assert "before the grant" in early.value.errors["paid_on"][0]
        with pytest.raises(Forbidden):
            grant_payment_record(actor=applicant_admin, application=application, amount="1", paid_on=today)
    assert not GrantPayment.objects.exists() and not LogEntry.objects.filter(type="policy.paid").exists()
    # the page says so at the application's row, with what was typed
    page = Client()
    page.force_login(admin)
    refused_page = page.post(f"/applications/{application.pk}/pay/", {"amount": "999999", "paid_on": "soon"})
    assert refused_page.status_code == 400
    said = refused_page.content.decode()
    assert "尚余 200,000 元待付" in said and 'value="999999"' in said and 'value="soon"' in said


def test_only_a_granted_sum_is_paid(agency, member_of):  # noqa: F811
    admin, org = agency
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data(budget="")))
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    application = application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)
    with pytest.raises(ValidationFailed) as waiting:
        grant_payment_record(actor=admin, application=application, amount="1", paid_on=dt.date.today())
    assert list(waiting.value.errors) == ["status"]
    application_decide(actor=admin, application=application, grant=True)  # a qualification: no sum
    with pytest.raises(ValidationFailed) as no_sum:
        grant_payment_record(actor=admin, application=application, amount="1", paid_on=dt.date.today())
    assert list(no_sum.value.errors) == ["amount"]
    problem(
        Client().post(
            f"/api/v1/applications/{application.pk}/payments",
            {"amount": "1", "paid_on": dt.date.today().isoformat()},
            content_type="application/json",
            **bearer(applicant_admin),
        ),
        403,
    )


def test_an_applicant_suspended_or_gone_is_not_granted_and_the_agency_sees_why(agency, member_of, operator):  # noqa: F811
    from agglo.common.language import language_remember
    from agglo.registry.services import organization_set_status

    admin, org = agency
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))
    applicant_admin, applicant = firm(member_of, "suspended-firm", rd=1_200_000, invention=True)
    application = application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)
    organization_set_status(actor=operator, organization=applicant, status="suspended", reason="audit")
    language_remember(admin, "en")
    page = Client()
    page.force_login(admin)
    shown = page.get(f"/policies/{policy.pk}/").content.decode()
    assert 'class="badge warn standing-badge">Suspended<' in shown
    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        application_decide(actor=admin, application=application, grant=True, amount="1000")
    assert (
        "suspended by the platform's operators: it may be granted once reinstated"
        in (refused.value.errors["organization"][0])
    )
    application.refresh_from_db()
    assert application.status == "submitted" and not LogEntry.objects.filter(type="policy.granted").exists()
    # the page says so at the application's row, and keeps what was typed
    sent = page.post(
        f"/applications/{application.pk}/decide/", {"grant": "1", "amount": "1000"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    row = sent.content.decode()
    assert sent.status_code == 400 and "may be granted once reinstated" in row and 'value="1000"' in row
    application.refresh_from_db()
    assert application.status == "submitted"
    # reinstated, it may be granted; a member that left may only be rejected
    organization_set_status(actor=operator, organization=applicant, status="member")
    application_decide(actor=admin, application=application, grant=True, amount="1000")
    gone_admin, gone = firm(member_of, "gone-firm", rd=1_200_000, invention=True)
    left = application_submit(actor=gone_admin, policy=policy, organization_id=gone.pk)
    organization_set_status(actor=operator, organization=gone, status="withdrawn")
    with translation.override("en"), pytest.raises(ValidationFailed) as gone_refused:
        application_decide(actor=admin, application=left, grant=True, amount="1000")
    assert "has left the platform" in gone_refused.value.errors["organization"][0]
    assert application_decide(actor=admin, application=left, grant=False, reason="left").status == "rejected"
