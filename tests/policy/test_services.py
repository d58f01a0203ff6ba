"""Publishing a policy finds the eligible members and the near misses, explained, and tells them."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import Notification
from agglo.policy.models import Policy, PolicyMatch
from agglo.policy.selectors.facts import facts_for
from agglo.policy.services import policy_create, policy_publish, policy_update
from agglo.profiles import services as profiles
from tests.profiles.conftest import statement

pytestmark = pytest.mark.django_db

RULE = "headcount <= 500 and rd_intensity >= 5% and ip_invention >= 1"


def policy_data(**over):
    data = {
        "kind": "subsidy",
        "title_zh": "研发投入后补助",
        "starts_on": "2026-01-01",
        "ends_on": "2030-12-31",  # far enough that publishing stays allowed
        "budget": "5000000",
        "rule": RULE,
        "region_scope": ["440300"],
    }
    data.update(over)
    return data


@pytest.fixture
def agency(member_of):
    return member_of("agency-admin", kind="government", name_zh="深圳市科技创新局")


def firm(member_of, name, rd, invention, region="440300"):
    admin, org = member_of(name, region=region)
    # statement(): revenue 12 m, 80 staff; rd sets the R&D intensity.
    profiles.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024, rd_expense=str(rd)))
    if invention:
        profiles.fact_create(
            actor=admin,
            organization=org,
            kind="ip",
            data={
                "kind": "invention_patent",
                "number": f"ZL2023{org.pk:06d}.1",
                "title": "一种方法",
                "status": "granted",
                "filed_on": "2023-01-01",
                "granted_on": "2024-06-01",
            },
        )
    return admin, org


def test_a_firm_short_of_one_or_of_two_is_a_near_miss_and_is_told(agency, member_of, english):
    """Walk review 45 F2: short of an `or` whose two alternatives both fail, a firm was counted two clauses short,
    so it was neither listed as a near miss nor told."""
    admin, org = agency
    near_admin, near = firm(member_of, "or-firm", rd=1_200_000, invention=True)  # one invention, IP total 1
    rule = "rd_intensity >= 5% and (ip_invention >= 2 or ip_total >= 5)"
    policy = policy_create(actor=admin, issuer=org, data=policy_data(rule=rule))
    policy_publish(actor=admin, policy=policy)
    match = PolicyMatch.objects.get(policy=policy, organization=near)
    assert match.near_miss and match.missing == 1
    assert [(c["passed"], c["either"]) for c in match.explained] == [(True, False), (False, True), (False, True)]
    assert Notification.objects.filter(user=near_admin, verb="policy.match").exists()
    page = Client()
    page.force_login(near_admin)
    page.cookies["django_language"] = "en"
    body = page.get(f"/policies/{policy.pk}/").content.decode()
    wanting = body.split('id="wanting"')[1].split("</p>")[0]
    assert "invention patents ≥ 2 (yours: 1) or IP assets ≥ 5 (yours: 1)" in wanting
    # one line, the alternatives joined by "or", on the home page and in the agency's near misses (review 47)
    home = page.get("/").content.decode()
    assert "invention patents ≥ 2 (yours: 1) or IP assets ≥ 5 (yours: 1)" in home
    agency_page = Client()
    agency_page.force_login(admin)
    agency_page.cookies["django_language"] = "en"
    table = agency_page.get(f"/policies/{policy.pk}/").content.decode().split('id="matches"')[1].split("</table>")[0]
    assert " or " in table and "(theirs: 1)" in table


def test_malformed_rules_and_fields_are_refused_by_name(agency, english):
    admin, org = agency
    with pytest.raises(ValidationFailed) as exc:
        policy_create(
            actor=admin, issuer=org, data=policy_data(rule="headcount <= ", kind="gift", region_scope=["999999"])
        )
    assert set(exc.value.errors) == {"rule", "kind", "region_scope"}
    assert exc.value.errors["rule"] == ["headcount needs a number, found the end of the rule, at character 14."]
    with pytest.raises(ValidationFailed) as exc:  # a title is one line (recheck 51 R9)
        policy_create(actor=admin, issuer=org, data=policy_data(title_zh="研发补助\r\nBcc: x@evil.example"))
    assert set(exc.value.errors) == {"title_zh"}
    assert not Policy.objects.exists()


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ("", "规则为空（第 1 个字符处）。"),
        ('kind in ["a" and', "应为右方括号 ]，实际为“and”（第 14 个字符处）。"),
        ("revenue_magic > 1", "未知的事实“revenue_magic”；可用的事实："),
        ("headcount < 5 && tech_sme", "意外的字符“&”（第 15 个字符处）。"),
        ("tech_sme and " * 400 + "tech_sme", "规则最多 4000 个字符"),
    ],
)
def test_a_malformed_rule_is_explained_in_the_readers_language(agency, rule, said):
    admin, org = agency
    with pytest.raises(ValidationFailed) as exc:
        policy_create(actor=admin, issuer=org, data=policy_data(rule=rule))
    assert said in exc.value.errors["rule"][0]


def test_only_agencies_issue_policies(member_of, agency):
    firm_admin, firm_org = member_of("plain-firm")
    with pytest.raises(Forbidden):
        policy_create(actor=firm_admin, issuer=firm_org, data=policy_data())
    with pytest.raises(Forbidden):
        policy_create(actor=firm_admin, issuer=agency[1], data=policy_data())


def test_publishing_finds_eligible_firms_and_near_misses(agency, member_of):
    admin, org = agency
    good_admin, good = firm(member_of, "good-firm", rd=1_200_000, invention=True)  # 10 %
    near_admin, near = firm(member_of, "near-firm", rd=384_000, invention=True)  # 3.2 %
    _, far = firm(member_of, "far-firm", rd=100_000, invention=False)
    _, elsewhere = firm(member_of, "elsewhere-firm", rd=1_200_000, invention=True, region="320500")
    assert facts_for([good.pk])[good.pk]["ip_invention"] == 1
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    policy_publish(actor=admin, policy=policy)
    matches = {m.organization_id: m for m in PolicyMatch.objects.filter(policy=policy)}
    assert matches[good.pk].eligible and not matches[near.pk].eligible
    assert matches[near.pk].near_miss
    missing = [c for c in matches[near.pk].explained if not c["passed"]]
    assert missing == [
        {
            "zh": "研发投入强度 ≥ 5 %",
            "en": "R&D intensity ≥ 5 %",
            "passed": False,
            "needed": True,
            "either": False,
            "yours": "3.2 %",
            "yours_en": "3.2 %",
        }
    ]
    assert far.pk not in matches and elsewhere.pk not in matches
    assert Notification.objects.filter(user=good_admin, verb="policy.match").count() == 1
    near_notice = Notification.objects.get(user=near_admin, verb="policy.match")
    assert (
        near_notice.link == f"/policies/{policy.pk}/"
        and near_notice.text != Notification.objects.get(user=good_admin).text
    )
    # A changed rule re-matches at once.
    policy_update(actor=admin, policy=policy, data={"rule": "headcount <= 500 and rd_intensity >= 3%"})
    assert PolicyMatch.objects.get(policy=policy, organization=near).eligible
    with pytest.raises(ValidationFailed):
        policy_publish(actor=admin, policy=policy)


def test_pages_and_api_from_draft_to_eligibility(agency, member_of, client):
    admin, org = agency
    firm_admin, good = firm(member_of, "page-firm", rd=1_200_000, invention=False)
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    bad = client.post(
        "/policies/new/",
        {
            "issuer": org.pk,
            "kind": "subsidy",
            "title_zh": "补贴",
            "starts_on": "2026-01-01",
            "rule": "headcount <= 500 and",
        },
    )
    assert bad.status_code == 422 and "rule" in bad.context["error_fields"]
    assert "Eligibility rule: expected a fact such as headcount, found the end of the rule" in bad.content.decode()
    assert not Policy.objects.exists()
    r = client.post(
        "/policies/new/",
        {
            "issuer": org.pk,
            "kind": "subsidy",
            "title_zh": "研发补贴",
            "starts_on": "2026-01-01",
            "rule": RULE,
            "region_scope": "440300",
        },
    )
    policy = Policy.objects.get()
    assert r.status_code == 302 and policy.status == "draft"
    client.post(f"/policies/{policy.pk}/publish/")
    page = client.get(f"/policies/{policy.pk}/")
    assert page.status_code == 200 and 'id="matches"' in page.content.decode()
    assert "invention patents ≥ 1" in page.content.decode()  # the near miss's missing clause, for the agency
    client.force_login(firm_admin)
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert "R&amp;D intensity ≥ 5 %" in page and "not yet eligible" in page and 'id="matches"' not in page
    api = client.get(f"/api/v1/policies/{policy.pk}/eligibility").json()
    assert api[0]["organization_id"] == good.pk and not api[0]["eligible"]
    assert [c["en"] for c in api[0]["clauses"] if not c["passed"]] == ["invention patents ≥ 1"]
    assert client.get(f"/api/v1/policies/{policy.pk}/matches").status_code == 403
    assert client.get("/api/v1/policies?q=研发").json()[0]["id"] == policy.pk


def test_an_agency_sees_and_edits_its_draft_then_its_published_policy(agency, member_of, client):
    admin, org = agency
    policy = policy_create(actor=admin, issuer=org, data=policy_data(summary_en="For R&D."))
    client.force_login(admin)
    client.cookies["django_language"] = "en"
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    # the scope and budget entered are shown, with a way to change them
    terms = page[page.index('id="policy-terms"') :]
    terms = terms[: terms.index("</p>")]
    assert "Shenzhen" in terms and "5,000,000" in terms and f"/policies/{policy.pk}/edit/" in terms
    form = client.get(f"/policies/{policy.pk}/edit/").content.decode()
    assert 'value="440300"' in form and 'value="5000000.00"' in form and "For R&amp;D." in form
    sent = {
        "kind": "subsidy",
        "title_zh": "研发投入后补助（修订）",
        "summary_en": "For R&D.",
        "starts_on": "2026-01-01",
        "ends_on": "2030-12-31",
        "budget": "800000",
        "region_scope": ["440300", "440100"],
        "rule": RULE,
    }
    bad = client.post(f"/policies/{policy.pk}/edit/", sent | {"budget": "-1", "region_scope": "999999"})
    text = bad.content.decode()
    assert bad.status_code == 422 and "Budget (yuan): " in text and "Regions: Unknown region codes: 999999" in text
    assert 'value="-1"' in text  # what was typed stays
    policy.refresh_from_db()
    assert policy.budget == 5_000_000 and policy.region_scope == ["440300"]
    r = client.post(f"/policies/{policy.pk}/edit/", sent)
    assert r.status_code == 302
    policy.refresh_from_db()
    assert (
        policy.title_zh.endswith("（修订）")
        and policy.budget == 800_000
        and policy.region_scope == ["440100", "440300"]
    )
    assert policy.summary_en == "For R&D." and policy.issuer_id == org.pk
    # another member cannot open the form or change the policy
    other_admin, _other = member_of("not-the-agency")
    client.force_login(other_admin)
    assert client.get(f"/policies/{policy.pk}/edit/").status_code == 404
    assert client.post(f"/policies/{policy.pk}/edit/", sent | {"budget": "1"}).status_code == 404
    policy.refresh_from_db()
    assert policy.budget == 800_000


def test_apply_decide_and_grant_without_application_are_logged(agency, member_of, client):
    from agglo.ledger.entries import decode
    from agglo.ledger.models import EntryParty, LogEntry
    from agglo.policy.applications import application_decide, application_submit, policy_grant_eligible
    from agglo.policy.models import Application

    admin, org = agency
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    with pytest.raises(ValidationFailed):
        application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk)  # still a draft
    policy_publish(actor=admin, policy=policy)
    application = application_submit(actor=applicant_admin, policy=policy, organization_id=applicant.pk, note="请审核")
    with pytest.raises(Forbidden):
        application_decide(actor=applicant_admin, application=application, grant=True)
    with pytest.raises(ValidationFailed) as exc:
        application_decide(actor=admin, application=application, grant=False)
    assert "reason" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        application_decide(actor=admin, application=application, grant=True, amount="-5")
    assert "amount" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        application_decide(actor=admin, application=application, grant=True)
    assert "amount" in exc.value.errors and Application.objects.get(pk=application.pk).status == "submitted"
    application_decide(actor=admin, application=application, grant=True, amount="200000")
    entry = LogEntry.objects.get(type="policy.granted")
    assert decode(bytes(entry.data))["payload"]["amount"] == "200000.00"
    assert set(EntryParty.objects.filter(entry=entry).values_list("organization_id", flat=True)) == {
        org.pk,
        applicant.pk,
    }

    # 免申即享: every eligible member receives it without applying, each grant logged.
    auto = policy_create(actor=admin, issuer=org, data=policy_data(title_zh="免申即享补贴", auto_grant=True))
    policy_publish(actor=admin, policy=auto)
    assert policy_grant_eligible(actor=admin, policy=auto, amount="50000") == 1
    assert Application.objects.get(policy=auto).automatic
    assert LogEntry.objects.filter(type="policy.granted").count() == 2
    assert policy_grant_eligible(actor=admin, policy=auto, amount="50000") == 0
    # the policy has a budget: a grant that names no sum would slip past it
    with pytest.raises(ValidationFailed) as exc:
        policy_grant_eligible(actor=admin, policy=auto)
    assert "amount" in exc.value.errors

    # Pages: the member applies from the policy page; the agency decides there.
    other_admin, other = firm(member_of, "page-applicant", rd=1_200_000, invention=True)
    client.force_login(other_admin)
    client.post(f"/policies/{policy.pk}/apply/", {"organization": other.pk, "note": "x"})
    pending = Application.objects.get(policy=policy, organization=other)
    assert client.post(f"/applications/{pending.pk}/decide/", {"grant": "1"}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == "submitted"  # the applicant cannot grant itself
    client.force_login(admin)
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    # the agency sees each applicant's standing beside its decision, and no "eligibility" of its own
    row = page.split('id="applications"')[1].split(other.name_zh)[1].split("</tr>")[0]
    assert 'class="standing">✓<' in row  # it meets the rule
    assert 'id="eligibility"' not in page
    assert "data-confirm" not in row  # an eligible applicant is granted without a question
    client.cookies["django_language"] = "en"
    # a bad amount or a missing reason is named by the field's label, in words that fit what is wrong
    for amount, said in [
        ("1" * 31, "Amount (yuan): Must be less than 100,000,000,000,000 yuan."),
        ("-5", "Amount (yuan): Must be 0 or more."),
        ("abc", "Amount (yuan): Must be an amount in yuan, such as 50000."),
        ("1.005", "Amount (yuan): At most 2 decimal places (fen)."),
    ]:
        r = client.post(f"/applications/{pending.pk}/decide/", {"grant": "1", "amount": amount, "reason": "符合"})
        page = r.content.decode()
        assert r.status_code == 400 and said in page, amount
        assert f'value="{amount}"' in page and 'value="符合"' in page  # at its row, as typed
    r = client.post(f"/applications/{pending.pk}/decide/", {"grant": "0"}, follow=True)
    assert "Reason: Say why, for the applicant." in r.content.decode()
    r = client.post(f"/applications/{pending.pk}/decide/", {"grant": "0", "reason": "预算已用完"}, follow=True)
    assert f"Rejected; {other.name} is told, with your reason." in r.content.decode()
    pending.refresh_from_db()
    assert pending.status == "rejected" and pending.reason == "预算已用完"
    # an applicant short of the rule: granting it asks first
    near_admin, near = firm(member_of, "near-applicant", rd=1_200_000, invention=False)
    application_submit(actor=near_admin, policy=policy, organization_id=near.pk)
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    rows = page.split('id="applications"')[1].split("</table>")[0].split("</tr>")
    (row,) = [r for r in rows if "not yet: 1 clause unmet" in r]
    assert 'data-confirm="This applicant does not meet the rule today: 1 clause unmet. Grant anyway?"' in row


def test_rematching_tells_newly_eligible_members_and_home_lists_policies(agency, member_of, client):
    from io import StringIO

    from django.core.management import call_command

    admin, org = agency
    firm_admin, late = firm(member_of, "late-firm", rd=384_000, invention=True)  # 3.2 %: a near miss
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    policy_publish(actor=admin, policy=policy)
    client.force_login(firm_admin)
    client.cookies["django_language"] = "en"
    home = client.get("/").content.decode()
    assert 'id="policies-for-me"' in home and "R&amp;D intensity ≥ 5 %" in home and "3.2 %" in home
    profiles.fact_create(
        actor=firm_admin, organization=late, kind="financials", data=statement(2025, rd_expense="1200000")
    )
    out = StringIO()
    call_command("policy_match", stdout=out)
    assert f"policy {policy.pk}: 1 eligible, 0 near misses" in out.getvalue()
    assert Notification.objects.filter(user=firm_admin, verb="policy.match").count() == 2
    assert "one condition missing" not in client.get("/").content.decode()


def test_members_file_needs_and_agencies_see_them_grouped_and_answer(agency, member_of, client, operator):
    from agglo.policy.models import PolicyNeed
    from agglo.policy.needs import need_answer, need_dashboard, need_submit

    admin, org = agency
    firm_admin, f = member_of("needy-firm")
    other_admin, other = member_of("other-needy")
    with pytest.raises(ValidationFailed) as exc:
        need_submit(actor=firm_admin, organization_id=f.pk, data={"topic": "fun", "text": "短", "segment": "nope"})
    assert set(exc.value.errors) == {"topic", "text", "segment"}
    with pytest.raises(Forbidden):
        need_submit(
            actor=firm_admin, organization_id=other.pk, data={"topic": "tax", "text": "研发费用加计扣除流程太复杂"}
        )
    need = need_submit(
        actor=firm_admin,
        organization_id=f.pk,
        data={"topic": "financing", "text": "首台套设备贷款难，希望有贴息支持", "segment": "ic-design"},
    )
    need_submit(
        actor=other_admin, organization_id=other.pk, data={"topic": "financing", "text": "知识产权质押融资门槛高"}
    )
    board = need_dashboard(actor=admin)
    assert board["total"] == 2 and board["by_topic"][0][1] == 2
    with pytest.raises(Forbidden):
        need_dashboard(actor=firm_admin)
    with pytest.raises(Forbidden):
        need_answer(actor=firm_admin, need=need, answer="x")
    policy = policy_create(actor=admin, issuer=org, data=policy_data(kind="loan_interest", title_zh="贷款贴息"))
    policy_publish(actor=admin, policy=policy)
    need_answer(actor=admin, need=need, answer="已出台贷款贴息政策，请查看。", policy_id=policy.pk)
    need.refresh_from_db()
    assert need.policy == policy and need.answered_by == org
    assert Notification.objects.filter(user=firm_admin, verb="policy.need_answered").exists()
    # Members see only their own needs (and, once answered, others' in public, without who asked); the agency
    # sees all, on the page too.
    client.force_login(other_admin)
    page = client.get("/policies/needs/").content.decode()
    own = page.split('id="needs"')[1].split("</table>")[0]
    assert "质押融资" in own and "首台套" not in own
    assert "首台套" in page.split('id="answered"')[1] and f.name_zh not in page
    assert 'id="need-public"' in page  # the filer is told its words go public, nameless, once answered
    client.force_login(admin)
    page = client.get("/policies/needs/").content.decode()
    assert "首台套" in page and "质押融资" in page and 'id="dashboard"' in page
    assert 'name="answer"' in page
    # the platform's operators read every need, but only agencies' admins answer: no form that would be refused
    client.force_login(operator)
    page = client.get("/policies/needs/").content.decode()
    assert "质押融资" in page and 'name="answer"' not in page
    client.force_login(firm_admin)
    r = client.post("/policies/needs/", {"organization": f.pk, "topic": "talent", "text": "短"})
    assert r.status_code == 422 and "text" in r.context["errors"]
    form = r.content.decode().split('id="need-form"')[1].split("</form>")[0]  # as typed, the field named
    assert ">短</textarea>" in form and 'value="talent" selected' in form and "text:" not in form
    assert PolicyNeed.objects.count() == 2
    api = client.get("/api/v1/policy-needs").json()
    assert [n["id"] for n in api] == [need.pk]


def test_editing_a_published_policy_tells_the_newly_eligible_and_keeps_what_others_did(agency, member_of, client):
    from django.core.management import call_command

    from agglo.common.models import Notification

    admin, org = agency
    firm_admin, near = firm(member_of, "near-edit-firm", rd=600_000, invention=False)  # no invention patent
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    stale = Policy.objects.get(pk=policy.pk)  # a copy read before the publish below, as an open edit page holds
    policy_publish(actor=admin, policy=policy)
    assert not PolicyMatch.objects.get(policy=policy, organization=near).eligible
    told = Notification.objects.filter(user=firm_admin).count()
    # the stale copy's edit neither reverts the publish nor skips the matching
    policy_update(actor=admin, policy=stale, data={"rule": "headcount <= 500"})
    policy.refresh_from_db()
    assert policy.status == "published" and policy.published_at is not None
    assert PolicyMatch.objects.get(policy=policy, organization=near).eligible
    assert Notification.objects.filter(user=firm_admin).count() == told + 1  # told once, not again daily
    call_command("policy_match")
    assert Notification.objects.filter(user=firm_admin).count() == told + 1


@pytest.mark.parametrize(
    ("budget", "said"),
    [
        ("Infinity", "Must be an amount in yuan, such as 50000."),
        ("sNaN", "Must be an amount in yuan, such as 50000."),
        ("1e30", "Must be less than 100,000,000,000,000 yuan."),
        ("12345678901234567890", "Must be less than 100,000,000,000,000 yuan."),
        ("1.001", "At most 2 decimal places (fen)."),
        ("-1", "Must be 0 or more."),
    ],
)
def test_a_budget_that_no_column_holds_is_refused_by_name(agency, english, budget, said):
    admin, org = agency
    with pytest.raises(ValidationFailed) as exc:
        policy_create(actor=admin, issuer=org, data=policy_data(budget=budget))
    assert exc.value.errors == {"budget": [said]}


def test_a_member_outside_the_policys_regions_is_not_eligible_and_cannot_apply(agency, member_of, client, english):
    from agglo.policy.applications import application_submit

    admin, org = agency
    far_admin, far = firm(member_of, "far-region-firm", rd=1_200_000, invention=True, region="320500")  # Suzhou
    policy = policy_create(actor=admin, issuer=org, data=policy_data())  # Shenzhen only
    policy_publish(actor=admin, policy=policy)
    client.force_login(far_admin)
    client.cookies["django_language"] = "en"
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert 'id="outside-scope"' in page and "not yet eligible" in page  # the rule alone would say eligible
    api = client.get(f"/api/v1/policies/{policy.pk}/eligibility").json()
    assert api[0]["in_scope"] is False and api[0]["eligible"] is False
    with pytest.raises(ValidationFailed) as exc:
        application_submit(actor=far_admin, policy=policy, organization_id=far.pk)
    assert "registered elsewhere" in exc.value.errors["organization"][0]


def test_grants_stay_within_the_policys_budget(agency, member_of, english):
    from agglo.policy.applications import application_decide, application_submit

    admin, org = agency
    policy = policy_create(actor=admin, issuer=org, data=policy_data(budget="300000"))
    policy_publish(actor=admin, policy=policy)
    first_admin, first = firm(member_of, "budget-first", rd=1_200_000, invention=True)
    second_admin, second = firm(member_of, "budget-second", rd=1_200_000, invention=True)
    a = application_submit(actor=first_admin, policy=policy, organization_id=first.pk)
    b = application_submit(actor=second_admin, policy=policy, organization_id=second.pk)
    application_decide(actor=admin, application=a, grant=True, amount="200000")
    with pytest.raises(ValidationFailed) as exc:
        application_decide(actor=admin, application=b, grant=True, amount="200000")
    assert exc.value.errors["amount"] == ["The policy's budget has 100,000 yuan left, and this would grant 200,000."]
    b.refresh_from_db()
    assert b.status == "submitted"
    application_decide(actor=admin, application=b, grant=True, amount="100000")  # the rest fits
    # nor can the budget be cut below what was granted
    with pytest.raises(ValidationFailed) as exc:
        policy_update(actor=admin, policy=policy, data={"budget": "250000"})
    assert exc.value.errors == {"budget": ["Must not be below the 300,000 yuan already granted."]}


def test_an_application_is_decided_once_even_from_two_copies(agency, member_of, english):
    from agglo.policy.applications import application_decide, application_submit
    from agglo.policy.models import Application

    admin, org = agency
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    policy_publish(actor=admin, policy=policy)
    firm_admin, applicant = firm(member_of, "twice-firm", rd=1_200_000, invention=True)
    application = application_submit(actor=firm_admin, policy=policy, organization_id=applicant.pk)
    first, second = Application.objects.get(pk=application.pk), Application.objects.get(pk=application.pk)
    application_decide(actor=admin, application=first, grant=True, amount="1000")
    with pytest.raises(ValidationFailed) as exc:
        application_decide(actor=admin, application=second, grant=False, reason="重复")
    assert exc.value.errors == {"status": ["This application is decided already."]}
    application.refresh_from_db()
    assert application.status == "granted"


def test_a_budgeted_policy_is_granted_to_every_eligible_member_over_the_api(agency, member_of):
    from django.test import Client

    from tests.registry.test_api import bearer, problem

    admin, org = agency
    firm(member_of, "auto-firm", rd=1_200_000, invention=True)
    auto = policy_create(actor=admin, issuer=org, data=policy_data(title_zh="免申即享补贴", auto_grant=True))
    policy_publish(actor=admin, policy=auto)
    url = f"/api/v1/policies/{auto.pk}/grant-eligible"
    said = problem(Client().post(url, **bearer(admin)), 422)
    assert list(said["errors"]) == ["amount"]
    granted = Client().post(url, {"amount": "50000"}, content_type="application/json", **bearer(admin))
    assert granted.status_code == 200 and granted.json() == {"granted": 1}, granted.content


def test_applications_open_on_the_policys_first_day(agency, member_of, english):
    """Walk review 45: a member could apply before the policy's period began."""
    from agglo.policy.applications import application_submit

    admin, org = agency
    firm_admin, firm_org = firm(member_of, "early-firm", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data(starts_on="2030-01-01", ends_on="2031-12-31"))
    policy_publish(actor=admin, policy=policy)
    with pytest.raises(ValidationFailed) as early:
        application_submit(actor=firm_admin, policy=policy, organization_id=firm_org.pk)
    assert early.value.errors == {"policy": ["Applications open on 2030-01-01."]}
    page = Client()
    page.force_login(firm_admin)
    page.cookies["django_language"] = "en"
    body = page.get(f"/policies/{policy.pk}/").content.decode()
    assert 'id="apply-form"' not in body and "Applications open on 2030-01-01." in body


