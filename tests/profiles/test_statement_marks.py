"""Statement marks and case forms: the owner's "audited" mark never replaces someone else's check, a file goes
once, and a refused case form names the field as the form labels it."""

from __future__ import annotations

import pytest

from agglo.common.errors import Conflict, ValidationFailed
from agglo.profiles import services
from agglo.profiles.models import FinancialStatement
from tests.profiles.conftest import statement
from tests.profiles.test_api_and_pages import login

pytestmark = pytest.mark.django_db


def test_a_refused_participant_is_named_as_the_form_labels_it_with_the_readers_colon(org_admin):
    admin, org = org_admin
    case = services.case_create(
        actor=admin, organization=org, data={"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"}
    )
    c = login(admin)  # Chinese, the default
    r = c.post(
        f"/organizations/{org.pk}/cases/{case.pk}/participant/",
        {"organization": "91350200RU3766HE4X", "input_kind": "equipment"},
        follow=True,
    )
    page = r.content.decode()
    assert "91350200RU3766HE4X" in page
    said = page.split('class="messages"')[1].split("</li>")[0]
    assert "：" in said, said  # as every other page writes "label：message" in Chinese


def test_marking_audited_does_not_replace_a_platform_verification(org_admin, operator):
    from agglo.profiles.models import Source
    from tests.conftest import upload
    from tests.profiles.conftest import statement

    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    services.evidence_add(actor=admin, statement=fact, files=[upload("audit.pdf")])
    services.fact_verify(actor=operator, fact=fact, source="operator_verified")
    fact.refresh_from_db()
    assert fact.verified
    page = login(admin).get(f"/organizations/{org.pk}/tab/finances/").content.decode()
    offered = 'name="source" value="audited"' in page  # the finances tab offers no "Mark audited" on it
    assert not offered
    with pytest.raises(ValidationFailed) as refused:
        services.fact_verify(actor=admin, fact=fact, source="audited")
    assert "source" in refused.value.errors
    fact.refresh_from_db()
    assert fact.source == Source.OPERATOR_VERIFIED and fact.verified and fact.verified_by == operator


def test_a_unicode_digit_as_the_partner_is_refused_not_a_500(org_admin):
    admin, org = org_admin
    case = services.case_create(
        actor=admin, organization=org, data={"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"}
    )
    c = login(admin)
    c.raise_request_exception = False
    r = c.post(
        f"/organizations/{org.pk}/cases/{case.pk}/participant/", {"organization": "²", "input_kind": "equipment"}
    )
    assert r.status_code != 500


def test_a_file_removed_twice_at_once_is_removed_and_logged_once(org_admin):
    from agglo.common.errors import NotFound
    from agglo.common.models import AuditEvent
    from agglo.profiles.models import StatementEvidence
    from tests.conftest import upload
    from tests.profiles.conftest import statement

    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    (evidence,) = services.evidence_add(actor=admin, statement=fact, files=[upload("audit.pdf")])
    first, second = StatementEvidence.objects.get(pk=evidence.pk), StatementEvidence.objects.get(pk=evidence.pk)
    services.evidence_remove(actor=admin, evidence=first)
    with pytest.raises(NotFound):  # a double click: the second finds the file gone and logs nothing
        services.evidence_remove(actor=admin, evidence=second)
    assert AuditEvent.objects.filter(event="profiles.financials_evidence_removed").count() == 1


def test_a_statement_form_names_every_problem_in_one_answer(org_admin, english):
    from tests.profiles.conftest import statement

    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    bad = statement(2024, revenue="-100", total_assets="999", headcount="10", rd_headcount="20")
    with pytest.raises(ValidationFailed) as refused:
        services.fact_create(actor=admin, organization=org, kind="financials", data=bad)
    # a bad amount, the balance, staff, and the year already recorded: all at once
    assert set(refused.value.errors) >= {"revenue", "total_assets", "rd_headcount", "year"}, refused.value.errors
    assert refused.value.errors["year"] == ["Already recorded: 2024."]
    # alone, the clash names the record it clashes with, for a client to change that one instead
    with pytest.raises(Conflict) as clash:
        services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    first = FinancialStatement.objects.get(organization=org, year=2024)
    assert clash.value.message == f"Already recorded: 2024, as id {first.pk}."
    page = login(admin).post(f"/organizations/{org.pk}/facts/financials/new/", bad).content.decode()
    assert page.count('class="errorlist') >= 4


def test_a_duplicate_patent_is_named_on_its_number_as_stored(org_admin, english):
    """Walk review 45 F3: the clash was said under "Kind" as "Already recorded.", without the number."""
    from agglo.common.errors import Conflict

    admin, org = org_admin
    patent = {"kind": "invention_patent", "title": "一种方法", "status": "pending", "filed_on": "2021-01-01"}
    services.fact_create(actor=admin, organization=org, kind="ip", data={**patent, "number": "ZL202116384340.7"})
    with pytest.raises(Conflict) as clash:
        services.fact_create(actor=admin, organization=org, kind="ip", data={**patent, "number": "ZL 2021 1638 4340.7"})
    assert clash.value.errors == {"number": ["Already recorded: ZL202116384340.7."]}


def test_the_statements_show_what_the_z_score_reads_and_the_form_says_what_they_are(org_admin, client):
    """Policy review 58 M8: a lender could not check Altman Z'' (its four inputs were not shown), and the form did
    not say what retained earnings and EBIT are on a Chinese statement."""
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    client.force_login(admin)
    page = client.get(f"/organizations/{org.pk}/tab/finances/").content.decode()
    table = page[page.index('id="statements"') :]
    table = table[: table.index("</thead>")]
    assert all(word in table for word in ("流动资产", "流动负债", "留存收益", "息税前利润"))
    form = client.get(f"/organizations/{org.pk}/facts/financials/new/").content.decode()
    assert "盈余公积 + 未分配利润" in form and "利润总额 + 利息费用" in form


def test_long_tabs_come_a_page_at_a_time(org_admin, client, monkeypatch):
    """Perf review 58: 1,500 IP assets or 300 cases rendered on one page took a second."""
    from agglo.profiles.views import profile as views

    admin, org = org_admin
    for n in range(3):
        services.fact_create(
            actor=admin,
            organization=org,
            kind="ip",
            data={"kind": "software_copyright", "number": f"2024SR{n:07d}", "title": f"软件{n}", "status": "pending"},
        )
    monkeypatch.setattr(views, "TAB_PAGE", 2)
    client.force_login(admin)
    first = client.get(f"/organizations/{org.pk}/tab/ip/").content.decode()
    second = client.get(f"/organizations/{org.pk}/tab/ip/?page=2").content.decode()
    assert first.count("<code>2024SR") == 2 and second.count("<code>2024SR") == 1
    assert 'id="ip-pages"' in first
