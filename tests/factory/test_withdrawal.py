"""A factory gives back part of its work: the rest of what it accepted stays, and a factory left with no work
leaves the virtual factory."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.utils import translation

from agglo.common.language import language_remember
from agglo.common.models import Notification
from agglo.factory.selectors.orders import virtual_factory_members
from agglo.factory.services import replan as replanning
from agglo.factory.services.amend import order_amend
from agglo.factory.services.capacity import free_in
from agglo.factory.services.execution import allocation_delay, allocation_withdraw
from agglo.factory.services.jobs import allocation_respond, counter_decide
from agglo.ledger.models import LogEntry
from tests.factory.conftest import signed_in
from tests.factory.test_amend import confirmed, split_between_two
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _name_en(cluster: dict[str, Any], factory_id: int) -> str:
    return next(o.name_en for o in cluster["orgs"].values() if o.pk == factory_id)


def _owner(cluster: dict[str, Any], factory_id: int) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == factory_id)


def test_withdrawing_one_week_keeps_the_factorys_other_accepted_week_of_the_step(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    accepted = list(order.allocations.filter(status="accepted"))
    twice = Counter((a.factory_id, a.operation_id) for a in accepted)
    (factory, step), n = twice.most_common(1)[0]
    assert n >= 2, "the plan should give one factory a step over two weeks"
    first, *others = [a for a in accepted if (a.factory_id, a.operation_id) == (factory, step)]
    allocation_withdraw(actor=_owner(cluster, factory), allocation=first, reason="设备故障")
    for a in others:
        a.refresh_from_db()
        assert a.status == "accepted"
    first.refresh_from_db()
    assert first.status == "withdrawn"
    order.refresh_from_db()
    live = order.allocations.filter(operation_id=step, status__in=["offered", "accepted"])
    assert sum(a.quantity for a in live) == first.operation.quantity  # the step is planned in full again
    assert not live.filter(factory_id=factory, status="offered").exists()  # and offers it nothing new
    # a later change of terms keeps it too
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"late_penalty": "2500"})
    for a in others:
        a.refresh_from_db()
        assert a.status == "accepted"


def test_a_factory_left_without_work_leaves_the_virtual_factory(cluster: dict[str, Any]) -> None:
    # The plan splits steps between two factories; then the buyer allows one per step, and a factory whose
    # accepted part is no longer needed is left without work.
    order = split_between_two(cluster)
    buyer = cluster["people"]["buyer"]
    before = {m.organization_id for m in virtual_factory_members(actor=buyer, order=order)}
    order_amend(actor=buyer, order=order, data={"max_suppliers": "1"})
    working = set(order.allocations.filter(status="accepted").values_list("factory_id", flat=True))
    left = before - working - {order.buyer_id}
    assert left, "some factory should have lost all its accepted work"
    after = {m.organization_id for m in virtual_factory_members(actor=buyer, order=order)}
    assert not left & after
    for factory in left:
        who = _owner(cluster, factory)
        assert virtual_factory_members(actor=who, order=order) == []
        page = signed_in(who).get(f"/factory/orders/{order.pk}/").content.decode()
        assert 'id="members"><li class="muted">' in page  # no member named, only why


def test_the_rest_a_factory_keeps_of_a_step_still_gives_way_to_new_terms(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    accepted = list(order.allocations.filter(status="accepted"))
    (factory, step), _n = Counter((a.factory_id, a.operation_id) for a in accepted).most_common(1)[0]
    first, *others = [a for a in accepted if (a.factory_id, a.operation_id) == (factory, step)]
    allocation_withdraw(actor=_owner(cluster, factory), allocation=first, reason="设备故障")
    # one supplier per step: the factory's remaining part cannot carry the step alone, so the plan moves it
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"max_suppliers": "1"})
    order.refresh_from_db()
    assert order.status in ("planned", "confirmed")
    live = order.allocations.filter(operation_id=step, status__in=["offered", "accepted"])
    assert sum(a.quantity for a in live) == first.operation.quantity
    assert len({a.factory_id for a in live}) == 1
    # and the factory that withdrew is never given more of the step than it had left
    mine = sum(a.quantity for a in live if a.factory_id == factory)
    assert mine <= sum(a.quantity for a in others)


def test_a_chinese_factorys_withdrawal_reaches_an_english_buyer_in_english(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    language_remember(cluster["people"]["buyer"], "en")
    held = order.allocations.filter(status="accepted").select_related("factory").first()
    with translation.override("zh-hans"):  # the factory works in Chinese
        allocation_withdraw(actor=_owner(cluster, held.factory_id), allocation=held, reason="设备故障")
    told = Notification.objects.get(user=cluster["people"]["buyer"], verb="factory.answer")
    assert told.text.startswith(f"{_name_en(cluster, held.factory_id)} withdrew its {held.quantity} "), told.text


@pytest.mark.parametrize("step", ["withdrawn", "delayed", "counter_taken"])
def test_a_step_that_re_plans_goes_on_the_log_after_the_solver(
    cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    # Appending locks the log's head for every appender until the commit: taken before the solve, it was held
    # through it, and before the capacity the re-plan releases (an acceptance takes them the other way round).
    order = planned(cluster) if step == "counter_taken" else confirmed(cluster)
    work = order.allocations.filter(status="offered" if step == "counter_taken" else "accepted").order_by("week")[0]
    actor = _owner(cluster, work.factory_id)
    if step == "counter_taken":
        work = allocation_respond(actor=actor, allocation=work, action="counter", quantity=work.quantity // 2)
    event = f"factory.allocation_{step}"
    during: list[int] = []
    solve = replanning.solve

    def watched(*args: Any, **kwargs: Any) -> Any:
        during.append(LogEntry.objects.filter(type=event).count())
        return solve(*args, **kwargs)

    monkeypatch.setattr(replanning, "solve", watched)
    if step == "withdrawn":
        allocation_withdraw(actor=actor, allocation=work, reason="设备故障")
    elif step == "delayed":
        weeks = next(
            n for n in range(1, 6) if free_in(work.capability, work.week + dt.timedelta(weeks=n)) >= work.quantity
        )
        allocation_delay(actor=actor, allocation=work, weeks=weeks, reason="来料延误")
    else:
        counter_decide(actor=cluster["people"]["buyer"], allocation=work, accept=True)
    assert during and set(during) == {0}  # the solver ran with nothing of this step on the log yet
    assert LogEntry.objects.filter(type=event).count() == 1