def test_a_benefit_without_application_is_granted_within_the_policys_period(agency, member_of, english):
    """Review 47 F4: an auto-grant policy starting next year granted its members today, for good, on the log."""
    from agglo.policy.applications import policy_grant_eligible

    admin, org = agency
    firm(member_of, "auto-firm", rd=1_200_000, invention=True)
    early = policy_create(
        actor=admin, issuer=org, data=policy_data(starts_on="2030-01-01", ends_on="2031-12-31", auto_grant=True)
    )
    policy_publish(actor=admin, policy=early)
    with pytest.raises(ValidationFailed) as refused:
        policy_grant_eligible(actor=admin, policy=early, amount="1000")
    assert refused.value.errors == {"policy": ["Benefits are granted from 2030-01-01."]}
    assert not early.applications.exists()


def test_a_policy_past_its_last_day_is_not_for_you_any_more(agency, member_of):
    """Review 48 F8: the home page kept listing a policy after its last day."""
    from agglo.policy.selectors import policies_for

    admin, org = agency
    good_admin, _good = firm(member_of, "late-firm", rd=1_200_000, invention=True)
    policy = policy_create(actor=admin, issuer=org, data=policy_data())
    policy_publish(actor=admin, policy=policy)
    assert [m.policy_id for m in policies_for(actor=good_admin)] == [policy.pk]
    Policy.objects.filter(pk=policy.pk).update(ends_on="2020-12-31")
    assert policies_for(actor=good_admin) == []


