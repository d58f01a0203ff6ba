"""Accessibility in a real browser: axe-core (4.12, bundled by axe-playwright-python) finds no violation on the
platform's main pages, in Chinese and English, for a visitor, a buyer and a factory, at desktop and phone width;
and what axe cannot judge is checked by hand: the skip link, the directory's spoken result count, the plan chart's
row headers and status words, where focus goes after a failed form, and a table that scrolls on a phone taking
focus (review a11y35)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from agglo.access.models import Invitation
from agglo.factory.models import Order
from agglo.factory.services.capacity import capability_save
from agglo.registry.models import Chain
from tests.e2e.test_admission_journey import login
from tests.e2e.test_factory_journey import member

pytestmark = [pytest.mark.long, pytest.mark.e2e, pytest.mark.looks, pytest.mark.django_db(transaction=True)]
AXE = Axe()
PASSWORD = "{}-Pass-2026"


def violations(page) -> list[str]:
    """axe's violations on the page as it stands, one line each: rule, impact, the first offending element."""
    found = AXE.run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}) at {page.url}: {v['nodes'][0]['html'][:160]}" for v in found]


def audit(page, base: str, paths: list[str]) -> list[str]:
    problems: list[str] = []
    for path in paths:
        page.goto(base + path)  # waits for "load": the pages fetch nothing after it
        problems += violations(page)
    return problems


@pytest.fixture
def cluster(make_org):
    """A buyer and two factories in different provinces, with one order planned across them."""
    buyer, buyer_org = member(make_org, "深圳智联网关有限公司", "440300", "MD000000X", "buyer")
    for username, name, region, body, process in (
        ("suzhou", "苏州精工制造有限公司", "320500", "MD000001X", "cnc"),
        ("chengdu", "成都蓉装科技有限公司", "510100", "MD000002X", "surface"),
    ):
        admin, org = member(make_org, name, region, body, username)
        capability_save(
            actor=admin,
            organization_id=org.pk,
            data={
                "process": process,
                "weekly_capacity": 300,
                "unit_cost": "12",
                "setup_cost": "500",
                "min_lot": 50,
                "quality_grade": 2,
            },
        )
    return buyer_org


def place_order(page, base: str) -> Order:
    page.goto(f"{base}/factory/orders/new/")
    page.fill("#id_product", "工业网关外壳")
    page.fill("#id_quantity", "600")
    page.fill("#id_due_week", (dt.date.today() + dt.timedelta(weeks=8)).isoformat())
    for n, (process, after) in enumerate((("cnc", ""), ("surface", "1")), start=1):
        page.select_option(f"select[name=op-{n}-process]", process)
        page.fill(f"input[name=op-{n}-quantity]", "600")
        page.fill(f"input[name=op-{n}-after]", after)
    page.click("#order-form button[type=submit]")
    expect(page.locator("#gantt")).to_contain_text("#1 ×")
    return Order.objects.get()


@pytest.mark.parametrize(("language", "width"), [("zh-hans", 1400), ("en", 1400), ("zh-hans", 375)])
def test_main_pages_have_no_axe_violations(live_server, browser, cluster, language, width):
    base = live_server.url
    chain = Chain.objects.order_by("code").first()
    public = ["/", "/directory/", "/directory/?q=科技", "/chains/", f"/chains/{chain.code}/", "/capabilities/"]
    public += ["/market/", "/policies/", "/ledger/", "/login/", "/apply/"]
    problems: list[str] = []
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.set_default_timeout(20_000)
    problems += audit(page, base, public)
    login(page, base, "buyer", PASSWORD.format("buyer"))
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])  # login resets it
    order = Order.objects.first() or place_order(page, base)
    org = cluster.pk
    problems += audit(
        page,
        base,
        [
            "/factory/",
            "/factory/orders/new/",
            f"/factory/orders/{order.pk}/",
            f"/organizations/{org}/",
            f"/organizations/{org}/tab/finances/",
            f"/organizations/{org}/tab/credit/",
            f"/organizations/{org}/tab/capabilities/",
            f"/organizations/{org}/edit/",
            "/matching/partners/",
            "/profiles/import/",
            "/notifications/",
            "/account/people/",
        ],
    )
    login(page, base, "suzhou", PASSWORD.format("suzhou"))
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    problems += audit(page, base, ["/factory/jobs/", "/factory/capacity/", "/factory/scorecards/"])
    context.close()
    assert not problems, "\n".join(problems)


