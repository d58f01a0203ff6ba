"""web/static/web/once.js in a real browser: a form that changes something goes out once however often it is
submitted while the next page loads (review 37: a double click made two orders); a question declined does not
count, a search form is not held back, and htmx's own forms are left to htmx. The page is a bare fixture: a last
listener records which submits would have gone out, and keeps the page where it is."""

from __future__ import annotations

from pathlib import Path

import agglo

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