def test_an_agency_does_not_replace_another_agencys_answer(agency, member_of):
    """Policy review 58 M6: a second agency's answer silently replaced the first's, and the first was lost."""
    from agglo.common.models import AuditEvent
    from agglo.policy.needs import need_answer, need_submit

    admin, org = agency
    firm_admin, f = member_of("asking-firm")
    other_admin, _other = member_of("other-agency-admin", kind="government", name_zh="某区科技局")
    need = need_submit(
        actor=firm_admin, organization_id=f.pk, data={"topic": "financing", "text": "首台套设备贷款难，希望有贴息支持"}
    )
    need_answer(actor=admin, need=need, answer="市里已有贴息政策，请看政策库。")
    with pytest.raises(ValidationFailed) as refused:
        need_answer(actor=other_admin, need=need, answer="区里另有办法。")
    assert "深圳市科技创新局" in refused.value.errors["answer"][0]
    need.refresh_from_db()
    assert need.answer == "市里已有贴息政策，请看政策库。" and need.answered_by == org
    # the agency that answered may revise its answer; the trail keeps what it said before
    need_answer(actor=admin, need=need, answer="贴息政策已更新，请看新版。")
    need.refresh_from_db()
    assert need.answer == "贴息政策已更新，请看新版。" and need.answered_by == org
    last = AuditEvent.objects.filter(event="policy.need_answered").order_by("-id").first()
    assert last.payload["previous_answer"] == "市里已有贴息政策，请看政策库。"


