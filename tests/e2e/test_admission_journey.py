"""A new firm applies, an operator admits it, its admin logs in; a visitor browses in Chinese and English."""

import re

import pytest
from playwright.sync_api import expect

from agglo.registry.models import Admission
from tests.conftest import PDF, make_uscc, user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(page, base, username, password):
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form.form button[type=submit]")


def test_apply_review_approve_and_log_in(live_server, page, ref, tmp_path):
    base = live_server.url
    user("e2e-operator", role="operator", password="Operator-pass-2026")
    licence = tmp_path / "licence.pdf"
    licence.write_bytes(PDF)

    page.goto(f"{base}/apply/")
    expect(page.locator("h1")).to_contain_text("申请")
    page.fill("#id_name_zh", "武汉光启智能装备有限公司")
    page.fill("#id_name_en", "Wuhan Guangqi Intelligent Equipment Co., Ltd.")
    page.select_option("#id_kind", "tech_sme")
    page.select_option("#id_region", "420100")  # picked by name from the province's cities
    page.fill("#id_uscc", "91420100MA4KXXXX0X")  # wrong check character first
    page.fill("#id_contact_name", "陈静")
    page.fill("#id_contact_email", "chen@guangqi.example")
    page.fill("#id_password", "Guangqi-pass-2026")
    page.fill("#id_password_again", "Guangqi-pass-2026")
    page.set_input_files("#id_documents", str(licence))
    page.click("form.form button[type=submit]")
    error = page.locator('[data-field="uscc"] .errorlist')
    expect(error).to_contain_text("GB 32100-2015")

    page.fill("#id_uscc", make_uscc("420100", "MA4KXXXX0"))
    page.fill("#id_password", "Guangqi-pass-2026")
    page.fill("#id_password_again", "Guangqi-pass-2026")
    page.set_input_files("#id_documents", str(licence))
    page.click("form.form button[type=submit]")
    expect(page.locator("#admission-status")).to_have_attribute("data-status", "submitted")
    status_url = page.url

    login(page, base, "e2e-operator", "Operator-pass-2026")
    page.goto(f"{base}/review/")
    page.click("text=武汉光启智能装备有限公司")
    page.fill("#id_note", "资料齐全，欢迎加入")
    page.click("button[value=approve]")
    expect(page.locator("#admission-status")).to_have_attribute("data-status", "approved")
    assert Admission.objects.get().organization.status == "member"

    page.context.clear_cookies()
    page.goto(status_url)
    expect(page.locator("#admission-status")).to_have_attribute("data-status", "approved")
    login(page, base, "chen@guangqi.example", "Guangqi-pass-2026")
    expect(page.locator(".who")).to_contain_text("chen@guangqi.example")


def test_browse_directory_and_chain_map_in_both_languages(live_server, page, make_org):
    base = live_server.url
    make_org(name_zh="深圳华芯集成电路设计有限公司", name_en="Shenzhen Huaxin IC Design Co., Ltd.", tags=["芯片"])
    make_org(
        name_zh="苏州博远生物医药有限公司",
        name_en="Suzhou Boyuan Biopharma Co., Ltd.",
        region="320500",
        uscc=make_uscc("320500", "MA1BBBBB1"),
        kind="enterprise",
    )

    page.goto(f"{base}/directory/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("成员名录")
    page.fill("input[name=q]", "集成电路")
    page.press("input[name=q]", "Enter")
    expect(page.locator("#result-count")).to_contain_text("1")
    expect(page.locator(".results")).to_contain_text("深圳华芯集成电路设计有限公司")

    page.fill("input[name=q]", "")
    page.press("input[name=q]", "Enter")
    page.click('a[data-facet="kind"][data-value="enterprise"]')
    expect(page.locator(".results")).to_contain_text("苏州博远生物医药有限公司")
    expect(page.locator(".results")).not_to_contain_text("深圳华芯")
    assert re.search(r"kind=enterprise", page.url)
    # a search after a filter chosen on the results keeps the filter (review 49 a11y F1: it was dropped)
    page.fill("input[name=q]", "有限公司")
    page.press("input[name=q]", "Enter")
    expect(page).to_have_url(re.compile(r"kind=enterprise"))
    expect(page.locator(".results")).to_contain_text("苏州博远生物医药有限公司")
    expect(page.locator(".results")).not_to_contain_text("深圳华芯")
    page.fill("input[name=q]", "")
    page.press("input[name=q]", "Enter")
    expect(page).to_have_url(re.compile(r"kind=enterprise"))

    page.click(".lang button")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Member directory")
    expect(page.locator(".results")).to_contain_text("Suzhou Boyuan Biopharma")

    page.goto(f"{base}/chains/ic/")
    expect(page.locator("#gap-count")).to_contain_text("gap")
    expect(page.locator(".segment.gap").first).to_be_visible()
    expect(page.locator("#chain-graph canvas")).to_have_count(1)
