"""The site header at the widths people use (review 107): from a tablet to a wide screen it keeps one row in Chinese
and English, for a member and an operator; the links that do not fit that row are under "More", which the keyboard
opens and Escape closes; on a phone they all fold behind "Menu"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from agglo.common.notify import notify
from tests.conftest import user
from tests.e2e.test_admission_journey import login
from tests.e2e.test_factory_journey import member

pytestmark = [pytest.mark.e2e, pytest.mark.looks, pytest.mark.django_db(transaction=True)]

MEMBER_LINKS = {
    "zh-hans": [
        "成员名录",
        "产业链",
        "能力与资质",
        "需求与供给",
        "推荐合作伙伴",
        "虚拟工厂",
        "导入导出",
        "政策",
        "透明日志",
    ],
    "en": [
        "Directory",
        "Industry chains",
        "Capabilities",
        "Needs and offers",
        "Suggested partners",
        "Virtual factory",
        "Import / export",
        "Policies",
        "Transparency log",
    ],
}
OPERATIONS = ["审核队列", "需求供给审核", "异议裁决", "管理后台"]
ONE_ROW = """() => {
  // every control of the header starts above where the brand ends and ends below where it starts
  const brand = document.querySelector("header .brand").getBoundingClientRect();
  const items = [...document.querySelectorAll("header nav > *, header .session > *")].filter(
    (el) => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden");
  return items.filter((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= brand.bottom || r.bottom <= brand.top;
  }).map((el) => el.textContent.trim());
}"""


def in_language(page, language):
    switch = page.locator(f"form.lang button[value='{language}']")
    if switch.count():
        switch.click()
        page.wait_for_load_state()


def reached_by_tab(page) -> list[str]:
    """The names of the menu's links the keyboard reaches from the brand to the session, opening each disclosure
    (More, Operations) on the way; each must be on screen when it has focus."""
    page.locator("header .brand").focus()
    names: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if not focused.evaluate("el => !!el.closest('#site-nav')"):
            break
        box = focused.bounding_box()
        assert box and box["width"] > 0 and box["y"] >= 0, focused.text_content()
        if focused.evaluate("el => el.tagName") == "SUMMARY":
            page.keyboard.press("Enter")
            expect(focused.locator("xpath=..")).to_have_attribute("open", "")
        else:
            names.append(focused.text_content().strip())
    return names


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_header_keeps_one_row_and_every_link_in_reach(live_server, page, make_org, language):
    member(make_org, "深圳智联网关有限公司", "440300", "MD000000X", "gateway-buyer-admin")  # a long name, too
    base = live_server.url
    login(page, base, "gateway-buyer-admin", "gateway-buyer-admin-Pass-2026")
    in_language(page, language)
    for width in (700, 1024, 1100, 1250, 1280, 1440, 1920):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{base}/factory/")
        assert page.evaluate(ONE_ROW) == [], width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        expect(page.locator(".menu-button")).to_be_hidden()
        assert reached_by_tab(page) == MEMBER_LINKS[language], width
    # "More" holds the last links at a laptop's width; Escape closes it and the keyboard is back on it
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(f"{base}/factory/")
    more = page.locator("#nav-overflow")
    expect(more).to_be_visible()
    more.locator("summary").click()
    expect(more.get_by_role("link", name=MEMBER_LINKS[language][-1])).to_be_visible()
    page.keyboard.press("Escape")
    expect(more.get_by_role("link", name=MEMBER_LINKS[language][-1])).to_be_hidden()
    expect(more.locator("summary")).to_be_focused()
    more.locator("summary").click()
    page.locator("footer").click()  # a click elsewhere closes it too
    expect(more.get_by_role("link", name=MEMBER_LINKS[language][-1])).to_be_hidden()
    # a wide screen has room for them all
    page.set_viewport_size({"width": 1920, "height": 800})
    page.goto(f"{base}/factory/")
    expect(more).to_be_hidden()
    # a phone folds them all behind "Menu", "More" stays out of it
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{base}/factory/")
    menu = page.locator("button.menu-button")
    menu.click()
    for name in MEMBER_LINKS[language]:
        expect(page.locator("#site-nav").get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(more).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_the_operators_menu_fits_the_row_too(live_server, page):
    user("e2e-operator", role="operator", password="Operator-pass-2026")
    base = live_server.url
    login(page, base, "e2e-operator", "Operator-pass-2026")
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{base}/factory/")
        assert page.evaluate(ONE_ROW) == [], width
        assert reached_by_tab(page) == MEMBER_LINKS["zh-hans"] + OPERATIONS, width
        # the keyboard gone past them, neither stays open over the page
        expect(page.locator("details.nav-more[open]")).to_have_count(0)
        page.locator("#nav-operations summary").click()
        page.keyboard.press("Escape")
        expect(page.locator("#nav-operations")).not_to_have_attribute("open", "")
        expect(page.locator("#nav-operations summary")).to_be_focused()


def test_the_notifications_link_underlines_its_word_only(live_server, page, make_org):
    """The unread count beside "Notifications" is a badge of its own: the link's underline stops at the word,
    not under the space before the badge (review 109), and the link still reads "Notifications 2"."""
    admin, _ = member(make_org, "深圳智联网关有限公司", "440300", "MD000000X", "gateway-buyer-admin")
    for text in ("一条通知", "又一条通知"):
        notify([admin], verb="t", text=text, email=False)
    base = live_server.url
    login(page, base, "gateway-buyer-admin", "gateway-buyer-admin-Pass-2026")
    for language in ("zh-hans", "en"):
        in_language(page, language)
        link = page.locator("#nav-notifications")
        expect(link.locator(".badge")).to_have_text("2")
        word = {"zh-hans": "通知", "en": "Notifications"}[language]
        expect(page.get_by_role("link", name=f"{word} 2", exact=True)).to_be_visible()
        # what is underlined is the word: nothing the link's own decoration would carry under the space
        assert link.evaluate("a => getComputedStyle(a).textDecorationLine") == "none"
        label = link.locator("span").first
        expect(label).to_have_text(word)
        assert label.evaluate("s => getComputedStyle(s).textDecorationLine") == "underline"