def test_a_closed_policy_takes_no_applications_and_its_grants_are_announced(agency, member_of, client):
    """Policy review 58 M4: a published policy could not be closed, and nobody outside saw who was granted what."""
    from agglo.policy.applications import application_decide, application_submit
    from agglo.policy.services import policy_close

    admin, org = agency
    firm_admin, f = firm(member_of, "granted-firm", rd=1_200_000, invention=True)
    waiting_admin, waiting = firm(member_of, "waiting-firm", rd=1_200_000, invention=True)
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=policy_data()))
    granted = application_submit(actor=firm_admin, policy=policy, organization_id=f.pk, note="")
    application_decide(actor=admin, application=granted, grant=True, amount="120000", reason="")
    pending = application_submit(actor=waiting_admin, policy=policy, organization_id=waiting.pk, note="")
    with pytest.raises(Forbidden):
        policy_close(actor=firm_admin, policy=policy)
    policy_close(actor=admin, policy=policy)
    policy.refresh_from_db()
    assert policy.status == "closed"
    with pytest.raises(ValidationFailed):
        policy_close(actor=admin, policy=policy)
    with pytest.raises(ValidationFailed):  # no new applications
        application_submit(actor=firm_admin, policy=policy, organization_id=f.pk, note="再申请")
    with pytest.raises(ValidationFailed):  # nor changes
        policy_update(actor=admin, policy=policy, data={"title_zh": "改名"})
    application_decide(actor=admin, application=pending, grant=False, amount="", reason="预算已用完")  # still decided
    # anyone reading the policy sees who was granted how much; not who was refused, nor what they wrote
    page = Client().get(f"/policies/{policy.pk}/").content.decode()
    grants = page[page.index('id="grants"') :]
    grants = grants[: grants.index("</table>")]
    assert f.name_zh in grants and "120,000" in grants and waiting.name_zh not in grants
    assert "预算已用完" not in page


