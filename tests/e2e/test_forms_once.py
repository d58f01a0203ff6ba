"""A form sent twice, in a real browser. web/static/web/once.js: a form that changes something goes out once however
often it is submitted while the next page loads (review 37: a double click made two orders); a question declined
does not count, a search form is not held back, and htmx's own forms are left to htmx. The page is a bare fixture:
a last listener records which submits would have gone out, and keeps the page where it is. Where the script cannot
help, the server's guard answers a form sent again as it was with the first send's result."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

import agglo
from agglo.factory.models import Order
from tests.e2e.test_admission_journey import login
from tests.e2e.test_factory_journey import member

STATIC = Path(agglo.__file__).parent / "web/static/web"

PAGE = """<html><body>
<form id="order" method="post" action="/send"><input name="product" value="x"><button id="go">Save</button></form>
<form id="ask" method="post" action="/send" data-confirm="Sure?"><button id="ask-go">Delete</button></form>
<form id="find" method="get" action="/find"><button>Search</button></form>
<form id="live" method="post" hx-post="/live"><button>Live</button></form>
</body></html>"""

RECORD = """window.went = [];
document.addEventListener("submit", (e) => {
  if (!e.defaultPrevented) window.went.push(e.target.id);
  e.preventDefault();
});"""


def test_a_form_goes_out_once_while_the_next_page_loads(page):
    page.set_content(PAGE)
    page.add_script_tag(content=(STATIC / "confirm.js").read_text())
    page.add_script_tag(content=(STATIC / "once.js").read_text())
    page.add_script_tag(content=RECORD)
    page.once("dialog", lambda d: d.dismiss())
    page.click("#ask-go")  # a declined question: nothing goes out, and the form may be sent later
    page.once("dialog", lambda d: d.accept())
    page.click("#ask-go")
    page.dblclick("#go")  # a double click
    page.click("#go")  # and once more, impatient
    for form in ("find", "find", "live", "live"):
        page.evaluate(f"document.getElementById('{form}').requestSubmit()")
    assert page.evaluate("window.went") == ["ask", "order", "find", "find", "live", "live"]
    assert page.locator("#order").get_attribute("aria-busy") == "true"


def order_form_filled(page, base):
    """The buyer logged in, on the new-order form, filled in with a one-step order."""
    login(page, base, "buyer", "buyer-Pass-2026")
    page.goto(f"{base}/factory/orders/new/")
    page.fill("#id_product", "工业网关外壳")
    page.fill("#id_quantity", "600")
    page.fill("#id_due_week", (dt.date.today() + dt.timedelta(weeks=7)).isoformat())
    page.select_option("select[name=op-1-process]", "cnc")
    page.fill("input[name=op-1-quantity]", "600")


@pytest.mark.django_db(transaction=True)
def test_an_order_form_sent_again_after_a_lost_answer_makes_one_order(live_server, browser, make_org):
    """The server's own guard (`web.middleware.ResentFormMiddleware`), where the page's script cannot help (here it
    does not run at all): the first send's answer is lost on the way, the user reloads the error page, which sends
    the same form again, and the order is made once; the second send lands on the first one's order. (Going back
    to the form may instead draw it afresh, with the browser refilling its fields: a new form, which the page asks
    about before it makes a second order; the next test.)"""
    base = live_server.url
    _buyer, org = member(make_org, "深圳智联网关有限公司", "440300", "MD000000X", "buyer")
    context = browser.new_context(locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    order_form_filled(page, base)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.post_data or "") if r.method == "POST" else None)

    def lost(route):  # the server acts, but its answer never reaches the browser (a proxy timed out)
        route.fetch(max_redirects=0)
        route.fulfill(status=504, body="Gateway Timeout")

    page.route(
        "**/factory/orders/new/", lambda route: lost(route) if route.request.method == "POST" else route.continue_()
    )
    page.click("#save-draft")
    page.wait_for_load_state()
    page.unroute("**/factory/orders/new/")
    assert Order.objects.filter(buyer=org).count() == 1  # done, though the browser was told otherwise
    page.reload()  # "try again": the browser sends the same form once more
    page.wait_for_url(re.compile(r"/factory/orders/\d+/$"))
    assert len(posts) == 2 and posts[0] == posts[1]  # the same form reached the server twice
    assert Order.objects.filter(buyer=org).count() == 1
    expect(page.locator(".messages")).to_contain_text("此表单已提交过")
    context.close()


@pytest.mark.django_db(transaction=True)
def test_going_back_to_a_sent_order_form_asks_before_a_second_order(live_server, browser, make_org):
    """Back to the order form after it was sent: Chromium draws the form again and refills its fields, so sending
    it again is a new form with the same content. The page asks before it makes a second order."""
    base = live_server.url
    _buyer, org = member(make_org, "深圳智联网关有限公司", "440300", "MD000000X", "buyer")
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    order_form_filled(page, base)
    page.click("#save-draft")
    page.wait_for_url(re.compile(r"/factory/orders/\d+/$"))
    first = page.url
    page.go_back()
    expect(page.locator("#id_product")).to_have_value("工业网关外壳")  # refilled by the browser
    page.click("#save-draft")
    expect(page.locator("#resend-confirm")).to_be_visible()
    assert Order.objects.filter(buyer=org).count() == 1
    assert page.locator("#resend-earlier").get_attribute("href") == first.removeprefix(base)
    page.click("#resend-confirm button[type=submit]")  # yes, a second order
    page.wait_for_url(re.compile(r"/factory/orders/\d+/$"))
    assert page.url != first and Order.objects.filter(buyer=org).count() == 2
    context.close()
