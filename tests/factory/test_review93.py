"""Review 93 of the virtual factory: each test shows one bug found on the current code (and fails on it)."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any

import pytest
from django.utils import timezone

from agglo.access.models import Membership
from agglo.common.errors import ValidationFailed
from agglo.common.models import Notification
from agglo.factory.models import Allocation, Order
from agglo.factory.services.amend import order_amend
from agglo.factory.services.disputes import dispute_answer, dispute_refer, dispute_rule
from agglo.factory.services.execution import allocation_delay
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel, order_create, order_plan
from agglo.factory.weeks import monday
from agglo.profiles.models import OrganizationCapability
from tests.conftest import user
from tests.factory.conftest import accepted_offer, order_data, signed_in
from tests.factory.test_certificates import _certificate, _planned
from tests.factory.test_disputes import disputed

pytestmark = pytest.mark.django_db


def test_a_factory_with_accepted_work_takes_no_new_work_past_its_certificate(cluster: dict[str, Any]) -> None:
    """An order counting certificates on record: Suzhou, the only CNC factory with ISO 9001 on record, is offered
    CNC over three weeks and accepts the first. Its certificate then turns out to run only to the Sunday of that
    first week. Accepted work rightly stays, but planning again still offers Suzhou the CNC work of the two later
    weeks, which its certificate does not cover: `_certified` counts a factory with accepted work on the order
    as holding every certification it declares, in every week, for every step."""
    _certificate(cluster, "su")
    _certificate(cluster, "cd")
    order = _planned(cluster, "on_record")
    su = cluster["orgs"]["su"]
    cnc = list(order.allocations.filter(status="offered", factory=su, operation__seq=1).order_by("week"))
    assert len(cnc) >= 2, [(a.week, a.quantity) for a in cnc]
    allocation_respond(actor=cluster["people"]["su"], allocation=cnc[0], action="accept")
    through = cnc[0].week + dt.timedelta(days=6)  # the certificate runs to the Sunday of the accepted week only
    assert through >= timezone.localdate()  # still valid today: on record
    OrganizationCapability.objects.filter(organization=su).update(valid_until=through)

    again = order_plan(actor=cluster["people"]["buyer"], order=Order.objects.get(pk=order.pk))

    # the accepted week stays with Suzhou (review 92), as it does
    assert again.allocations.filter(pk=cnc[0].pk, status="accepted").exists()
    # but no week its certificate does not reach may be offered to it
    beyond = again.allocations.filter(factory=su, status__in=["offered", "countered"], week__gt=through)
    assert not beyond.exists(), [(a.operation.seq, a.week, a.quantity) for a in beyond.select_related("operation")]


def _terms_form(page: str) -> dict[str, str]:
    """The order page's "change the terms" form as drawn: every input with the value it shows."""
    form = re.split(r'action="/factory/orders/\d+/terms/">', page)[1]
    form = form[: form.index("</form>")]
    drawn = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and name[1] != "csrfmiddlewaretoken":
            drawn[name[1]] = html.unescape(value[1]) if value else ""
    return drawn


def test_a_stale_terms_form_does_not_undo_another_deciders_change(cluster: dict[str, Any]) -> None:
    """Two people decide for the buyer. One opens the order page; meanwhile the other sets a budget. The first then
    moves only the due week and saves: the form sends every term as it was drawn, so the budget the other set is
    silently removed (no version on the page's form, unlike the API's If-Match)."""
    buyer = cluster["people"]["buyer"]
    colleague = user("buyer-admin-2")
    Membership.objects.create(user=colleague, organization=cluster["orgs"]["buyer"], role=Membership.Role.ADMIN)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    browser = signed_in(buyer)
    drawn = _terms_form(browser.get(f"/factory/orders/{order.pk}/").content.decode())
    assert drawn["budget"] == "" and "due_week" in drawn

    order_amend(actor=colleague, order=Order.objects.get(pk=order.pk), data={"budget": "30000"})
    assert Order.objects.get(pk=order.pk).budget == 30000

    later = (order.due_week + dt.timedelta(weeks=1)).isoformat()
    browser.post(f"/factory/orders/{order.pk}/terms/", {**drawn, "due_week": later})
    now = Order.objects.get(pk=order.pk)
    # either the save is refused as stale, or it changes only the due week; never the colleague's budget
    assert now.budget == 30000, f"due week {now.due_week}, budget {now.budget}: the colleague's budget was erased"
    assert now.due_week.isoformat() == later