def test_a_rule_naming_codes_no_catalogue_holds_is_refused_with_likely_ones(agency, ref):
    """Policy review 58 M1: `certifications has "高新技术企业"` was published; nobody could ever meet it, and near
    misses were told to."""
    from agglo.profiles.models import CapabilityTerm

    admin, org = agency
    CapabilityTerm.objects.get_or_create(
        code="high-tech-enterprise",
        defaults={"name_zh": "高新技术企业", "name_en": "High-tech enterprise", "kind": "certification"},
    )
    data = policy_data(rule='certifications has "高新技术企业" and province in ["440000", "990000"]')
    with pytest.raises(ValidationFailed) as refused:
        policy_create(actor=admin, issuer=org, data=data)
    said = refused.value.errors["rule"]
    assert len(said) == 2
    assert "高新技术企业" in said[0] and "high-tech-enterprise" in said[0]  # what was likely meant
    assert "990000" in said[1]
    ok = policy_create(actor=admin, issuer=org, data=policy_data(rule='certifications has "high-tech-enterprise"'))
    assert ok.rule == 'certifications has "high-tech-enterprise"'


def test_an_agency_narrows_the_needs_to_its_own_province(agency, member_of, client):
    """Policy review 58 M6: a district agency saw every need in the country, with no way to narrow them."""
    from agglo.policy.needs import need_submit

    admin, _org = agency  # 深圳市科技创新局, in Guangdong
    near_admin, near = member_of("near-firm", region="440300")
    far_admin, far = member_of("far-firm", region="510100")
    need_submit(
        actor=near_admin, organization_id=near.pk, data={"topic": "financing", "text": "首台套设备贷款难，希望贴息"}
    )
    need_submit(actor=far_admin, organization_id=far.pk, data={"topic": "tax", "text": "研发费用加计扣除流程太复杂"})
    client.force_login(admin)
    everywhere = client.get("/policies/needs/").content.decode()
    assert "共 2 条需求" in everywhere and "加计扣除" in everywhere
    # its own province is the first offered, and narrows the dashboard and the list
    picker = everywhere[everywhere.index('id="id_province"') :]
    assert picker.index('value="440000"') < picker.index('value="110000"')
    own = client.get("/policies/needs/?province=440000").content.decode()
    assert "共 1 条需求" in own and "首台套" in own and "加计扣除" not in own.split('id="answered"')[0]
