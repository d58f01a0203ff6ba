"""Policy pages and API beyond matching: the calculators (figures start from the member's own records, bad input
is refused field by field, every result names the rules it follows), the agency workspace, policy documents."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from agglo.common.errors import ValidationFailed
from agglo.policy.calculators import DEDUCTION_SOURCE, TECH_SME_SOURCE
from agglo.profiles import services as profiles
from tests.profiles.conftest import statement

pytestmark = pytest.mark.django_db

FIGURES = {
    "staff": "80",
    "tech_staff": "30",
    "revenue": "12000000",
    "total_assets": "20000000",
    "rd_expense": "1800000",
    "total_cost": "9000000",
    "ip_class_i": "1",
    "ip_class_ii": "0",
}


def post_json(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_api_evaluates_a_tech_sme_and_names_the_source(client):
    out = post_json(client, "/api/v1/policy-calculators/tech-sme", FIGURES).json()
    # 30/80 staff = 20 points, R&D 15 % of sales = 50, an invention patent = 30.
    assert (out["eligible"], out["score"], out["staff_points"], out["rd_points"], out["ip_points"]) == (
        True,
        100,
        20,
        50,
        30,
    )
    assert out["source"] == TECH_SME_SOURCE
    small = post_json(client, "/api/v1/policy-calculators/tech-sme", {**FIGURES, "ip_class_i": 0, "tech_staff": 5})
    assert not small.json()["eligible"] and small.json()["reasons"]


def test_api_refuses_bad_figures_by_field(client):
    client.cookies["django_language"] = "en"
    bad = post_json(
        client, "/api/v1/policy-calculators/tech-sme", {**FIGURES, "staff": "many", "revenue": -1, "total_cost": None}
    )
    assert bad.status_code == 422
    fields = bad.json()["errors"]
    assert set(fields) == {"staff", "revenue", "total_cost"}
    assert fields["staff"] == ["Must be a whole number."] and fields["total_cost"] == ["Required."]
    more = post_json(client, "/api/v1/policy-calculators/tech-sme", {**FIGURES, "tech_staff": "81"})
    assert more.status_code == 422 and more.json()["errors"] == {"tech_staff": ["Cannot exceed the total staff."]}


def test_api_estimates_the_rd_deduction(client):
    out = post_json(
        client,
        "/api/v1/policy-calculators/rd-deduction",
        {"expensed": "1000000", "amortisation": "50000", "year": 2025},
    ).json()
    assert out["additional"] == "1050000.00" and out["source"] == DEDUCTION_SOURCE
    ic = post_json(
        client,
        "/api/v1/policy-calculators/rd-deduction",
        {"expensed": "1000000", "year": 2025, "ic_or_machine_tool": True},
    ).json()
    assert ic["additional"] == "1200000.00" and ic["amortised_rate"] == "2.2"
    old = post_json(client, "/api/v1/policy-calculators/rd-deduction", {"expensed": "1", "year": 2020})
    assert old.status_code == 422 and "year" in old.json()["errors"]
    excluded = post_json(
        client, "/api/v1/policy-calculators/rd-deduction", {"expensed": "5", "year": 2025, "industry": "real_estate"}
    ).json()
    assert excluded["additional"] == "0" and excluded["reason"]


def test_page_starts_from_my_statement_and_shows_results_or_errors(client, member_of):
    admin, org = member_of("calc-firm")
    profiles.fact_create(actor=admin, organization=org, kind="financials", data=statement(2025))
    client.force_login(admin)
    page = client.get("/policies/calculators/").content.decode()
    assert (
        'name="staff" inputmode="numeric" value="80"' in page
        and 'name="revenue" inputmode="decimal" value="12000000' in page
    )
    # a statement of the year under way would be part of a year: it is refused (policy review 58 H4), and last
    # year's still starts the calculators (walk 45)
    this_year = statement(dt.date.today().year, revenue="3000000")
    with pytest.raises(ValidationFailed) as refused:
        profiles.fact_create(actor=admin, organization=org, kind="financials", data=this_year)
    assert "year" in refused.value.errors
    assert 'name="revenue" inputmode="decimal" value="12000000' in client.get("/policies/calculators/").content.decode()
    result = client.post("/policies/calculators/", {"calculator": "tech_sme", **FIGURES})
    assert result.status_code == 200 and 'id="tech-sme-result"' in result.content.decode()
    bad = client.post("/policies/calculators/", {"calculator": "rd_deduction", "expensed": "x", "year": "2025"})
    text = bad.content.decode()
    assert bad.status_code == 422 and "本年度费用化研发支出（元）：必须为数字。" in text
    # the error sits in the form that was sent, and the other form keeps the figures it started from
    assert text.index('id="calculator-errors"') > text.index('id="rd-deduction-form"')
    assert 'name="staff" inputmode="numeric" value="80"' in text


def test_calculators_refuse_figures_no_firm_has_and_speak_the_readers_language(client, english):
    client.cookies["django_language"] = "en"
    huge = client.post("/policies/calculators/", {"calculator": "tech_sme", **FIGURES, "staff": "100000000000000"})
    assert huge.status_code == 422 and "Total staff: Must be between 0 and 10,000,000." in huge.content.decode()
    nan = post_json(client, "/api/v1/policy-calculators/tech-sme", {**FIGURES, "revenue": "NaN"})
    assert nan.status_code == 422 and nan.json()["errors"] == {"revenue": ["Must be a number."]}
    small = post_json(client, "/api/v1/policy-calculators/tech-sme", {**FIGURES, "ip_class_i": 0, "tech_staff": 5})
    assert small.json()["reasons"] == [
        "A total score of 50, below 60.",
        "The technical staff indicator scores 0 (technical staff below 10% of all staff).",
    ]
    excluded = post_json(
        client, "/api/v1/policy-calculators/rd-deduction", {"expensed": "5", "year": 2025, "industry": "real_estate"}
    ).json()
    assert excluded["reason"].startswith("This industry may not claim")
    page = client.get("/policies/calculators/").content.decode()
    assert '<option value="real_estate">Real estate</option>' in page and ">real_estate<" not in page
    client.cookies["django_language"] = "zh-hans"
    zh = post_json(client, "/api/v1/policy-calculators/tech-sme", {**FIGURES, "ip_class_i": 0, "tech_staff": 5})
    assert "科技人员指标得分为 0（科技人员占比低于 10%）。" in zh.json()["reasons"]


def test_agency_workspace_counts_matches_and_waiting_applications(client, member_of):
    from agglo.policy.applications import application_submit
    from agglo.policy.services import policy_create, policy_publish
    from tests.policy.test_services import firm, policy_data

    agency_admin, agency = member_of("desk-agency", kind="government", name_zh="深圳市科技创新局")
    good_admin, good = firm(member_of, "desk-good", rd=1_200_000, invention=True)
    firm(member_of, "desk-near", rd=384_000, invention=True)
    policy = policy_create(actor=agency_admin, issuer=agency, data=policy_data())
    policy_publish(actor=agency_admin, policy=policy)
    application_submit(actor=good_admin, policy=policy, organization_id=good.pk, note="")
    client.force_login(agency_admin)
    page = client.get("/policies/agency/").content.decode()
    row = page.split('id="workspace-policies"')[1].split("</tr>")[1]
    cells = [c.split("</td>")[0].split(">", 1)[1] for c in row.split("<td")[2:]]
    assert cells[1:4] == ["1", "1", "1"]  # eligible, one condition missing, waiting
    client.force_login(good_admin)
    client.cookies["django_language"] = "en"
    # a page that exists, for agencies' admins: a firm is told who may use it (walk review 45 F10)
    for path in ("/policies/agency/", "/policies/new/"):
        refused = client.get(path)
        assert refused.status_code == 403 and "administrators of government agencies" in refused.content.decode()


def test_agencies_attach_documents_that_follow_the_policys_visibility(client, member_of, english):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from agglo.common.errors import Forbidden, ValidationFailed
    from agglo.policy.models import PolicyDocument
    from agglo.policy.services import policy_create, policy_documents_add, policy_publish
    from tests.policy.test_services import policy_data
    from tests.registry.test_api import bearer

    agency_admin, agency = member_of("doc-agency", kind="government", name_zh="深圳市科技创新局")
    firm_admin, _firm = member_of("doc-firm")
    policy = policy_create(actor=agency_admin, issuer=agency, data=policy_data())
    pdf = b"%PDF-1.4 implementation rules %%EOF"
    with pytest.raises(ValidationFailed) as exc:
        policy_documents_add(
            actor=agency_admin,
            policy=policy,
            files=[SimpleUploadedFile("ok.pdf", pdf), SimpleUploadedFile("evil.pdf", b"MZ\x90\x00not a pdf")],
        )
    assert "evil.pdf is not a PDF, PNG or JPEG file." in exc.value.errors["files"]
    assert not PolicyDocument.objects.exists()  # all or none
    with pytest.raises(Forbidden):
        policy_documents_add(actor=firm_admin, policy=policy, files=[SimpleUploadedFile("x.pdf", pdf)])
    client.force_login(agency_admin)
    client.post(f"/policies/{policy.pk}/documents/", {"files": [SimpleUploadedFile("细则.pdf", pdf)]})
    document = PolicyDocument.objects.get()
    assert document.original_name == "细则.pdf" and document.content_type == "application/pdf"
    # the agency's token reads its draft's file at the url the API lists (it was the page's: the login page)
    (drafted,) = Client().get(f"/api/v1/policies/{policy.pk}/documents", **bearer(agency_admin)).json()
    assert drafted["url"] == f"/api/v1/policy-documents/{document.pk}"
    assert b"".join(Client().get(drafted["url"], **bearer(agency_admin)).streaming_content) == pdf
    # A draft's file is its agency's; once published, anyone may read it.
    client.force_login(firm_admin)
    assert client.get(f"/policies/documents/{document.pk}/").status_code == 404
    assert client.get(f"/api/v1/policies/{policy.pk}/documents").status_code == 404
    assert Client().get(drafted["url"], **bearer(firm_admin)).status_code == 404
    policy_publish(actor=agency_admin, policy=policy)
    body = b"".join(client.get(f"/policies/documents/{document.pk}/").streaming_content)
    assert body == pdf
    listed = client.get(f"/api/v1/policies/{policy.pk}/documents").json()
    assert [d["original_name"] for d in listed] == ["细则.pdf"] and listed[0]["url"] == drafted["url"]
    assert b"".join(Client().get(drafted["url"]).streaming_content) == pdf  # published: no login needed
    assert client.delete(f"/api/v1/policy-documents/{document.pk}").status_code == 403
    client.force_login(agency_admin)
    assert client.delete(f"/api/v1/policy-documents/{document.pk}").status_code == 204
    assert not PolicyDocument.objects.exists()


def test_answers_are_public_and_do_not_name_who_asked(client, member_of):
    from agglo.policy.needs import need_answer, need_submit

    agency_admin, _agency = member_of("ans-agency", kind="government", name_zh="深圳市科技创新局")
    asker_admin, asker = member_of("ans-asker", name_zh="提问科技有限公司")
    reader_admin, _reader = member_of("ans-reader")
    need = need_submit(
        actor=asker_admin, organization_id=asker.pk, data={"topic": "tax", "text": "研发费用加计扣除申报流程复杂"}
    )
    need_submit(actor=asker_admin, organization_id=asker.pk, data={"topic": "talent", "text": "招不到芯片设计工程师"})
    need_answer(actor=agency_admin, need=need, answer="税务局每月举办加计扣除辅导课。")
    client.force_login(reader_admin)
    page = client.get("/policies/needs/").content.decode()
    answered = page.split('id="answered"')[1].split("</table>")[0]
    assert "研发费用加计扣除申报流程复杂" in answered and "税务局每月举办加计扣除辅导课" in answered
    assert "提问科技有限公司" not in page and "招不到芯片设计工程师" not in page  # not who asked, not unanswered
    listed = client.get("/api/v1/policy-needs/answered").json()
    assert [n["text"] for n in listed] == ["研发费用加计扣除申报流程复杂"] and "organization_id" not in listed[0]


def test_the_need_form_labels_its_fields_and_marks_the_one_in_error(member_of, client):
    """Walk review 45 F6: bare selects with no visible label, a topic preselected, and nothing marked on error."""
    admin, org = member_of("needy")
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    page = client.get("/policies/needs/").content.decode()
    for field in ("organization", "topic", "text", "segment"):
        assert f'<label for="need-{field}">' in page
    assert '<option value="" selected>Choose a topic</option>' in page
    sent = client.post("/policies/needs/", {"organization": org.pk, "topic": "financing", "text": "短"})
    body = sent.content.decode()
    assert 'id="need-text" rows="3" maxlength="2000"' in body and 'aria-invalid="true"' in body
    assert body.count('aria-invalid="true"') == 1
