"""The buyer changes an open order's due week or terms; the plan is repaired around the work members accepted."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

import pytest

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.factory.models import Order
from agglo.factory.services.amend import order_amend
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel
from agglo.factory.wording import finishes_late
from tests.factory.conftest import signed_in
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def confirmed(cluster: dict[str, Any], **overrides: Any) -> Order:
    """A planned order whose factories accepted every offer."""
    order = planned(cluster, **overrides)
    owner = {o.pk: n for n, o in cluster["orgs"].items()}
    for a in list(order.allocations.filter(status="offered")):
        allocation_respond(actor=cluster["people"][owner[a.factory_id]], allocation=a, action="accept")
    order.refresh_from_db()
    assert order.status == "confirmed"
    return order


def test_a_later_due_week_keeps_every_accepted_part(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    accepted = set(order.allocations.filter(status="accepted").values_list("pk", flat=True))
    later = order.due_week + dt.timedelta(weeks=2)
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"due_week": later.isoformat()})
    order.refresh_from_db()
    assert order.due_week == later and order.status == "confirmed"
    assert set(order.allocations.filter(status="accepted").values_list("pk", flat=True)) == accepted


def split_between_two(cluster: dict[str, Any]) -> Order:
    """A confirmed order due in the third week at a steep penalty: one step a week, so the larger steps need two
    factories each."""
    route = [
        {"process": "cnc", "quantity": 500},
        {"process": "surface", "quantity": 500, "after": [1]},
        {"process": "assembly", "quantity": 500, "after": [2]},
    ]
    return confirmed(
        cluster,
        quantity=500,
        operations=route,
        due_week=(dt.date.today() + dt.timedelta(weeks=2)).isoformat(),
        late_penalty="100000",
    )


def test_fewer_suppliers_per_step_repairs_the_plan(cluster: dict[str, Any]) -> None:
    order = split_between_two(cluster)
    version = order.plan_version

    def suppliers_per_step() -> dict[int, set[int]]:
        found: dict[int, set[int]] = defaultdict(set)
        for a in order.allocations.filter(status__in=["offered", "accepted"]).select_related("operation"):
            found[a.operation.seq].add(a.factory_id)
        return found

    assert any(len(f) == 2 for f in suppliers_per_step().values())  # the plan splits a step between two
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"max_suppliers": "1"})
    order.refresh_from_db()
    assert order.max_suppliers == 1 and order.plan_version == version + 1
    after = suppliers_per_step()
    assert set(after) == {1, 2, 3} and all(len(f) == 1 for f in after.values())


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"due_week": "2001-01-01"}, "due_week"),
        ({"due_week": "明天"}, "due_week"),
        ({"max_suppliers": "0"}, "max_suppliers"),
        ({"max_suppliers": ""}, "max_suppliers"),
        ({"budget": "abc"}, "budget"),
        ({"late_penalty": "-1"}, "late_penalty"),
        ({"max_share": "5"}, "max_share"),
        ({"product": "别的产品"}, "product"),
    ],
)
def test_bad_changes_name_the_field_and_change_nothing(
    cluster: dict[str, Any], data: dict[str, Any], field: str
) -> None:
    order = planned(cluster)
    before = Order.objects.values().get(pk=order.pk)
    offers = set(order.allocations.values_list("pk", "status"))
    with pytest.raises(ValidationFailed) as bad:
        order_amend(actor=cluster["people"]["buyer"], order=order, data={"budget": "", **data})
    assert field in bad.value.errors
    assert Order.objects.values().get(pk=order.pk) == before
    assert set(order.allocations.values_list("pk", "status")) == offers


def test_only_the_buyer_changes_an_open_order(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    factory = cluster["people"]["sz"]
    with pytest.raises(Forbidden):
        order_amend(actor=factory, order=order, data={"max_suppliers": 1})
    buyer = cluster["people"]["buyer"]
    order_cancel(actor=buyer, order=order, reason="需求取消")
    with pytest.raises(ValidationFailed) as closed:
        order_amend(actor=buyer, order=order, data={"max_suppliers": 1})
    assert "status" in closed.value.errors


def test_terms_change_over_http_only_as_sent(cluster: dict[str, Any]) -> None:
    order = planned(cluster, budget="900000")
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/api/v1/factory/orders/{order.pk}"
    r = buyer.patch(url, {"late_penalty": "3000"}, content_type="application/json")
    assert r.status_code == 200, r.content
    order.refresh_from_db()
    assert order.late_penalty == 3000 and order.budget == 900000 and order.max_suppliers == 2
    r = buyer.patch(url, {"budget": ""}, content_type="application/json")
    assert r.status_code == 200
    order.refresh_from_db()
    assert order.budget is None
    r = buyer.patch(url, {"max_share": "2"}, content_type="application/json")
    assert r.status_code == 422 and "max_share" in r.json()["errors"]
    r = signed_in(cluster["people"]["cd"]).patch(url, {"max_suppliers": 1}, content_type="application/json")
    assert r.status_code in (403, 404)


def test_the_order_page_offers_the_terms_to_the_buyer_only(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    detail = f"/factory/orders/{order.pk}/"
    buyer = signed_in(cluster["people"]["buyer"])
    assert 'id="terms"' in buyer.get(detail).content.decode()
    later = order.due_week + dt.timedelta(weeks=1)
    data = {
        "due_week": later.isoformat(),
        "max_suppliers": "2",
        "max_share": "",
        "budget": "",
        "late_penalty": "2000",
    }
    r = buyer.post(f"/factory/orders/{order.pk}/terms/", data)
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.due_week == later
    # a bad value: the form comes back open, as sent, with the error beside its field
    r = buyer.post(f"/factory/orders/{order.pk}/terms/", data | {"max_suppliers": "x", "late_penalty": "2500"})
    assert r.status_code == 400
    form = r.context["terms_form"]
    assert form.errors["max_suppliers"] == ["必须为整数。"]
    page = r.content.decode()
    assert '<details id="terms" open>' in page and 'value="2500"' in page and 'value="x"' in page
    order.refresh_from_db()
    assert order.max_suppliers == 2 and order.late_penalty == 2000
    owner = next(n for n, o in cluster["orgs"].items() if o.pk == order.allocations.first().factory_id)
    assert 'id="terms"' not in signed_in(cluster["people"][owner]).get(detail).content.decode()


def test_the_buyer_reads_the_terms_a_factory_does_not(cluster: dict[str, Any]) -> None:
    order = planned(cluster, budget="900000")
    url = f"/api/v1/factory/orders/{order.pk}"
    terms = signed_in(cluster["people"]["buyer"]).get(url).json()["terms"]
    assert terms["max_suppliers"] == 2 and terms["budget"] == "900000.00" and terms["max_share"] is None
    factory = order.allocations.first().factory_id
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory)
    # a factory reads only what it must meet (as the order page tells it), not the budget, penalty or supplier rules
    seen = signed_in(who).get(url).json()["terms"]
    assert set(seen) == {"min_quality", "certifications", "certificates", "regions_only", "regions_excluded"}, seen


def test_a_share_cap_is_planned_as_it_is_stored(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/api/v1/factory/orders/{order.pk}"
    r = buyer.patch(url, {"max_share": "0.125"}, content_type="application/json")
    assert r.status_code == 422 and "max_share" in r.json()["errors"]
    order.refresh_from_db()
    assert order.max_share is None
    r = buyer.patch(url, {"max_share": "0.75"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["terms"]["max_share"] == "0.75"


@pytest.mark.parametrize("body", ["[]", "null", '"x"'])
def test_a_body_that_is_not_an_object_is_refused_in_the_users_language(cluster: dict[str, Any], body: str) -> None:
    order = planned(cluster)
    r = signed_in(cluster["people"]["buyer"]).patch(
        f"/api/v1/factory/orders/{order.pk}", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert r.status_code == 422
    assert "必须是一个 JSON 对象。" in str(r.json()["errors"])


def test_the_terms_form_says_whether_anything_changed(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/factory/orders/{order.pk}/terms/"
    same = {
        "due_week": order.due_week.isoformat(),
        "max_suppliers": str(order.max_suppliers),
        "max_share": "",
        "budget": "",
        "late_penalty": str(order.late_penalty),
    }
    page = buyer.post(url, same, follow=True).content.decode()
    assert "没有任何变更。" in page and "方案已修复" not in page
    order.refresh_from_db()
    assert order.plan_version == 1
    later = (order.due_week + dt.timedelta(weeks=5)).isoformat()  # room to finish on time, within the 12 weeks
    page = buyer.post(url, {**same, "due_week": later, "late_penalty": "2500"}, follow=True).content.decode()
    order.refresh_from_db()
    assert not finishes_late(order, list(order.allocations.all()))
    assert "订单已修改，方案已修复。" in page and "仍会晚于交期完成" not in page


def test_the_terms_form_shows_only_what_is_wrong_and_a_closed_order_keeps_no_form(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/factory/orders/{order.pk}/terms/"
    r = buyer.post(url, {"max_share": "0.333"})
    assert r.status_code == 400
    assert dict(r.context["terms_form"].errors) == {"max_share": ["最多两位小数，例如 0.35。"]}
    order_cancel(actor=cluster["people"]["buyer"], order=order, reason="需求取消")
    r = buyer.post(url, {"max_suppliers": "1"}, follow=True)
    page = r.content.decode()
    assert 'id="terms"' not in page and "该订单已关闭。" in page


def test_without_a_lateness_penalty_an_earlier_due_week_moves_accepted_work_to_meet_it(cluster: dict[str, Any]) -> None:
    from agglo.factory.models import Capability, CapacitySlot
    from agglo.factory.selectors.planning import first_open_day, horizon
    from agglo.factory.weeks import monday, week_at

    # the first plan can only use the sixth week: the cnc capacity of every other week is closed
    first = monday(first_open_day())
    closed = [week_at(first, i) for i in range(horizon()) if i != 5]
    for cap in Capability.objects.filter(process_id="cnc"):
        for week in closed:
            CapacitySlot.objects.create(capability=cap, week=week, capacity=0, by_hand=True)
    order = confirmed(cluster, quantity=300, operations=[{"process": "cnc", "quantity": 300}], late_penalty="0")
    assert set(order.allocations.filter(status="accepted").values_list("week", flat=True)) == {week_at(first, 5)}
    # the weeks open again, and the buyer wants it a week earlier than all the accepted work is done
    CapacitySlot.objects.filter(week__in=closed).update(capacity=1000)
    earlier = week_at(first, 4)
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"due_week": earlier.isoformat()})
    order.refresh_from_db()
    live = order.allocations.filter(status__in=["offered", "accepted"])
    # a week late outweighs moving every accepted unit (¥50 each, ¥15,000 here): the plan meets the due week
    assert max(live.values_list("week", flat=True)) <= earlier


def test_a_lower_share_cap_reduces_an_accepted_part_rather_than_taking_it_back(cluster: dict[str, Any]) -> None:
    from agglo.common.models import Notification
    from agglo.factory.models import CapacitySlot

    order = confirmed(cluster, quantity=400, operations=[{"process": "surface", "quantity": 400}])
    (a,) = order.allocations.filter(status="accepted")
    assert a.quantity == 400
    slot = CapacitySlot.objects.get(capability=a.capability, week=a.week)
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"max_share": "0.75"})
    a.refresh_from_db()
    # the acceptance stands for the 300 the plan keeps, with its id; only 100 units of the week are released
    assert (a.status, a.quantity) == ("accepted", 300)
    assert CapacitySlot.objects.get(pk=slot.pk).reserved == slot.reserved - 100
    assert not order.allocations.filter(status="offered", capability=a.capability, week=a.week).exists()
    rest = order.allocations.filter(status="offered")
    assert sum(rest.values_list("quantity", flat=True)) == 100 and a.factory_id not in {r.factory_id for r in rest}
    told = Notification.objects.filter(verb="factory.reduced").get()
    assert "由 400 减为 300" in told.text
    order.refresh_from_db()
    assert order.plan_stats["changes"]["reduced"] == 1 and order.plan_stats["changes"]["moved"] == 0
    # the buyer's page says the part was cut down, not only the smaller number
    page = signed_in(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    assert "因重新规划，已由原接受的 400 减少" in page


def test_an_earlier_due_week_the_repair_cannot_meet_is_not_reported_as_a_plain_success(
    cluster: dict[str, Any],
) -> None:
    from agglo.factory.selectors.planning import first_open_day
    from agglo.factory.weeks import monday

    order = confirmed(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    first = monday(first_open_day())  # a three-step route cannot end in its first week
    data = {"due_week": first.isoformat(), "max_suppliers": "2", "max_share": "", "budget": "", "late_penalty": "1"}
    r = buyer.post(f"/factory/orders/{order.pk}/terms/", data, follow=True)
    page = r.content.decode()
    assert "订单已修改，方案已修复，但仍会晚于交期完成" in page and "请把交期改到该周或之后" in page  # not "pay more"
    assert "订单已修改，方案已修复。" not in page


def test_a_part_cut_below_the_factorys_minimum_lot_is_offered_again_not_imposed(cluster: dict[str, Any]) -> None:
    from agglo.factory.models import Capability

    order = confirmed(cluster, quantity=400, operations=[{"process": "surface", "quantity": 400}])
    (a,) = order.allocations.filter(status="accepted")
    Capability.objects.filter(pk=a.capability_id).update(min_lot=350)  # it takes no order under 350 now
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"max_share": "0.75"})
    a.refresh_from_db()
    assert a.status == "superseded" and a.quantity == 400  # not bound to 300 it never agreed to
    again = order.allocations.filter(status="offered", capability=a.capability)
    assert sum(again.values_list("quantity", flat=True)) <= 300  # the factory may take it or decline


def test_answering_an_offer_of_a_cancelled_order_says_the_buyer_cancelled_it(cluster: dict[str, Any]) -> None:
    from django.utils import translation

    order = planned(cluster)
    a = order.allocations.filter(status="offered").first()
    order_cancel(actor=cluster["people"]["buyer"], order=order, reason="项目取消")
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    a.refresh_from_db()
    with pytest.raises(ValidationFailed) as refused, translation.override("en"):
        allocation_respond(actor=who, allocation=a, action="decline")
    assert refused.value.errors["action"] == ["This offer is no longer open (the buyer cancelled the order)."]


def test_a_change_that_would_move_accepted_work_asks_first_and_changes_nothing_until_confirmed(
    cluster: dict[str, Any],
) -> None:
    from agglo.common.models import Notification
    from agglo.ledger.models import LogEntry

    order = split_between_two(cluster)
    accepted = {a.pk: (a.quantity, a.week) for a in order.allocations.filter(status="accepted")}
    version, notes, entries = order.plan_version, Notification.objects.count(), LogEntry.objects.count()
    buyer = signed_in(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    url = f"/factory/orders/{order.pk}/terms/"
    # the terms form sends every term; the question carries only the one that changes
    r = buyer.post(url, {"max_suppliers": "1", "late_penalty": str(order.late_penalty), "budget": ""})
    page = r.content.decode()
    assert 'name="late_penalty"' not in page and 'name="budget"' not in page
    assert r.status_code == 200 and "Change order " in page and 'id="accepted-moved"' in page
    assert "taken back" in page or "reduced to" in page
    assert '<input type="hidden" name="confirmed" value="yes">' in page
    assert '<input type="hidden" name="max_suppliers" value="1">' in page
    # asking changed nothing: terms, plan, accepted work, notices and the log are as they were
    order.refresh_from_db()
    assert order.max_suppliers == 2 and order.plan_version == version
    assert {a.pk: (a.quantity, a.week) for a in order.allocations.filter(status="accepted")} == accepted
    assert Notification.objects.count() == notes and LogEntry.objects.count() == entries
    key = re.search(r'name="preview" value="([0-9a-f]+)"', page).group(1)
    # "confirmed" without the preview it agrees to is a question still
    r = buyer.post(url, {"max_suppliers": "1", "confirmed": "yes"})
    assert r.status_code == 200 and 'id="accepted-moved"' in r.content.decode()
    # a confirmation of another preview (the plan changed meanwhile) is asked about again, nothing changed
    r = buyer.post(url, {"max_suppliers": "1", "confirmed": "yes", "preview": "0" * 16})
    assert r.status_code == 200 and 'id="preview-changed"' in r.content.decode()
    order.refresh_from_db()
    assert order.max_suppliers == 2 and order.plan_version == version
    # confirmed, it is applied and the factories are told
    r = buyer.post(url, {"max_suppliers": "1", "confirmed": "yes", "preview": key})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.max_suppliers == 1 and order.plan_version == version + 1
    assert Notification.objects.filter(verb__startswith="factory.").count() > notes
    # a change that moves no accepted work is applied at once, as before
    later = order.due_week + dt.timedelta(weeks=2)
    r = buyer.post(url, {"due_week": later.isoformat()})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.due_week == later


def test_the_api_previews_a_change_without_making_it(cluster: dict[str, Any]) -> None:
    import json

    from agglo.common.models import Notification

    order = split_between_two(cluster)
    version, notes = order.plan_version, Notification.objects.count()
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/api/v1/factory/orders/{order.pk}/amend-preview"
    r = buyer.post(url, data=json.dumps({"max_suppliers": 1}), content_type="application/json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["parts"] and body["cost_before"] and body["cost_after"]
    part = body["parts"][0]
    assert set(part) == {"allocation_id", "factory_id", "factory", "step", "week", "quantity", "keeps", "offered_again"}
    assert order.allocations.filter(factory_id=part["factory_id"], status="accepted").exists()
    order.refresh_from_db()
    assert order.max_suppliers == 2 and order.plan_version == version and Notification.objects.count() == notes
    # a change that moves nothing: an empty list, and still nothing changed
    later = (order.due_week + dt.timedelta(weeks=2)).isoformat()
    r = buyer.post(url, data=json.dumps({"due_week": later}), content_type="application/json")
    assert r.status_code == 200 and r.json()["parts"] == []
    order.refresh_from_db()
    assert order.due_week != dt.date.fromisoformat(later)
    # bad input is refused by field, as the change itself would be; another member cannot preview
    r = buyer.post(url, data=json.dumps({"max_suppliers": "x"}), content_type="application/json")
    assert r.status_code == 422 and "max_suppliers" in r.json()["errors"]
    other = signed_in(cluster["people"]["sz"])
    r = other.post(url, data=json.dumps({"max_suppliers": 1}), content_type="application/json")
    assert r.status_code in (403, 404)


def test_a_change_that_leaves_no_plan_asks_first(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    url = f"/factory/orders/{order.pk}/terms/"
    r = buyer.post(url, {"budget": "100"})  # far below what any plan costs
    page = r.content.decode()
    assert r.status_code == 200 and 'id="no-plan-fits"' in page
    order.refresh_from_db()
    assert order.budget is None and order.status == "confirmed"
    key = re.search(r'name="preview" value="([0-9a-f]+)"', page).group(1)
    assert buyer.post(url, {"budget": "100", "confirmed": "yes", "preview": key}).status_code == 302
    order.refresh_from_db()
    assert order.budget == 100 and order.status == "infeasible"
