"""When a factory's move (a decline, a withdrawal, a delay, silence) re-plans an order, the buyer is told what
happened and what the re-plan made of it, in the buyer's own language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from agglo.common.language import language_remember
from agglo.common.models import Notification
from agglo.factory.models import Allocation, Capability, Order
from agglo.factory.risk import failure_risk
from agglo.factory.selectors.scorecards import scorecards
from agglo.factory.services.amend import order_amend
from agglo.factory.services.execution import allocation_delay, allocation_withdraw
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_cancel, order_plan
from tests.factory.conftest import signed_in
from tests.factory.test_amend import confirmed
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _owner(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


def _told(cluster: dict[str, Any], verb: str = "factory.answer") -> str:
    return Notification.objects.filter(user=cluster["people"]["buyer"], verb=verb).latest("id").text


def _repair(order: Order) -> str:
    """The English outcome the buyer should read, from what the re-plan left in the database."""
    order.refresh_from_db()
    new = order.allocations.filter(plan_version=order.plan_version, status="offered")
    offered, factories = new.count(), len({a.factory_id for a in new})
    changes = order.plan_stats["changes"]
    assert (changes["offered"], changes["factories"]) == (offered, factories)
    text = (
        f"The plan was repaired: {offered} offer{'s await answers' if offered > 1 else ' awaits an answer'}, "
        f"from {factories} factor{'ies' if factories > 1 else 'y'}."
        if offered
        else "The plan was repaired; nothing new needs an answer."
    )
    moved = changes["moved"]
    if moved:
        text += f" {moved} accepted part{'s' if moved > 1 else ''} had to be re-planned."
    return text


def test_a_withdrawal_tells_the_buyer_what_the_repair_offered(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    held = order.allocations.filter(status="accepted").first()
    allocation_withdraw(actor=_owner(cluster, held.factory_id), allocation=held, reason="设备故障")
    said = _told(cluster)
    name = next(o.name_en for o in cluster["orgs"].values() if o.pk == held.factory_id)
    part = f"{held.quantity} {held.operation.process.unit_en} of step {held.operation.seq} of order {order.product}"
    assert said == f"{name} withdrew its {part} in the week of {held.week.isoformat()} (设备故障). {_repair(order)}"
    assert order.plan_stats["changes"]["offered"] >= 1  # the withdrawn part is offered again


def test_a_decline_that_leaves_no_plan_says_so_instead_of_claiming_a_repair(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    a = order.allocations.filter(status="offered").first()
    waiting = set(order.allocations.filter(status="offered").exclude(pk=a.pk).values_list("factory_id", flat=True))
    Capability.objects.filter(process=a.capability.process).exclude(pk=a.capability_id).update(active=False)
    allocation_respond(
        actor=_owner(cluster, a.factory_id), allocation=a, action="decline", note="排不开", whole_step=True
    )
    order.refresh_from_db()
    assert order.status == "infeasible"
    said = _told(cluster)
    name = next(o.name_zh for o in cluster["orgs"].values() if o.pk == a.factory_id)
    # in the factory's words
    assert said.startswith(f"{name} 婉拒了订单 {order.product} 步骤 {a.operation.seq} 各周的任务（排不开）。"), said
    assert "无可行方案" in said, said
    assert "方案已修复" not in said
    # the factories whose offers the failed re-plan took back are told so
    told = {
        o.pk
        for o in cluster["orgs"].values()
        if Notification.objects.filter(user__memberships__organization=o, verb="factory.offer_withdrawn").exists()
    }
    assert waiting and told == waiting
    # the page dates its findings: capacity and other offers change after them
    page = signed_in(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    assert 'id="diagnosis-when"' in page and order.plan_stats["checked_at"] in page


def test_a_delay_tells_the_buyer_what_moved(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    late = order.allocations.filter(status="accepted", operation__seq=1).order_by("-week").first()
    others = set(order.allocations.filter(status="accepted").exclude(pk=late.pk).values_list("pk", flat=True))
    allocation_delay(actor=_owner(cluster, late.factory_id), allocation=late, weeks=1, reason="原料延误")
    late.refresh_from_db()
    assert late.status == "accepted"  # the factory keeps its late work; the next step waits for it
    moved = Allocation.objects.filter(pk__in=others, status="superseded").count()
    assert moved >= 1  # what followed it in the route had to move
    said = _told(cluster)
    name = next(o.name_en for o in cluster["orgs"].values() if o.pk == late.factory_id)
    assert said == f"{name} reports a delay of 1 week on order {order.product} (原料延误). {_repair(order)}", said
    assert f"{moved} accepted parts had to be re-planned." in said
    # the plan's cost leaves out the solver's charge for moving accepted work, which is shown apart
    costs = order.plan_stats["costs"]
    assert costs["change"] > 0
    page = signed_in(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    real = costs["production"] + costs["setup"] + costs["risk"] + costs["lateness"]
    assert f"Plan cost ¥{real:,} ·" in page and f"includes ¥{costs['change']:,} charged" in page


def test_the_buyer_hears_when_answers_did_not_come_in_time(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    waiting = order.allocations.filter(status="offered")
    n = waiting.count()
    Allocation.objects.filter(pk__in=waiting.values("pk")).update(respond_by=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    call_command("expire_offers")
    said = _told(cluster, "factory.offers_expired")
    assert said.startswith(f"{n} offers on order {order.product} were not answered in time. "), said
    order.refresh_from_db()
    assert said.endswith(_repair(order) if order.status == "planned" else "the order page says why.")


def test_a_delay_too_long_to_wait_for_sends_the_late_part_elsewhere_and_both_sides_hear_why(
    cluster: dict[str, Any],
) -> None:
    order = confirmed(cluster, late_penalty="50000")  # lateness costs far more than another factory does
    language_remember(cluster["people"]["buyer"], "en")
    late = order.allocations.filter(status="accepted", operation__seq=1).order_by("-week").first()
    late_factory = _owner(cluster, late.factory_id)
    assert late.factory_id not in scorecards([late.factory_id])
    allocation_delay(actor=late_factory, allocation=late, weeks=4, reason="主轴故障")
    late.refresh_from_db()
    assert late.status == "superseded"
    # the promise the delay broke stays on the factory's record: a job not made, not on time
    card = scorecards([late.factory_id])[late.factory_id]
    assert (card.jobs, card.taken, card.withdrawn, card.delivered, card.on_time) == (1, 1, 0, 0, 0)
    assert card.on_time_rate == 0 and card.risk > failure_risk(None, 0, None, None)
    said = _told(cluster)
    assert " reports a delay of 4 weeks on order " in said
    assert "(主轴故障); the late part was planned anew without it." in said, said
    heard = dict(Notification.objects.filter(user=late_factory, verb="factory.superseded").values_list("text", "link"))
    assert (
        heard[
            f"订单 {order.product} 已根据您报告的延误重新规划：您无需再生产延误的部分；"
            "如有新的任务，将另行向您发出邀约。"
        ]
        == "/factory/jobs/"
    )
    # "Plan again" keeps the delay in mind: that factory is not offered the step before the week it gave
    order_plan(actor=cluster["people"]["buyer"], order=order)
    sooner = order.allocations.filter(
        status="offered", operation__seq=1, capability_id=late.capability_id, week__lt=late.week
    )
    assert not sooner.exists()


@pytest.mark.parametrize("change", ["cancel", "amend"])
def test_a_delay_the_buyer_changed_the_order_around_leaves_no_mark(cluster: dict[str, Any], change: str) -> None:
    order = confirmed(cluster)
    late = order.allocations.filter(status="accepted", operation__seq=1).order_by("-week").first()
    allocation_delay(actor=_owner(cluster, late.factory_id), allocation=late, weeks=1, reason="原料延误")
    late.refresh_from_db()
    assert late.status == "accepted" and late.week > late.promised_week  # kept, later
    buyer = cluster["people"]["buyer"]
    if change == "cancel":
        order_cancel(actor=buyer, order=order, reason="项目取消")
    else:  # the buyer excludes the late factory's province: its work goes, by the buyer's choice
        order_amend(actor=buyer, order=order, data={"regions_excluded": [late.factory.area_id[:2] + "0000"]})
    late.refresh_from_db()
    assert late.status == "superseded" and late.moved_by == ("cancelled" if change == "cancel" else "amended")
    assert late.factory_id not in scorecards([late.factory_id])


@pytest.mark.parametrize(
    ("moved_by", "counts"),
    [("plan", True), ("delayed", True), ("amended", False), ("counter", False), ("cancelled", False)],
)
def test_late_work_a_re_plan_took_counts_unless_the_buyers_own_change_took_it(
    cluster: dict[str, Any], moved_by: str, counts: bool
) -> None:
    """ "Plan again" is how a buyer answers a delay: the late work it takes stays on the factory's record."""
    order = confirmed(cluster)
    late = order.allocations.filter(status="accepted", operation__seq=1).order_by("-week").first()
    allocation_delay(actor=_owner(cluster, late.factory_id), allocation=late, weeks=1, reason="原料延误")
    late.refresh_from_db()
    assert late.status == "accepted" and late.week > late.promised_week
    Allocation.objects.filter(pk=late.pk).update(status="superseded", moved_by=moved_by)
    card = scorecards([late.factory_id]).get(late.factory_id)
    assert (card is not None and (card.jobs, card.taken, card.on_time) == (1, 1, 0)) is counts


def test_a_lapse_notice_names_the_order_once(cluster: dict[str, Any]) -> None:
    from tests.factory.test_answers import countered

    a, _who = countered(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    Allocation.objects.filter(order=a.order, status__in=["offered", "countered"]).update(
        respond_by=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    )
    call_command("expire_offers")
    said = _told(cluster, "factory.offers_expired")
    assert said.count(a.order.product) == 1, said
    assert "1 counter-offer that you had not decided on lapsed as well." in said, said


def test_a_factory_whose_own_answer_moved_its_work_is_not_told_a_factory_did_it(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.telling import tell_moved
    from tests.factory.test_amend import confirmed

    a = confirmed(cluster).allocations.filter(status="accepted").first()
    a.moved_by = "declined"
    admin = next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)
    tell_moved([a], [], own_step=1)  # it declined part of step 1; this notice may be about another step
    tell_moved([a], [], own_step=None)
    own, other = Notification.objects.filter(user=admin, verb="factory.superseded").order_by("id")
    assert "您婉拒了步骤 1 的部分任务" in own.text and "有工厂" not in own.text
    assert "有工厂婉拒了其任务" in other.text
