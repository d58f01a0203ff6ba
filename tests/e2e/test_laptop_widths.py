"""The virtual factory on a 1,024 px screen (review 107), in Chinese and English: the plan chart's factory names
keep their column's width (at most three lines in Chinese) and its processes break only between words, dates do not
break at their hyphens, and the job board's answers fit the screen without sideways scrolling."""

from __future__ import annotations

import pytest

from tests.e2e.test_accessibility import PASSWORD, cluster, place_order  # noqa: F401 (a fixture)
from tests.e2e.test_admission_journey import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# how many lines an element's text takes
LINES = """el => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].map((box) => Math.round(box.top))).size;
}"""


def in_language(page, language):
    switch = page.locator(f"form.lang button[value='{language}']")
    if switch.count():
        switch.click()
        page.wait_for_load_state()


def test_plan_and_job_board_read_on_a_laptop(live_server, browser, cluster):  # noqa: F811
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    login(page, base, "buyer", PASSWORD.format("buyer"))
    order = place_order(page, base)
    for language in ("zh-hans", "en"):
        in_language(page, language)
        page.goto(f"{base}/factory/orders/{order.pk}/")
        for row in page.locator("#gantt tr:has(th[scope=row])").all():
            factory, process = row.locator("th").nth(0), row.locator("th").nth(1)
            # not squeezed to the scrolling tables' narrow columns (a name took five lines): at least 8rem wide,
            # which keeps a Chinese name to three lines (an English one's length varies with the fixture's names)
            assert factory.evaluate("el => el.getBoundingClientRect().width") >= 127, factory.text_content()
            if language == "zh-hans":
                assert factory.evaluate(LINES) <= 3, factory.text_content()
            # broken only between words: 数控加工 on one line, "CNC machining" on one or two
            assert process.evaluate(LINES) <= len(process.text_content().split()), process.text_content()
        for cell in page.locator("#allocations td.date").all():
            assert cell.evaluate(LINES) == 1, cell.text_content()
    context.close()

    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    login(page, base, "suzhou", PASSWORD.format("suzhou"))
    for language in ("zh-hans", "en"):
        in_language(page, language)
        page.goto(f"{base}/factory/jobs/")
        board = page.locator("#offered")
        assert board.locator("td.answers").count()
        assert board.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), language
        for date in board.locator(".date").all():
            assert date.evaluate(LINES) == 1, date.text_content()
    context.close()
