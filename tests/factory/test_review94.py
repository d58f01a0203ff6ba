"""Review 94 of this session's changes: each test showed one bug (certificates without end, hints about held
offers in closed weeks, delays past the horizon, list order in a stale form's merge, a merge on a cancelled
order)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agglo.factory.models import Order
from agglo.factory.services.orders import order_create, order_plan
from agglo.profiles.services import fact_create
from tests.factory.conftest import order_data, signed_in

pytestmark = pytest.mark.django_db


def _certificate(cluster: dict[str, Any], name: str, **extra: Any) -> Any:
    today = dt.date.today()
    return fact_create(
        actor=cluster["people"][name],
        organization=cluster["orgs"][name],
        kind="capabilities",
        data={
            "term": "iso-9001",
            "certificate_no": f"CQC-{name}-001",
            "as_of": today - dt.timedelta(days=400),
            **extra,
        },
    )


def test_a_certificate_without_end_9999_12_31_does_not_crash_planning(cluster: dict[str, Any]) -> None:
    """A certificate entered as valid "until 9999-12-31" (no end, 长期有效) is accepted by the profile; planning an
    order that counts certificates on record must not crash on it (date + 1 day overflows)."""
    for name in ("su", "cd", "sz"):
        _certificate(cluster, name, valid_until=dt.date(9999, 12, 31))
    buyer = cluster["people"]["buyer"]
    data = order_data(certifications=["ISO9001"], certificates="on_record", max_suppliers=3)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    assert order.status == Order.Status.PLANNED, order.diagnosis


def test_offers_held_in_weeks_a_certificate_does_not_cover_give_no_hope(cluster: dict[str, Any]) -> None:
    """Suzhou is the only CNC factory with ISO 9001 on record, valid through the plan's first week only. Another
    order, counting certifications as declared, holds Suzhou's later CNC weeks with open offers. The order that
    counts certificates on record is short of CNC room; the diagnosis says the other orders' offers hold room and
    "planning again after they are answered may find room" - but those weeks are closed to this order by the
    certificate whatever the answers: `_with_offers_declined` adds the held units back into closed weeks."""
    from agglo.factory.models import Allocation
    from agglo.factory.selectors.planning import first_open_day
    from agglo.factory.weeks import monday
    from agglo.profiles.models import OrganizationCapability

    buyer = cluster["people"]["buyer"]
    su = cluster["orgs"]["su"]
    # the other order, as declared: its plan offers CNC to Shenzhen and Suzhou over the coming weeks
    other = order_plan(
        actor=buyer,
        order=order_create(
            actor=buyer,
            data=order_data(product="另一订单", quantity=1500, operations=[{"process": "cnc", "quantity": 1500}]),
        ),
    )
    held = Allocation.objects.filter(order=other, factory=su, status="offered")
    start = monday(first_open_day())
    assert held.filter(week__gt=start).exists(), list(held.values_list("week", "quantity"))
    for name in ("su", "cd"):
        _certificate(cluster, name)
    OrganizationCapability.objects.filter(organization=su).update(valid_until=start + dt.timedelta(days=6))
    data = order_data(certifications=["ISO9001"], certificates="on_record", max_suppliers=3)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    assert order.status == Order.Status.INFEASIBLE
    rules = [(f["operation"], f["rule"]) for f in order.diagnosis]
    assert ("1", "capacity") in rules, order.diagnosis
    # whatever the other order's factories answer, Suzhou takes no CNC work of this order after the first week:
    # no hopeful "planning again after they are answered may find room"
    assert ("1", "held") not in rules, order.diagnosis


def test_a_delay_refused_as_too_short_does_not_ask_for_one_that_is_refused_too(
    cluster: dict[str, Any], monkeypatch: Any
) -> None:
    """Accepted work of the order's first week is still open when the order's planning weeks are over. Its factory
    reports it one week late: refused, "report at least 12 weeks late (to this week)". It does so, and is refused
    again: "beyond the plan's horizon; withdraw instead". The first answer should already say what can be done."""
    import re

    from django.utils import timezone

    from agglo.common.errors import ValidationFailed
    from agglo.factory.selectors.planning import horizon
    from agglo.factory.services.execution import allocation_delay
    from agglo.factory.weeks import monday
    from tests.factory.conftest import accepted_offer

    a, factory = accepted_offer(cluster)
    real_now = timezone.now
    ahead = (a.order.start_week - monday(dt.date.today())).days // 7 + horizon()
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(weeks=ahead))
    with pytest.raises(ValidationFailed) as first:
        allocation_delay(actor=factory, allocation=a, weeks=1, reason="设备故障")
    said = first.value.errors["weeks"][0]
    asked = re.search(r"(\d+) 周", said)
    if asked is not None:
        try:
            allocation_delay(actor=factory, allocation=a, weeks=int(asked[1]), reason="设备故障")
        except ValidationFailed as exc:
            pytest.fail(f"told {said!r}, then refused: {exc.errors}")


def test_a_stale_listing_form_takes_the_collateral_someone_else_set_when_the_sender_left_it(org_admin: Any) -> None:
    """A loan product's collateral stored as the API sent it (pledge, mortgage). Its edit form is drawn; meanwhile a
    colleague (or the ERP) drops the pledge. The person changes only the title and saves: refused as stale, the form
    comes back as a merge. The collateral boxes the person never touched come back in the page's own order
    (mortgage, pledge), unlike the stored order the digest was made from, so the merge takes them for the
    sender's entry: it puts the pledge back in the form and says the field "was changed meanwhile; your entry is
    kept" - saving again undoes the colleague's change."""
    from agglo.market.services import listing_create, listing_update
    from tests.web.test_form_versions import drawn

    admin, org = org_admin
    product = listing_create(
        actor=admin,
        organization=org,
        data={
            "side": "offer",
            "kind": "financing",
            "subkind": "loan",
            "title_zh": "科技贷",
            "collateral": ["pledge", "mortgage"],
        },
    )
    browser = signed_in(admin)
    form = drawn(browser.get(f"/market/{product.pk}/edit/"))
    assert sorted(form["collateral"]) == ["mortgage", "pledge"], form
    listing_update(actor=admin, listing=product, data={"collateral": ["mortgage"]})  # the colleague
    refused = browser.post(f"/market/{product.pk}/edit/", {**form, "title_zh": "科技贷（新）"})
    assert refused.status_code == 400
    again = drawn(refused)
    assert again["title_zh"] == "科技贷（新）"
    assert again["collateral"] == ["mortgage"], again["collateral"]  # the record's value now: the sender left it


