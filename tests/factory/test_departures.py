"""A factory whose organization is suspended or withdrawn: its open offers and the work it has not begun go to
other factories at once; work under way stays."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command

from agglo.common.models import AuditEvent, Notification
from agglo.factory.models import Allocation, Order
from agglo.factory.services.capacity import free_in
from agglo.factory.services.departures import departures_replan
from agglo.factory.services.jobs import allocation_respond
from agglo.registry.models import Organization
from agglo.registry.services import organization_set_status
from tests.factory.conftest import signed_in
from tests.factory.test_amend import confirmed
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db

LIVE = ("offered", "countered", "accepted")


def _suspend(cluster: dict[str, Any], name: str, capture: Any, status: str = "suspended") -> Organization:
    org = cluster["orgs"][name]
    with capture(execute=True):
        organization_set_status(actor=cluster["operator"], organization=org, status=status, reason="审核未通过")
    return org


def _covered(order: Order) -> dict[int, int]:
    """Units of each step offered, accepted or delivered."""
    units: dict[int, int] = {}
    for a in order.allocations.filter(status__in=[*LIVE, "delivered"]).select_related("operation"):
        units[a.operation.seq] = units.get(a.operation.seq, 0) + a.quantity
    return units


def test_a_suspended_factorys_accepted_work_goes_to_others_at_once(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = confirmed(cluster)
    sz = cluster["orgs"]["sz"]
    mine = list(order.allocations.filter(factory=sz, status="accepted").select_related("capability"))
    assert mine, "the plan should give the Shenzhen factory work"
    free_before = {(a.capability_id, a.week): free_in(a.capability, a.week) for a in mine}
    _suspend(cluster, "sz", django_capture_on_commit_callbacks)
    order.refresh_from_db()
    assert order.status == "planned", order.diagnosis
    assert not order.allocations.filter(factory=sz, status__in=LIVE).exists()
    released: dict[tuple[int, Any], int] = {}
    for a in mine:
        a.refresh_from_db()
        assert (a.status, a.moved_by) == ("superseded", "left")
        released[a.capability_id, a.week] = released.get((a.capability_id, a.week), 0) + a.quantity
    for a in mine:  # its capacity is released, and no other work is put there
        assert free_in(a.capability, a.week) == free_before[a.capability_id, a.week] + released[a.capability_id, a.week]
    assert _covered(order) == {1: 600, 2: 600, 3: 600}  # every step planned in full again, by the others
    assert order.plan_stats["reason"] == "left"
    event = AuditEvent.objects.get(event="factory.factories_left")  # the buyer's history names the factory
    assert event.payload["factories"] == [{"id": sz.pk, "name": "sz工厂有限公司"}]
    told = Notification.objects.get(user=cluster["people"]["buyer"], verb="factory.left")
    assert "sz工厂有限公司" in told.text and "已被收回" in told.text, told.text
    assert Notification.objects.filter(user=cluster["people"]["sz"], verb="factory.left").count() == 1
    # its job board says why the work went
    page = signed_in(cluster["people"]["sz"]).get("/factory/jobs/").content.decode()
    assert "已收回：当时该工厂不是正常状态的成员" in page


def test_work_under_way_stays_with_the_factory_that_left(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = confirmed(cluster)
    sz = cluster["orgs"]["sz"]
    started, *rest = list(order.allocations.filter(factory=sz, status="accepted").order_by("week"))
    Allocation.objects.filter(pk=started.pk).update(started=True)
    _suspend(cluster, "sz", django_capture_on_commit_callbacks, status="withdrawn")
    started.refresh_from_db()
    assert (started.status, started.moved_by) == ("accepted", "")
    for a in rest:
        a.refresh_from_db()
        assert a.status == "superseded" and a.moved_by == "left"
    order.refresh_from_db()
    assert _covered(order) == {1: 600, 2: 600, 3: 600}


def test_open_offers_and_counters_of_a_suspended_factory_are_replaced(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = planned(cluster)
    sz = cluster["orgs"]["sz"]
    offers = list(order.allocations.filter(factory=sz, status="offered"))
    assert len(offers) >= 2
    countered = offers[0]
    allocation_respond(
        actor=cluster["people"]["sz"], allocation=countered, action="counter", quantity=countered.quantity // 2
    )
    countered.refresh_from_db()
    assert countered.status == "countered"
    _suspend(cluster, "sz", django_capture_on_commit_callbacks)
    for a in offers:
        a.refresh_from_db()
        assert (a.status, a.moved_by) == ("superseded", "left")  # the counter-offer too: the buyer cannot take it
    order.refresh_from_db()
    assert not order.allocations.filter(factory=sz, status__in=LIVE).exists()
    assert _covered(order) == {1: 600, 2: 600, 3: 600}
    # nothing is left for a second round
    assert departures_replan() == 0


def test_the_sweep_catches_a_status_changed_without_the_service_and_spares_a_reinstated_member(
    cluster: dict[str, Any],
) -> None:
    order = confirmed(cluster)
    sz, su = cluster["orgs"]["sz"], cluster["orgs"]["su"]
    # changed in bulk (no signal): the next housekeeping round finds it
    Organization.objects.filter(pk=sz.pk).update(status="suspended")
    Organization.objects.filter(pk=su.pk).update(status="suspended")
    Organization.objects.filter(pk=su.pk).update(status="member")  # reinstated before the round
    su_work = set(order.allocations.filter(factory=su, status="accepted").values_list("pk", flat=True))
    call_command("replan_departed", stdout=open("/dev/null", "w"))  # noqa: SIM115
    order.refresh_from_db()
    assert not order.allocations.filter(factory=sz, status__in=LIVE).exists()
    assert su_work <= set(order.allocations.filter(factory=su, status="accepted").values_list("pk", flat=True))
    assert _covered(order) == {1: 600, 2: 600, 3: 600}


def test_an_edit_of_a_suspended_organization_that_left_nothing_open_replans_nothing(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = confirmed(cluster)
    cd = cluster["orgs"]["cd"]
    _suspend(cluster, "cd", django_capture_on_commit_callbacks)
    order.refresh_from_db()
    version = order.plan_version
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        organization_set_status(actor=cluster["operator"], organization=cd, status="withdrawn")
    # nothing of it left open: no task (the other callbacks mail its admins, refresh its match documents)
    assert not [c for c in callbacks if "factory" in c.__module__]
    order.refresh_from_db()
    assert order.plan_version == version


def test_a_withdrawn_buyers_open_orders_are_called_off_and_a_suspended_ones_stand(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    confirmed_order = confirmed(cluster)
    offered_order = planned(cluster, product="控制器外壳")
    _suspend(cluster, "buyer", django_capture_on_commit_callbacks)
    for order in (confirmed_order, offered_order):
        order.refresh_from_db()
        assert order.status in ("confirmed", "planned")  # a suspension may be lifted: the orders stand
    _suspend(cluster, "buyer", django_capture_on_commit_callbacks, status="withdrawn")
    factories = set()
    for order in (confirmed_order, offered_order):
        order.refresh_from_db()
        assert order.status == "cancelled"
        assert not order.allocations.filter(status__in=LIVE).exists()
        factories |= set(order.allocations.values_list("factory_id", flat=True))
    owner = {o.pk: n for n, o in cluster["orgs"].items()}
    for factory in factories:  # every factory it had offered work to is told, in its language
        note = Notification.objects.filter(user=cluster["people"][owner[factory]], verb="factory.cancelled").first()
        assert note is not None and "其买方已不是平台成员" in note.text, factory
    # every accepted week's capacity is free again
    for a in confirmed_order.allocations.select_related("capability"):
        assert free_in(a.capability, a.week) == a.capability.weekly_capacity
    page = signed_in(cluster["operator"]).get(f"/factory/orders/{confirmed_order.pk}/").content.decode()
    assert "其买方已不是平台成员，订单因此撤销。" in page
    # the buyer's admins are told which, in one notice
    told = Notification.objects.get(user=cluster["people"]["buyer"], verb="factory.cancelled")
    assert "其未完成的订单已撤销" in told.text and told.link == "/factory/", told.text
    assert confirmed_order.product in told.text and offered_order.product in told.text, told.text


def test_the_operator_suspending_in_the_admin_is_told_what_follows(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = confirmed(cluster)
    staff = cluster["operator"]
    staff.is_staff = True
    staff.save()
    client = signed_in(staff)
    sz = cluster["orgs"]["sz"]
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/admin/registry/organization/", {"action": "set_suspended", "_selected_action": [sz.pk]}, follow=True
        )
    assert "所属工厂待答复的报价和尚未开始的任务将被收回" in page.content.decode()
    assert not order.allocations.filter(factory=sz, status__in=LIVE).exists()


def test_the_factories_of_a_suspended_buyer_are_told_and_told_again_when_it_is_reinstated(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = confirmed(cluster)
    planned(cluster, product="控制器外壳")
    working = set(order.allocations.filter(status="accepted").values_list("factory_id", flat=True))
    owner = {o.pk: n for n, o in cluster["orgs"].items()}

    def told(verb_text: str) -> dict[str, int]:
        return {
            owner[f]: Notification.objects.filter(
                user=cluster["people"][owner[f]], verb="factory.buyer_status", text__contains=verb_text
            ).count()
            for f in working
        }

    _suspend(cluster, "buyer", django_capture_on_commit_callbacks)
    said = told("被平台运营方暂停")
    assert set(said.values()) == {1}, said  # one notice per factory, naming both orders where it works on both
    note = Notification.objects.filter(verb="factory.buyer_status").first()
    assert note is not None and "工业网关外壳" in note.text
    order.refresh_from_db()
    assert order.status == "confirmed"  # the orders stand
    _suspend(cluster, "buyer", django_capture_on_commit_callbacks, status="suspended")  # again: nothing new
    assert told("被平台运营方暂停") == said
    _suspend(cluster, "buyer", django_capture_on_commit_callbacks, status="member")
    assert set(told("已恢复为正常状态的成员").values()) == {1}


def test_a_reinstated_factory_is_told_what_stays_with_others_and_is_offered_work_again(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    order = confirmed(cluster)
    sz = cluster["orgs"]["sz"]
    _suspend(cluster, "sz", django_capture_on_commit_callbacks)
    taken = set(order.allocations.filter(factory=sz, moved_by="left").values_list("pk", flat=True))
    assert taken
    _suspend(cluster, "sz", django_capture_on_commit_callbacks, status="member")
    told = Notification.objects.get(user=cluster["people"]["sz"], verb="factory.reinstated")
    assert order.product in told.text and "这些任务仍归它们" in told.text, told.text
    assert told.link == "/factory/jobs/"
    # what was re-planned to others stays with them; a new order offers it work again
    assert (
        set(order.allocations.filter(factory=sz, moved_by="left", status="superseded").values_list("pk", flat=True))
        == taken
    )
    # its job board and the order's page say what was taken back, in words still true now that it is a member again
    # (review 109: "the factory is no longer a member in good standing"); the order's plan no longer has a part of
    # its own, said in words, not as an empty chart of weeks to scroll through
    client = signed_in(cluster["people"]["sz"])
    page = client.get("/factory/jobs/").content.decode()
    assert "已收回：当时该工厂不是正常状态的成员" in page and "已不是正常状态" not in page
    page = client.get(f"/factory/orders/{order.pk}/").content.decode()
    assert 'id="gantt-empty">当前方案中没有贵厂的任务。</p>' in page and 'id="gantt"' not in page
    # the changes list it, the date kept whole beside its time
    assert re.search(r'<td data-label="时间"><span class="date">\d{4}-\d\d-\d\d</span> \d\d:\d\d</td>', page)
    fresh = planned(cluster, product="控制器外壳")
    assert fresh.allocations.filter(factory=sz, status="offered").exists()
