"""The capacity calendar's "Set week" form: an error comes back on the page, with what was typed, and saves nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agglo.factory.models import Allocation, CapacitySlot
from agglo.factory.services import jobs, orders
from tests.factory.conftest import order_data
from tests.factory.test_third_review import logged

pytestmark = pytest.mark.django_db


def test_a_refused_week_keeps_what_was_typed_and_changes_nothing(cluster: dict[str, Any]) -> None:
    buyer, sz, org = cluster["people"]["buyer"], cluster["people"]["sz"], cluster["orgs"]["sz"]
    order = orders.order_plan(
        actor=buyer, order=orders.order_create(actor=buyer, data=order_data(buyer=cluster["orgs"]["buyer"].pk))
    )
    a = Allocation.objects.filter(order=order, status="offered", factory=org).first()
    jobs.allocation_respond(actor=sz, allocation=a, action="accept")
    slot = CapacitySlot.objects.get(capability=a.capability, week=a.week)
    before = slot.capacity
    c = logged(sz)
    sent = {"capability": a.capability_id, "week": a.week.isoformat(), "capacity": str(a.quantity - 1)}
    r = c.post("/factory/capacity/", {**sent, "from": a.week.isoformat()})
    page = r.content.decode()
    assert r.status_code == 400
    form = page[page.index('id="week-form"') :]
    form = form[: form.index("</form>")]
    assert "Capacity: Must not be below the" in form  # at the form, naming the field
    assert f'value="{a.quantity - 1}"' in form
    assert re.search(rf'<option value="{a.capability_id}" selected>', form)
    assert f'<option value="{a.week.isoformat()}" selected>' in form
    assert form.count(" selected>") == 2
    # the declaration form below is not shown as failed
    assert "This field is required" not in page
    slot.refresh_from_db()
    assert slot.capacity == before
    # a figure that is not a number: named, and still nothing saved
    r = c.post("/factory/capacity/", {**sent, "capacity": "lots"})
    assert r.status_code == 400 and 'value="lots"' in r.content.decode()
    slot.refresh_from_db()
    assert slot.capacity == before
    # a good figure still goes back to the calendar with the week in view
    r = c.post("/factory/capacity/", {**sent, "capacity": str(a.quantity + 5), "from": a.week.isoformat()})
    assert r.status_code == 302 and f"from={a.week.isoformat()}" in r["Location"]
    slot.refresh_from_db()
    assert slot.capacity == a.quantity + 5