def test_a_term_both_deciders_changed_comes_back_as_a_merge(cluster: dict[str, Any]) -> None:
    """The same, when both changed the same term: the save is refused, the form comes back with the sender's
    entry and the colleague's value named, and saving again, knowingly, goes through."""
    buyer = cluster["people"]["buyer"]
    colleague = user("buyer-admin-2")
    Membership.objects.create(user=colleague, organization=cluster["orgs"]["buyer"], role=Membership.Role.ADMIN)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    browser = signed_in(buyer)
    drawn = _terms_form(browser.get(f"/factory/orders/{order.pk}/").content.decode())
    order_amend(actor=colleague, order=Order.objects.get(pk=order.pk), data={"budget": "30000"})
    refused = browser.post(f"/factory/orders/{order.pk}/terms/", {**drawn, "budget": "45000"})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "在您打开此表单之后，有人修改了这条记录" in page and "30000" in page
    assert Order.objects.get(pk=order.pk).budget == 30000  # nothing written
    again = _terms_form(page)
    assert again["budget"] == "45000"
    browser.post(f"/factory/orders/{order.pk}/terms/", again)
    assert Order.objects.get(pk=order.pk).budget == 45000


def test_a_delay_cannot_move_work_into_a_week_gone_by(cluster: dict[str, Any], monkeypatch: Any) -> None:
    """Work accepted for this week is three weeks overdue when its factory reports "1 week late": the work moves
    to the week after its own, two weeks in the past, its capacity is reserved there and the buyer is told of a
    one-week delay. The re-plan takes that week as when the step is done. A delay should land no earlier than
    the current week (or be refused, naming the fewest weeks that would)."""
    a, factory = accepted_offer(cluster)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(weeks=3))
    this_week = monday(timezone.localdate())
    assert a.week + dt.timedelta(weeks=1) < this_week
    with pytest.raises(ValidationFailed) as refused:
        allocation_delay(actor=factory, allocation=a, weeks=1, reason="设备故障")
    assert list(refused.value.errors) == ["weeks"]
    assert "3" in refused.value.errors["weeks"][0]  # the fewest weeks that reach this week
    a.refresh_from_db()
    assert a.status == "accepted" and a.week < this_week  # nothing moved
    moved = allocation_delay(actor=factory, allocation=a, weeks=3, reason="设备故障")
    assert moved.week == this_week


def test_the_buyer_of_a_cancelled_order_is_not_told_to_plan_it_again(cluster: dict[str, Any]) -> None:
    """A delivery is disputed, the buyer cancels the order, and the platform upholds the dispute with the defects
    proven. The buyer is told the units "must be made again: plan the order again", but a cancelled order cannot
    be planned (refused as closed)."""
    a, factory, buyer = disputed(cluster, defects=0)
    order_cancel(actor=buyer, order=Order.objects.get(pk=a.order_id), reason="项目取消")
    dispute_refer(actor=buyer, allocation=a)
    dispute_answer(actor=factory, allocation=a, reply="出厂检验合格")
    dispute_rule(
        actor=cluster["operator"],
        allocation=Allocation.objects.get(pk=a.pk),
        upheld=True,
        defects_found=a.quantity,
        ruling="全部短路",
    )
    with pytest.raises(ValidationFailed):  # as it should: the order is closed
        order_plan(actor=buyer, order=Order.objects.get(pk=a.order_id))
    told = list(Notification.objects.filter(user=buyer, text__contains="请重新规划订单").values_list("text", flat=True))
    assert not told, told