def test_what_axe_cannot_judge(live_server, browser, cluster, make_org):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)

    # The first tab stop skips the menu to the page's content.
    page.goto(f"{base}/directory/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_class("skip-link")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    # Search as you type: the count is said in a status region that stays in place.
    page.fill(".search input[name=q]", "智联")
    expect(page.locator("#result-status[role=status]")).to_have_text("1 家机构")
    expect(page.locator("#result-count")).to_have_text("1 家机构")
    # Choosing a filter with the keyboard leaves focus on that filter, now marked chosen, not at the top of the page.
    facet = page.locator(".facets a").first
    facet_id = facet.get_attribute("id")
    facet.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#{facet_id}")).to_have_attribute("aria-current", "true")
    expect(page.locator(f"#{facet_id}")).to_be_focused()
    # So does paging: "Next" keeps focus, and on the last page it stays on "Next", shown as unavailable.
    for _ in range(20):  # two pages of members
        make_org()
    page.goto(f"{base}/directory/")
    turned = 0
    for _ in range(10):
        nxt = page.locator("#pager-next")
        if nxt.get_attribute("aria-disabled") == "true":
            break
        nxt.focus()
        page.keyboard.press("Enter")
        expect(page.locator("#pager-previous")).to_have_attribute("href", re.compile("page="))
        expect(page.locator("#pager-next")).to_be_focused()
        turned += 1
    expect(page.locator("#pager-next")).to_have_attribute("aria-disabled", "true")
    assert turned >= 1

    # A failed login: the error is announced and describes both fields.
    page.goto(f"{base}/login/")
    page.fill("#id_username", "buyer")
    page.fill("#id_password", "wrong")
    page.click("form.form button[type=submit]")
    expect(page.locator("#login-error[role=alert]")).to_be_visible()
    for field in ("#id_username", "#id_password"):
        expect(page.locator(field)).to_have_attribute("aria-describedby", "login-error")
        expect(page.locator(field)).to_have_attribute("aria-invalid", "true")

    # A failed order: focus goes to the first field in error, which its message describes.
    login(page, base, "buyer", PASSWORD.format("buyer"))
    page.goto(f"{base}/factory/orders/new/")
    page.fill("#id_product", "工业网关外壳")
    page.click("#order-form button[type=submit]")
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("aria-invalid", "true")
    assert page.title().startswith("错误")
    # a route error marks its row's control, not only the list above the table
    page.fill("#id_quantity", "600")
    page.fill("#id_due_week", (dt.date.today() + dt.timedelta(weeks=8)).isoformat())
    page.select_option("select[name=op-1-process]", "cnc")
    page.fill("input[name=op-1-quantity]", "0")
    page.click("#order-form button[type=submit]")
    quantity = page.locator("input[name=op-1-quantity]")
    expect(quantity).to_have_attribute("aria-invalid", "true")
    expect(quantity).to_have_attribute("aria-describedby", "route-errors")
    expect(quantity).to_be_focused()

    # A page whose first field asks for focus (autofocus) still sends it to the field in error
    page.goto(f"{base}/account/password/")
    page.fill("#id_old_password", PASSWORD.format("buyer"))
    page.fill("#id_new_password1", "abc")
    page.fill("#id_new_password2", "abc")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(":focus")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_old_password")).not_to_be_focused()

    # The plan chart: factories and processes are row headers, each piece of work says its state in words.
    order = place_order(page, base)
    expect(page.locator("#messages")).to_be_focused()  # what was just done is where the reader starts
    assert page.locator("#gantt th[scope=row]").count() >= 4
    offered = order.allocations.filter(status="offered").first()
    badge = page.locator("#gantt .badge").filter(has_text=f"#{offered.operation.seq} ×{offered.quantity}").first
    expect(badge.locator(".visually-hidden")).to_have_text("待答复")
    expect(page.locator("#site-nav a[aria-current=page]")).to_have_text("虚拟工厂")

    # On a phone the plan chart scrolls in its box, which then takes focus for the keyboard.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{base}/factory/orders/{order.pk}/")
    page.wait_for_load_state("networkidle")
    chart = page.locator("div.scroll[aria-labelledby=gantt-title]")
    expect(chart).to_have_attribute("tabindex", "0")
    chart.focus()
    for _ in range(20):  # the arrow key scrolls it (wait_for_function would need eval, which the CSP forbids)
        page.keyboard.press("ArrowRight")
        if chart.evaluate("box => box.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert chart.evaluate("box => box.scrollLeft") > 0

    # A 254-character address wraps in its own column: the role and the buttons of every row keep one line.
    page.set_viewport_size({"width": 1400, "height": 900})
    Invitation.objects.create(
        organization=cluster,
        email="a" * 64 + "@" + "b" * 178 + ".example.cn",  # 254 characters, the most an address may have
        name="李雷",
        token_hash="0" * 64,
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    page.goto(f"{base}/account/people/")
    buttons = page.locator("table.people tr").nth(1).locator("button")
    assert buttons.count() == 2
    heights = [buttons.nth(i).bounding_box()["height"] for i in range(2)]
    assert max(heights) < 40, heights  # one line of text, not three
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    context.close()