def test_a_merge_of_terms_on_an_order_cancelled_meanwhile_says_why(cluster: dict[str, Any]) -> None:
    """Two people decide for the buyer. One opens the order page and sets a budget; meanwhile the other sets a budget
    too and then cancels the order. The merge path draws the terms form again with the refusal in it, but the
    order page shows no terms form on a closed order: the sender gets a 400 page that says nothing (no form, no
    message), where any other refusal on a closed order is told as a message."""
    from agglo.access.models import Membership
    from agglo.factory.services.amend import order_amend
    from agglo.factory.services.orders import order_cancel
    from tests.conftest import user
    from tests.factory.test_review93 import _terms_form

    buyer = cluster["people"]["buyer"]
    colleague = user("buyer-admin-2")
    Membership.objects.create(user=colleague, organization=cluster["orgs"]["buyer"], role=Membership.Role.ADMIN)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    browser = signed_in(buyer)
    form = _terms_form(browser.get(f"/factory/orders/{order.pk}/").content.decode())
    order_amend(actor=colleague, order=Order.objects.get(pk=order.pk), data={"budget": "30000"})
    order_cancel(actor=colleague, order=Order.objects.get(pk=order.pk), reason="项目取消")
    answer = browser.post(f"/factory/orders/{order.pk}/terms/", {**form, "budget": "45000"}, follow=True)
    page = answer.content.decode()
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    # told that the order is closed (as a refused change of a closed order is), or at least that it was refused
    assert "在您打开此表单之后，有人修改了这条记录" in page or 'id="messages"' in page, (
        answer.status_code,
        answer.redirect_chain,
    )
