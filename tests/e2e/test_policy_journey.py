"""Government in the browser: an agency drafts a subsidy with a rule (a malformed one is refused with its
position), publishes it; an eligible firm sees it on its home page with the reasons, a near miss sees what it
lacks; firms file needs in Chinese and English, and the agency sees them grouped and answers. Strict CSP."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agglo.policy.models import Policy, PolicyNeed
from tests.e2e.test_admission_journey import login
from tests.policy.test_services import firm

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
RULE = "headcount <= 500 and rd_intensity >= 5% and ip_invention >= 1"


def with_password(user, password):
    user.set_password(password)
    user.save()


def test_agency_publishes_firms_see_eligibility_and_needs_are_grouped_and_answered(live_server, page, member_of):
    base = live_server.url
    agency_admin, agency = member_of("e2e-agency", kind="government", name_zh="深圳市科技创新局")
    good_admin, good = firm(member_of, "e2e-good", rd=1_200_000, invention=True)  # 10 %
    near_admin, near = firm(member_of, "e2e-near", rd=384_000, invention=True)  # 3.2 %
    for user in (agency_admin, good_admin, near_admin):
        with_password(user, "Journey-pass-2026")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # The agency drafts: a malformed rule is refused with where and why, nothing saved; then the right one.
    login(page, base, "e2e-agency", "Journey-pass-2026")
    page.goto(f"{base}/policies/new/")
    page.fill("#id_title_zh", "研发投入后补助")
    page.fill("#id_starts_on", "2026-01-01")
    page.fill("#id_budget", "5000000")
    page.select_option("#id_region_scope", ["440300"])
    page.fill("#id_rule", "headcount <= 500 and rd_intensity >=")
    page.click("#policy-form button[type=submit]")
    expect(page.locator("#error-rule")).to_contain_text("37")  # the end of the rule, where a number was due
    assert not Policy.objects.exists()
    page.fill("#id_rule", RULE)
    page.click("#policy-form button[type=submit]")
    page.get_by_role("button", name="发布并匹配成员").click()
    policy = Policy.objects.get()
    assert policy.status == "published"
    expect(page.locator("#matches")).to_contain_text(good.name_zh)

    # The eligible firm: on its home page, with the reasons.
    page.context.clear_cookies()
    login(page, base, "e2e-good", "Journey-pass-2026")
    page.goto(f"{base}/")
    mine = page.locator("#policies-for-me")
    expect(mine).to_contain_text("研发投入后补助")
    expect(mine).to_contain_text("符合条件")
    expect(mine.locator("details.reasons")).to_contain_text("研发投入强度 ≥ 5 %")
    # It files a need in Chinese.
    page.goto(f"{base}/policies/needs/")
    page.select_option("#need-form select[name=topic]", "financing")
    page.fill("#need-form textarea[name=text]", "银行贷款都要求房产抵押，轻资产的科技企业很难贷到款。")
    page.click("#need-form button[type=submit]")
    expect(page.locator("#needs")).to_contain_text("房产抵押")

    # The near miss: what it lacks, with its own value; it files the same need in English, and another.
    page.context.clear_cookies()
    login(page, base, "e2e-near", "Journey-pass-2026")
    page.goto(f"{base}/")
    expect(page.locator("#policies-for-me")).to_contain_text("研发投入强度 ≥ 5 %")
    expect(page.locator("#policies-for-me")).to_contain_text("3.2 %")
    page.goto(f"{base}/policies/{policy.pk}/")
    expect(page.locator("#eligibility")).to_contain_text("3.2 %")
    for topic, text in (
        ("financing", "Banks want property as collateral, so an asset-light tech firm cannot get a loan."),
        ("talent", "我们招不到有经验的芯片设计工程师，人才不愿意来小城市。"),
    ):
        page.goto(f"{base}/policies/needs/")
        page.select_option("#need-form select[name=topic]", topic)
        page.fill("#need-form textarea[name=text]", text)
        page.click("#need-form button[type=submit]")
    expect(page.locator("#needs tr")).to_have_count(3)  # header + its own two, not the other firm's

    # The agency sees the two loan needs grouped across languages, the trend chart, and answers the group.
    page.context.clear_cookies()
    login(page, base, "e2e-agency", "Journey-pass-2026")
    page.goto(f"{base}/policies/needs/")
    group = page.locator("#clusters tr:has(td)")
    expect(group).to_have_count(1)  # the loan needs; the talent need stands alone
    typical = group.locator("td").nth(1).inner_text()
    assert "抵押" in typical or "collateral" in typical, typical
    expect(group.locator("td").nth(2)).to_have_text("2")
    expect(page.locator("#needs-chart[data-rendered='1']")).to_have_count(1)
    expect(page.locator("#needs-trend-table tr")).not_to_have_count(0)  # the chart's figures as text (review 49)
    group.get_by_role("link").click()
    expect(page.locator("#group-filter")).to_be_visible()
    expect(page.locator("#needs tr")).to_have_count(3)  # header + the two loan needs
    answer = page.locator("#needs tr", has_text="Banks want property").locator("form")
    answer.locator("textarea").fill("知识产权质押贷款贴息政策已发布，请见链接。")
    answer.locator("select").select_option(str(policy.pk))
    answer.get_by_role("button").click()
    english = PolicyNeed.objects.get(text__startswith="Banks want")
    assert english.answer.startswith("知识产权质押") and english.policy_id == policy.pk

    # The firm sees the answer and the policy it links to.
    page.context.clear_cookies()
    login(page, base, "e2e-near", "Journey-pass-2026")
    page.goto(f"{base}/policies/needs/")
    expect(page.locator("#needs")).to_contain_text("知识产权质押贷款贴息政策已发布")
    expect(page.locator("#needs").get_by_role("link", name="研发投入后补助")).to_have_count(1)
    assert not [e for e in errors if "Content Security Policy" in e], errors
