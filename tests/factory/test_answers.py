"""Answers that wait on the other side: a counter-offer the buyer must decide on in time, and a disputed delivery
the factory may answer and the buyer may settle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone, translation

from agglo.common.errors import Forbidden, ValidationFailed
from agglo.common.models import Notification
from agglo.factory.models import Allocation
from agglo.factory.risk import failure_risk
from agglo.factory.selectors.scorecards import scorecards
from agglo.factory.services.disputes import dispute_answer
from agglo.factory.services.execution import allocation_receipt
from agglo.factory.services.jobs import allocation_respond, counter_decide
from agglo.factory.services.orders import order_create, order_plan
from agglo.factory.services.replan import answer_deadline
from agglo.ledger.entries import decode
from agglo.ledger.models import LogEntry
from tests.factory.conftest import order_data, signed_in
from tests.factory.test_execution import delivered

pytestmark = pytest.mark.django_db


def countered(cluster: dict[str, Any]) -> tuple[Allocation, Any]:
    """An allocation of a freshly planned order on which its factory counter-offered, and that factory's admin."""
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered", quantity__gte=2).first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    # the factory answers an hour before its own deadline
    Allocation.objects.filter(pk=a.pk).update(respond_by=timezone.now() + dt.timedelta(hours=1))
    a.refresh_from_db()
    allocation_respond(actor=who, allocation=a, action="counter", quantity=a.quantity // 2)
    a.refresh_from_db()
    return a, who


def test_a_counter_offer_gives_the_buyer_a_deadline(cluster: dict[str, Any]) -> None:
    before = timezone.now()
    a, _who = countered(cluster)
    assert a.status == "countered"
    # the buyer has the full answer time, 72 hours, unless the work's week begins sooner (then at least a day)
    begins = _week_over(a.week) - dt.timedelta(weeks=1)
    least = min(before + dt.timedelta(hours=72), max(begins, before + dt.timedelta(hours=24)), _week_over(a.week))
    assert a.respond_by >= least - dt.timedelta(minutes=1)
    assert a.respond_by <= _week_over(a.week)


def _week_over(week: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(week + dt.timedelta(weeks=1), dt.time.min))


def test_the_week_under_way_takes_new_work_only_until_wednesday(cluster: dict[str, Any]) -> None:
    from agglo.factory.selectors.planning import first_open_day, order_problem

    wednesday, thursday, sunday = dt.date(2026, 12, 2), dt.date(2026, 12, 3), dt.date(2026, 12, 6)
    assert first_open_day(wednesday) == wednesday
    assert first_open_day(thursday) == first_open_day(sunday) == dt.date(2026, 12, 7)
    from agglo.factory.models import Order
    from agglo.factory.weeks import monday

    buyer = cluster["people"]["buyer"]
    order = order_create(actor=buyer, data=order_data())
    # an order that starts this week (entered on a Monday, planned again later in the week)
    Order.objects.filter(pk=order.pk).update(start_week=monday(timezone.localdate()))
    order.refresh_from_db()
    closed = timezone.localdate() != first_open_day()
    if closed:  # and a new order cannot start in it any more
        with pytest.raises(ValidationFailed) as refused:
            order_create(actor=buyer, data=order_data(start_week=timezone.localdate().isoformat()))
        assert str(first_open_day()) in str(refused.value.errors["start_week"])  # the week it may start from
    room = {c.key: c.capacity[0] for c in order_problem(order).capabilities}
    assert all(free == 0 for free in room.values()) == closed  # the first week: no room once it is closed


def test_no_answer_is_due_after_the_week_of_its_work(cluster: dict[str, Any]) -> None:
    friday_evening = timezone.make_aware(dt.datetime(2026, 12, 4, 18, 0))
    this_week, next_week, in_three = dt.date(2026, 11, 30), dt.date(2026, 12, 7), dt.date(2026, 12, 21)
    # work already due to run: a day to answer
    assert answer_deadline(this_week, now=friday_evening) == friday_evening + dt.timedelta(hours=24)
    # work of next week: settled before it begins on Monday
    assert answer_deadline(next_week, now=friday_evening) == timezone.make_aware(dt.datetime(2026, 12, 7, 0, 0))
    sunday_night = timezone.make_aware(dt.datetime(2026, 12, 6, 22, 0))
    assert answer_deadline(next_week, now=sunday_night) == sunday_night + dt.timedelta(hours=24)  # at least a day
    sunday_noon = timezone.make_aware(dt.datetime(2026, 12, 6, 12, 0))  # never past the week's end, though
    assert answer_deadline(this_week, now=sunday_noon) == timezone.make_aware(dt.datetime(2026, 12, 7, 0, 0))
    # work further ahead: the full answer time
    assert answer_deadline(in_three, now=friday_evening) == friday_evening + dt.timedelta(hours=72)
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    offers = list(order.allocations.filter(status="offered"))
    assert offers and all(a.respond_by <= _week_over(a.week) for a in offers)


def test_a_counter_offer_not_decided_in_time_lapses_and_the_order_is_replanned(cluster: dict[str, Any]) -> None:
    a, who = countered(cluster)
    version = a.order.plan_version
    # countered two hours ago, due a minute ago
    Allocation.objects.filter(pk=a.pk).update(
        respond_by=timezone.now() - dt.timedelta(minutes=1), updated_at=timezone.now() - dt.timedelta(hours=2)
    )
    a.refresh_from_db()
    with pytest.raises(ValidationFailed) as late:
        counter_decide(actor=cluster["people"]["buyer"], allocation=a, accept=True)
    assert "action" in late.value.errors
    a.refresh_from_db()
    assert a.status == "countered"  # refused, nothing changed
    call_command("expire_offers")
    a.refresh_from_db()
    a.order.refresh_from_db()
    assert a.status == "lapsed" and a.order.plan_version == version + 1
    assert Notification.objects.filter(user=who, verb="factory.counter_lapsed").count() == 1
    # the step is planned again in full
    live = a.order.allocations.filter(operation=a.operation, status__in=["offered", "accepted"])
    assert sum(x.quantity for x in live) == a.operation.quantity
    assert not live.filter(capability=a.capability, week=a.week).exists()  # not that week of that factory again
    # the Changes table dates the lapse when it happened, and says what was countered
    assert timezone.now() - a.updated_at < dt.timedelta(minutes=1)
    from django.test import Client

    buyer = Client()
    buyer.force_login(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    changes = buyer.get(f"/factory/orders/{a.order_id}/").content.decode().split('id="changes"')[1]
    assert f"Counter-offer of {a.counter_quantity} {a.operation.process.unit_en} lapsed" in changes
    when = timezone.localtime(a.updated_at)
    assert f"""<span class="date">{when:%Y-%m-%d}</span> {when:%H:%M}""" in changes  # the date kept whole


def test_a_late_delivery_is_late_whether_or_not_it_is_disputed(cluster: dict[str, Any]) -> None:
    a, _factory = delivered(cluster)
    Allocation.objects.filter(pk=a.pk).update(delivered_on=a.week + dt.timedelta(days=9))  # the week after
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=False, note="晚了，还少一箱")
    card = scorecards([a.factory_id])[a.factory_id]
    assert (card.disputed, card.unsettled, card.timed, card.on_time, card.on_time_rate) == (1, 0, 1, 0, 0.0)


def test_another_factorys_answer_leaves_the_buyers_decision_on_a_counter_offer_open(cluster: dict[str, Any]) -> None:
    """Review 37: a decline elsewhere in the order voided the counter-offer the buyer had yet to decide on, and the
    repair then moved accepted work of a factory that had done nothing. The repair now plans around it."""
    a, who = countered(cluster)
    buyer = cluster["people"]["buyer"]
    other = a.order.allocations.filter(status="offered").exclude(factory_id=a.factory_id).first()
    owner = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == other.factory_id)
    allocation_respond(actor=owner, allocation=other, action="decline", note="满负荷")
    a.refresh_from_db()
    assert a.status == "countered"  # still the buyer's to decide
    assert not Notification.objects.filter(user=who, verb="factory.superseded").exists()
    assert not Notification.objects.filter(user=buyer, verb="factory.counter_voided").exists()
    # the repair planned the rest of the step around it: taking it completes the step as planned
    step = a.order.allocations.filter(operation=a.operation, status="offered").exclude(pk=a.pk)
    assert sum(x.quantity for x in step) + a.counter_quantity == a.operation.quantity
    counter_decide(actor=buyer, allocation=a, accept=True)
    a.refresh_from_db()
    assert (a.status, a.quantity) == ("accepted", a.counter_quantity)


