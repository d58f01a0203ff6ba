"""An owner fills in and imports its facts and watches its quality score rise; another member sees only what the
owner allows, and the owner reads that access in its log; a bad file reports every bad row and writes nothing."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agglo.access.models import Membership
from agglo.profiles.models import FinancialStatement
from agglo.profiles.tabular import write_csv
from tests.conftest import user
from tests.e2e.test_admission_journey import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
HEADER = ("uscc", "year", "revenue", "total_assets", "total_liabilities", "equity", "rd_expense")


def score(page) -> float:
    return float(page.locator("#quality-score").inner_text())


def test_owner_fills_in_imports_and_controls_who_sees(live_server, page, make_org, tmp_path):
    base = live_server.url
    firm = make_org(name_zh="深圳芯测科技有限公司", contact_name="李工", contact_email="li@xince.example")
    peer_org = make_org(name_zh="苏州合创精密有限公司")
    owner = user("xince-admin", password="Xince-pass-2026")
    Membership.objects.create(user=owner, organization=firm, role="admin")
    peer = user("hechuang", password="Hechuang-pass-2026")
    Membership.objects.create(user=peer, organization=peer_org, role="admin")

    login(page, base, "xince-admin", "Xince-pass-2026")
    page.goto(f"{base}/organizations/{firm.pk}/")
    first = score(page)
    expect(page.locator("#quality-fixes")).to_contain_text("财务报表")

    # A statement whose balance sheet does not add up is refused beside the field; corrected, it is saved.
    page.click("#tab-finances")
    page.click("#add-statement")
    for name, value in {
        "year": "2025",
        "revenue": "30000000",
        "total_assets": "50000000",
        "total_liabilities": "20000000",
        "equity": "10000000",
    }.items():
        page.fill(f"#id_{name}", value)
    page.click("#fact-form button[type=submit]")
    expect(page.locator("#fact-form .errorlist").first).to_contain_text("资产总额")
    page.fill("#id_equity", "30000000")
    page.click("#fact-form button[type=submit]")
    expect(page.locator("#statements")).to_contain_text("2025")
    expect(page.locator("#indicators")).to_contain_text("40.0%")  # debt ratio 20/50
    # deleting asks first: a statement has no undo; declining the question keeps it
    asked: list[str] = []
    page.wait_for_load_state("load")  # the question comes from a deferred script
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.locator("#statements form[data-confirm] button").first.click()
    expect(page.locator("#statements")).to_contain_text("2025")
    assert asked and "无法恢复" in asked[0]

    # A bad file: every bad row listed, nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        write_csv(
            HEADER,
            [
                (firm.uscc, 2024, "-1", 10, 5, 5, ""),
                (firm.uscc, 2023, 10, 10, 5, 1, ""),
                (firm.uscc, 2022, 10, 10, 5, 5, ""),
            ],
        )
    )
    page.goto(f"{base}/profiles/import/")
    page.select_option("#id_kind", "financials")
    page.set_input_files("#id_file", str(bad))
    page.uncheck("#id_dry_run")
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-errors tbody tr")).to_have_count(2)
    assert FinancialStatement.objects.filter(organization=firm).count() == 1
    good = tmp_path / "good.csv"
    good.write_bytes(write_csv(HEADER, [(firm.uscc, 2024, 26_000_000, 45_000_000, 19_000_000, 26_000_000, 2_000_000)]))
    page.set_input_files("#id_file", str(good))
    page.uncheck("#id_dry_run")
    page.click("#import-form button[type=submit]")
    expect(page.locator("#import-result")).to_contain_text("新增 1 条")

    page.goto(f"{base}/organizations/{firm.pk}/tab/capabilities/")
    page.click("#add-capability")
    page.select_option("#id_term", "iso-9001")
    page.fill("#id_certificate_no", "00124Q31234R0S")
    page.click("#fact-form button[type=submit]")
    expect(page.locator("#capabilities")).to_contain_text("ISO 9001")
    page.goto(f"{base}/organizations/{firm.pk}/")
    assert score(page) > first

    # Another member: contacts at "members" are shown (and logged); financials at "partners" are not.
    page.context.clear_cookies()
    login(page, base, "hechuang", "Hechuang-pass-2026")
    page.goto(f"{base}/organizations/{firm.pk}/")
    expect(page.locator("dl.facts")).to_contain_text("li@xince.example")
    expect(page.locator("#quality-panel")).to_have_count(0)
    page.goto(f"{base}/organizations/{firm.pk}/tab/finances/")
    expect(page.locator("#group-hidden")).to_be_visible()
    expect(page.locator("#tab-access")).to_have_count(0)

    # The owner opens its financials to members; the peer now sees them; the owner reads both views in its log.
    page.context.clear_cookies()
    login(page, base, "xince-admin", "Xince-pass-2026")
    page.goto(f"{base}/organizations/{firm.pk}/")
    page.select_option("#id_financials_visibility", "members")
    page.click("#disclosure-form button[type=submit]")
    page.context.clear_cookies()
    login(page, base, "hechuang", "Hechuang-pass-2026")
    page.goto(f"{base}/organizations/{firm.pk}/tab/finances/")
    expect(page.locator("#statements")).to_contain_text("2024")
    page.context.clear_cookies()
    login(page, base, "xince-admin", "Xince-pass-2026")
    page.goto(f"{base}/organizations/{firm.pk}/tab/access/")
    # the viewer by number and organization, never by login (review 44 F4)
    expect(page.locator("#access-log")).to_contain_text(f"用户 #{peer.pk}")
    expect(page.locator("#access-log")).not_to_contain_text("hechuang")
    expect(page.locator("#access-log")).to_contain_text("财务")
    expect(page.locator("#access-log")).to_contain_text("联系方式")
    page.goto(f"{base}/organizations/{firm.pk}/tab/history/")
    expect(page.locator("#history")).to_contain_text("财务报表 · 导入")
    expect(page.locator("#history")).to_contain_text("财务报表 · 新增")
