"""web/static/web/clicks.js in a real browser: opening a result (left or middle click) reports it once, a right
click (to copy the link, say) reports nothing (review 30). The page is a bare fixture, no server."""

from __future__ import annotations

from pathlib import Path

import pytest

import agglo

SCRIPT = (Path(agglo.__file__).parent / "web/static/web/clicks.js").read_text()

PAGE = """<html><body hx-headers='{"X-CSRFToken": "t"}'>
<a id="r" href="#opened" data-click="/matching/open/" data-q="5" data-item="7" data-rank="1">result</a>
<script>window.sent = []; navigator.sendBeacon = (url, body) => {
  window.sent.push([url, Object.fromEntries(body.entries())]); return true; };</script>
</body></html>"""


@pytest.mark.parametrize(("button", "reported"), [("left", 1), ("middle", 1), ("right", 0)])
def test_only_opening_a_result_reports_a_click(page, button, reported):
    page.set_content(PAGE)
    page.add_script_tag(content=SCRIPT)
    page.click("#r", button=button)
    sent = page.evaluate("window.sent")
    assert len(sent) == reported, (button, sent)
    if sent:
        url, fields = sent[0]
        assert url == "/matching/open/"
        assert fields == {"q": "5", "item": "7", "rank": "1", "csrfmiddlewaretoken": "t"}