def test_planning_again_voids_an_open_counter_offer_and_tells_both_sides(cluster: dict[str, Any]) -> None:
    a, who = countered(cluster)
    order_plan(actor=cluster["people"]["buyer"], order=a.order)  # the buyer asks for a fresh plan
    a.refresh_from_db()
    assert a.status == "superseded"
    assert Notification.objects.filter(user=who, verb="factory.superseded").exists()
    # and the buyer, who was to decide on it, hears that it is void
    told = Notification.objects.get(user=cluster["people"]["buyer"], verb="factory.counter_voided")
    assert a.order.product in told.text


def test_a_factory_answers_a_dispute_once_and_the_buyer_settles_it(cluster: dict[str, Any]) -> None:
    a, factory = delivered(cluster)
    buyer = cluster["people"]["buyer"]
    with pytest.raises(ValidationFailed) as early:  # nothing disputed yet
        dispute_answer(actor=factory, allocation=a, reply="已发货")
    assert "action" in early.value.errors
    allocation_receipt(actor=buyer, allocation=a, confirm=False, note="少了一箱")
    a.refresh_from_db()
    assert a.dispute_reason == "少了一箱"
    with pytest.raises(Forbidden):  # only the factory answers
        dispute_answer(actor=buyer, allocation=a, reply="自问自答")
    with pytest.raises(ValidationFailed) as empty:
        dispute_answer(actor=factory, allocation=a, reply="  ")
    assert "reply" in empty.value.errors
    with pytest.raises(ValidationFailed) as long:
        dispute_answer(actor=factory, allocation=a, reply="长" * 501)
    assert "reply" in long.value.errors
    dispute_answer(actor=factory, allocation=a, reply="第二箱已于周三补发，单号 SF123")
    with pytest.raises(ValidationFailed) as twice:
        dispute_answer(actor=factory, allocation=a, reply="再说一次")
    assert "reply" in twice.value.errors
    a.refresh_from_db()
    assert a.dispute_reply == "第二箱已于周三补发，单号 SF123"
    # each notice names the delivery it is about: an order may have several from one factory
    which = f"订单 {a.order.product} 步骤 1（{a.week.isoformat()} 这一周）交付的 {a.quantity_done} 机时"
    assert which in Notification.objects.get(user=buyer, text__contains="SF123").text
    assert which in Notification.objects.get(verb="factory.receipt", text__contains="少了一箱").text
    # the public log has the step with a digest of the reply, never its words
    payload = decode(bytes(LogEntry.objects.get(type="factory.allocation_dispute_answered").data))["payload"]
    assert "SF123" not in str(payload) and len(payload["reply"]) >= 32
    open_card = scorecards([a.factory_id])[a.factory_id]
    assert open_card.disputed == 1
    # an open dispute does not decide punctuality before it is settled: the delivery is neither on time nor late yet
    assert (open_card.jobs, open_card.timed, open_card.on_time_rate) == (1, 0, None)
    # nor does it count as record for the solver's risk: the factory is judged on its credit alone meanwhile
    assert open_card.risk == failure_risk(open_card.grade, 0, None, None)
    # the buyer settles: the delivery counts as confirmed and on time again
    allocation_receipt(actor=buyer, allocation=a, confirm=True, defects_found=2)
    card = scorecards([a.factory_id])[a.factory_id]
    assert (card.confirmed, card.disputed, card.on_time, card.defects) == (1, 0, 1, 2)
    assert card.on_time_rate == 1.0
    told = Notification.objects.filter(verb="factory.receipt").latest("id").text
    assert told.endswith(f"（{a.week.isoformat()} 这一周）：其检验发现不良品 2 机时。")
    assert told.startswith("买方的异议已了结。")  # the factory reads that the dispute is over
    with pytest.raises(ValidationFailed):  # a confirmation is final
        allocation_receipt(actor=buyer, allocation=a, confirm=False, note="又发现问题")
    received = LogEntry.objects.filter(type="factory.allocation_received").latest("index")
    assert decode(bytes(received.data))["payload"]["settled"] is True


def test_a_dispute_stays_between_buyer_and_factory_over_http(cluster: dict[str, Any]) -> None:
    a, factory = delivered(cluster)
    buyer = cluster["people"]["buyer"]
    allocation_receipt(actor=buyer, allocation=a, confirm=False, note="尺寸超差")
    stranger = next(cluster["people"][n] for n, o in cluster["orgs"].items() if n != "buyer" and o.pk != a.factory_id)
    url = f"/api/v1/factory/allocations/{a.pk}/dispute-reply"
    r = signed_in(stranger).post(url, {"reply": "不关我事"}, content_type="application/json")
    assert r.status_code == 404
    r = signed_in(factory).post(url, {"reply": ""}, content_type="application/json")
    assert r.status_code == 422 and "reply" in r.json()["errors"]
    r = signed_in(factory).post(url, {"reply": "已复测，附报告"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["dispute_reply"] == "已复测，附报告"
    plan = signed_in(buyer).get(f"/api/v1/factory/orders/{a.order_id}/allocations").json()
    row = next(x for x in plan if x["id"] == a.pk)
    assert row["dispute_reason"] == "尺寸超差" and row["dispute_reply"] == "已复测，附报告"


def test_the_pages_carry_a_dispute_from_reason_to_settlement(cluster: dict[str, Any]) -> None:
    a, factory = delivered(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    detail = f"/factory/orders/{a.order_id}/"
    # a dispute without words is refused naming the field as its form does, at the delivery's row on the order
    r = buyer.post(f"/factory/allocations/{a.pk}/dispute/", {"note": "", "next": detail})
    assert r.status_code == 400 and 'id="allocations"' in r.content.decode()
    row = r.content.decode().split('class="errorlist row-errors"')[1].split("</tr>")[0]
    assert "问题说明：" in row and "备注" not in row
    buyer.post(f"/factory/allocations/{a.pk}/dispute/", {"note": "包装破损", "next": detail})
    board = signed_in(factory)
    page = board.get("/factory/jobs/").content.decode()
    assert 'id="disputed"' in page and "包装破损" in page
    r = board.post(f"/factory/allocations/{a.pk}/answer-dispute/", {"reply": "已安排换货"})
    assert r.status_code == 302
    assert "已安排换货" in board.get("/factory/jobs/").content.decode()
    page = buyer.get(detail).content.decode()
    assert "已安排换货" in page and "了结异议：确认收货" in page
    # the plan chart marks the disputed delivery apart from work done (crawl review 41, F4)
    badge = page.split('id="gantt"')[1].split(f"#{a.operation.seq} ×{a.quantity}")[0].rsplit("<span", 1)[1]
    assert 'class="badge warn"' in badge and "异议" in badge
    buyer.post(f"/factory/allocations/{a.pk}/confirm-receipt/", {"defects_found": "0", "next": detail})
    a.refresh_from_db()
    assert a.receipt == "confirmed" and "了结异议：确认收货" not in buyer.get(detail).content.decode()


def test_the_log_keeps_dispute_texts_under_a_key_only_the_parties_hold(cluster: dict[str, Any]) -> None:
    import hashlib
    import hmac

    a, factory = delivered(cluster)
    buyer = cluster["people"]["buyer"]
    allocation_receipt(actor=buyer, allocation=a, confirm=False, note="少了一箱")
    dispute_answer(actor=factory, allocation=a, reply="已补发")
    disputed = decode(bytes(LogEntry.objects.get(type="factory.allocation_disputed").data))["payload"]
    answered = decode(bytes(LogEntry.objects.get(type="factory.allocation_dispute_answered").data))["payload"]
    # a guess of the short text cannot be checked against the public log
    assert disputed["reason"] != "sha256:" + hashlib.sha256("少了一箱".encode()).hexdigest()
    # the parties read the key with the work, and can check what the log says was said
    row = signed_in(buyer).get(f"/api/v1/factory/orders/{a.order_id}/allocations").json()
    key = next(x for x in row if x["id"] == a.pk)["text_key"]
    mine = signed_in(factory).get(f"/api/v1/factory/orders/{a.order_id}/allocations").json()
    assert next(x for x in mine if x["id"] == a.pk)["text_key"] == key
    for text, sealed in (("reason:少了一箱", disputed["reason"]), ("reply:已补发", answered["reply"])):
        assert sealed == "hmac-sha256:" + hmac.new(bytes.fromhex(key), text.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("take", [True, False])
def test_the_factory_hears_what_the_buyer_decided_on_its_counter_offer(cluster: dict[str, Any], take: bool) -> None:
    a, who = countered(cluster)
    counter_decide(actor=cluster["people"]["buyer"], allocation=a, accept=take)
    told = Notification.objects.filter(user=who, verb="factory.counter_decided")
    assert told.count() == 1
    assert str(a.counter_quantity) in told.get().text and a.order.product in told.get().text


def test_the_buyer_is_not_offered_to_confirm_work_it_made_itself(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.capacity import capability_save
    from agglo.factory.services.execution import allocation_progress

    buyer = cluster["people"]["buyer"]
    own = cluster["orgs"]["buyer"]
    capability_save(
        actor=buyer,
        organization_id=own.pk,
        data={
            "process": "cnc",
            "weekly_capacity": 600,
            "unit_cost": "1",
            "setup_cost": "0",
            "min_lot": 1,
            "quality_grade": 2,
            "certifications": ["ISO9001"],
        },
    )
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.get(status="offered", factory_id=own.pk)
    allocation_respond(actor=buyer, allocation=a, action="accept")
    a.refresh_from_db()
    allocation_progress(
        actor=buyer, allocation=a, data={"quantity_done": a.quantity, "delivered_on": timezone.localdate().isoformat()}
    )
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()
    assert f"/factory/allocations/{a.pk}/confirm-receipt/" not in page
    assert f"/factory/allocations/{a.pk}/dispute/" not in page


def test_a_replan_that_changes_an_offer_in_nothing_keeps_it_open(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    before = {a.pk: (a.week, a.quantity, a.respond_by) for a in order.allocations.filter(status="offered")}
    order = order_plan(actor=buyer, order=order)  # "Plan again" with nothing changed
    now = {a.pk: (a.week, a.quantity, a.respond_by) for a in order.allocations.filter(status="offered")}
    assert now == before  # the same offers, ids and deadlines: an answer given meanwhile still counts
    assert set(order.allocations.filter(plan_version=order.plan_version).values_list("pk", flat=True)) == set(now)
    assert order.plan_stats["changes"]["offered"] == len(now)
    a = Allocation.objects.get(pk=min(before))
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    allocation_respond(actor=who, allocation=a, action="accept")
    a.refresh_from_db()
    assert a.status == "accepted"
    # an offer whose price has changed since is made afresh, at the new price
    other = order.allocations.filter(status="offered").exclude(factory_id=a.factory_id).first()
    other.capability.unit_cost += Decimal("0.01")
    other.capability.save()
    order = order_plan(actor=buyer, order=order)
    other.refresh_from_db()
    assert other.status == "superseded"
    again = order.allocations.get(status="offered", capability=other.capability, week=other.week)
    assert again.pk != other.pk and again.unit_cost == other.capability.unit_cost


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("", "This field is required."),
        (" ", "This field is required."),
        (None, "This field is required."),
        ("x", "Must be a whole number."),
    ],
)
def test_a_counter_offer_without_a_quantity_is_told_it_is_required(
    cluster: dict[str, Any], given: Any, said: str
) -> None:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered", quantity__gte=2).first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    with pytest.raises(ValidationFailed) as bad, translation.override("en"):
        allocation_respond(actor=who, allocation=a, action="counter", quantity=given)
    assert bad.value.errors["quantity"] == [said]
    a.refresh_from_db()
    assert a.status == "offered"


def test_a_counter_offer_a_replan_voids_still_limits_the_factory(cluster: dict[str, Any]) -> None:
    from agglo.factory.selectors.planning import capability_key, order_problem
    from agglo.factory.weeks import index_of
    from tests.factory.conftest import signed_in

    a, who = countered(cluster)
    said = a.counter_quantity
    buyer = cluster["people"]["buyer"]
    for _ in range(2):  # the re-plan voids the counter; the next one must still keep within it
        order = order_plan(actor=buyer, order=a.order)
        a.refresh_from_db()
        assert a.status == "superseded"
        there = order.allocations.filter(status="offered", capability=a.capability, operation=a.operation, week=a.week)
        assert sum(x.quantity for x in there) <= said
    # as an open counter does: no more that week than it said (the repair and later plans solve the same rule)
    op = next(o for o in order_problem(order).operations if o.key == str(a.operation.seq))
    w = index_of(order.start_week, a.week)
    assert op.most_in(capability_key(a.capability_id), w, 10**6) == said
    # the buyer still reads what the factory said, and why
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()
    changes = page.split('id="changes"')[1].split("</table>")[0]
    assert f"{said} machine-hours void" in changes or f"还价 {said} 机时 已作废" in changes
    # and the factory reads on its job board what became of its counter-offer
    earlier = signed_in(who).get("/factory/jobs/").content.decode().split('id="earlier"')[1].split("</table>")[0]
    assert f"还价 {said} 机时 已作废" in earlier
    # and after a cancellation too: each row keeps what happened to it
    from agglo.factory.services.orders import order_cancel

    order_cancel(actor=buyer, order=order, reason="需求取消")
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()
    changes = page.split('id="changes"')[1].split("</table>")[0]
    assert f"{said} machine-hours void" in changes or f"还价 {said} 机时 已作废" in changes


def test_plan_again_with_nothing_changed_keeps_the_offers_once_work_is_accepted(cluster: dict[str, Any]) -> None:
    """With accepted work the solver has no hint, and plans of equal cost differ in week or split: the open
    offers must still stand, not be re-made (new ids, deadlines and notices) on every "Plan again"."""
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    first = order.allocations.filter(status="offered", operation__seq=1)
    for a in first:
        who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
        allocation_respond(actor=who, allocation=a, action="accept")
    open_now = set(order.allocations.filter(status="offered").values_list("pk", flat=True))
    assert open_now
    from agglo.factory.selectors.planning import order_problem

    # the solver is told which work stands open (it prefers keeping it among plans of equal cost)
    offered = order_problem(order).offered
    assert sum(p.quantity for p in offered) == sum(
        order.allocations.filter(status="offered").values_list("quantity", flat=True)
    )
    told = Notification.objects.filter(verb="factory.offered").count()
    for _ in range(5):
        order = order_plan(actor=buyer, order=order)
        assert set(order.allocations.filter(status="offered").values_list("pk", flat=True)) == open_now
    assert Notification.objects.filter(verb="factory.offered").count() == told


def test_one_unit_reads_in_the_singular_in_english(cluster: dict[str, Any]) -> None:
    from agglo.common.language import language_remember

    a, factory = delivered(cluster)
    language_remember(factory, "en")
    allocation_receipt(actor=cluster["people"]["buyer"], allocation=a, confirm=True, defects_found=1)
    told = Notification.objects.filter(user=factory, verb="factory.receipt").latest("id").text
    assert told.endswith("its inspection found 1 machine-hour defective."), told
    buyer = signed_in(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    page = buyer.get(f"/factory/orders/{a.order_id}/").content.decode()
    assert "(defects found: 1 machine-hour)" in page and "Defects 0 machine-hours" in page


def test_an_answer_with_a_field_it_does_not_read_is_refused_by_name(cluster: dict[str, Any]) -> None:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    a = order.allocations.filter(status="offered", quantity__gte=2).first()
    who = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    url = f"/api/v1/factory/allocations/{a.pk}/answer"
    r = signed_in(who).post(url, {"action": "accept", "quantity": 1}, content_type="application/json")
    assert r.status_code == 422 and "quantity" in r.json()["errors"]  # not the whole offer accepted unasked
    r = signed_in(who).post(
        url, {"action": "counter", "quantity": 1, "whole_step": True}, content_type="application/json"
    )
    assert r.status_code == 422 and "whole_step" in r.json()["errors"]
    a.refresh_from_db()
    assert a.status == "offered"
    r = signed_in(who).post(url, {"action": "accept", "quantity": None}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "accepted"


def test_an_open_counter_offer_limits_the_plan_as_the_taken_one_will(cluster: dict[str, Any]) -> None:
    """Crawl review 41, F3: a re-plan while a counter-offer is open, and the one after the buyer takes it, read the
    counter the same way (that week at most its quantity, other weeks open), so taking it does not move the work
    the first repair offered elsewhere."""
    from agglo.factory.selectors.planning import capability_key, order_problem

    a, _who = countered(cluster)
    key, said = capability_key(a.capability_id), a.counter_quantity

    def rules() -> tuple[Any, Any]:
        op = next(o for o in order_problem(a.order).operations if o.key == str(a.operation.seq))
        return [lim for lim in op.limits if lim[0] == key], [lim for lim in op.week_limits if lim[0] == key]

    open_rules = rules()
    assert open_rules[0] == [] and [lim[2] for lim in open_rules[1]] == [said]
    counter_decide(actor=cluster["people"]["buyer"], allocation=a, accept=True)
    assert rules() == open_rules


def test_a_delivery_under_dispute_is_not_counted_done_in_the_orders_progress(cluster: dict[str, Any]) -> None:
    """Recheck 42, R4: as the plan chart marks it, the order list does not count a disputed delivery as done."""
    from agglo.factory.selectors.orders import order_get, progress_of

    a, _factory = delivered(cluster)
    buyer = cluster["people"]["buyer"]
    assert progress_of(buyer, order_get(actor=buyer, pk=a.order_id)).delivered == 1
    allocation_receipt(actor=buyer, allocation=a, confirm=False, note="少了一箱")
    assert progress_of(buyer, order_get(actor=buyer, pk=a.order_id)).delivered == 0
    api = signed_in(buyer).get(f"/api/v1/factory/orders/{a.order_id}").json()
    assert api["progress"]["delivered"] == 0 and api["receipts"]["disputed"] == 1


def test_taking_a_counter_offer_says_whether_the_plan_changed(cluster: dict[str, Any]) -> None:
    """Recheck 42, R6: taking a counter-offer re-plans the rest of its step, unless a repair while it was open
    already planned around it: then the flash does not claim anything was planned again."""
    a, _who = countered(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    # a repair while the counter is open (another factory declines a week) plans the rest around it
    other = a.order.allocations.filter(status="offered").exclude(factory_id=a.factory_id).order_by("pk").first()
    owner = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == other.factory_id)
    allocation_respond(actor=owner, allocation=other, action="decline")
    page = buyer.post(f"/factory/allocations/{a.pk}/take-counter/", follow=True).content.decode()
    assert "Counter-offer taken: the rest of the plan needed no change." in page


def test_taking_a_counter_offer_at_once_plans_the_rest_of_its_step(cluster: dict[str, Any]) -> None:
    a, _who = countered(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    buyer.cookies["django_language"] = "en"
    offered, said = a.quantity, a.counter_quantity
    page = buyer.post(f"/factory/allocations/{a.pk}/take-counter/", follow=True).content.decode()
    assert "Counter-offer taken: the rest of the step was planned again." in page
    # the row says what was offered and what the factory took on (review 41, F3)
    assert f"Accepted (counter-offer of {said} of the {offered} machine-hours offered)" in page
    row = next(x for x in buyer.get(f"/api/v1/factory/orders/{a.order_id}/allocations").json() if x["id"] == a.pk)
    assert (row["quantity"], row["offered_quantity"], row["counter_quantity"]) == (said, offered, said)


def test_a_replan_that_found_nothing_in_time_is_not_read_as_unchanged() -> None:
    """Review 43, R6: an unsolved re-plan keeps the figures of the one before; they say nothing of this one."""
    from agglo.factory.models import Order
    from agglo.factory.selectors.orders import plan_unchanged

    nothing = {"new": 0, "withdrawn": 0, "moved": 0, "reduced": 0}
    assert plan_unchanged(Order(status="planned", plan_stats={"reason": "counter", "changes": nothing}), "counter")
    for stats, status in (
        ({"reason": "counter", "changes": nothing, "unsolved": "counter"}, "planned"),
        ({"reason": "plan", "changes": nothing}, "planned"),  # the figures are another re-plan's
        ({"reason": "counter", "changes": nothing}, "infeasible"),
        ({"reason": "counter"}, "planned"),
    ):
        assert not plan_unchanged(Order(status=status, plan_stats=stats), "counter"), stats
