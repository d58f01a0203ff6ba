"""Review 106 (the session's new features read again): accepting all of an order's offers takes the order's
planning turn before any capacity, and accepts only the offers the factory was shown."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest
from django.db import connection

from agglo.factory.models import Allocation
from agglo.factory.services import jobs
from agglo.factory.services.orders import order_create, order_plan
from tests.conftest import staggered
from tests.factory.conftest import order_data, signed_in
from tests.factory.test_plan_flow import planned

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


def _sz_only(cluster: dict[str, Any], first: str, second: str) -> Any:
    """An order only the Shenzhen factory can serve (Guangdong only): two steps side by side, `first` numbered 1."""
    buyer = cluster["people"]["buyer"]
    data = order_data(
        regions_only=["440000"],
        max_suppliers=1,
        operations=[{"process": first, "quantity": 200}, {"process": second, "quantity": 200}],
    )
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=data))
    offered = set(order.allocations.filter(status="offered").values_list("operation__process_id", flat=True))
    assert offered == {first, second}, order.diagnosis
    return order


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_two_accept_alls_whose_routes_cross_both_finish(cluster: dict[str, Any], monkeypatch: Any) -> None:
    # one order's route takes machining first, the other's assembly: each accept-all locked its first capability,
    # then waited for the other's (a deadlock, one of the two answered with a server error)
    a = _sz_only(cluster, "cnc", "assembly")
    b = _sz_only(cluster, "assembly", "cnc")
    sz, admin = cluster["orgs"]["sz"], cluster["people"]["sz"]
    real_reserve = jobs.reserve
    first_done: dict[str, bool] = {}

    def slow_reserve(*args: Any, **kw: Any) -> Any:
        done = real_reserve(*args, **kw)
        name = threading.current_thread().name
        if not first_done.get(name):  # hold the first capability while the other thread takes its own
            first_done[name] = True
            time.sleep(1.5)
        return done

    monkeypatch.setattr(jobs, "reserve", slow_reserve)
    outcome = staggered(
        {
            "a": lambda: jobs.offers_accept(actor=admin, order=a, factory_id=sz.pk),
            "b": lambda: jobs.offers_accept(actor=admin, order=b, factory_id=sz.pk),
        },
        gap=0.5,
    )
    assert not any(isinstance(v, BaseException) for v in outcome.values()), outcome
    assert not Allocation.objects.filter(order__in=(a, b), status="offered").exists()


def _busiest(order: Any, cluster: dict[str, Any]) -> tuple[Any, Any, list[Allocation]]:
    """The factory with the most offers on the order: its admin, its organization and its offers."""
    from collections import Counter

    counts = Counter(order.allocations.filter(status="offered").values_list("factory_id", flat=True))
    factory_id, n = counts.most_common(1)[0]
    assert n >= 2
    name = next(k for k, o in cluster["orgs"].items() if o.pk == factory_id)
    offers = list(order.allocations.filter(status="offered", factory_id=factory_id).order_by("pk"))
    return cluster["people"][name], cluster["orgs"][name], offers


def _replanned_meanwhile(offer: Allocation) -> Allocation:
    """A re-plan after the board was drawn: one offer it showed is gone, a new one in its place."""
    Allocation.objects.filter(pk=offer.pk).update(status="superseded")
    offer.pk, offer.id = None, None
    offer.save()
    return offer


@pytest.mark.django_db
def test_accept_all_accepts_only_the_offers_the_board_showed(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    admin, org, offers = _busiest(order, cluster)
    client = signed_in(admin)
    board = client.get("/factory/jobs/").content.decode()
    shown = [int(x) for x in re.findall(r'name="offer" value="(\d+)"', board)]
    assert sorted(shown) == [a.pk for a in offers]
    new = _replanned_meanwhile(offers[0])
    sent = {"factory": org.pk, "next": "/factory/jobs/", "offer": shown}
    answer = client.post(f"/factory/orders/{order.pk}/accept-offers/", sent, follow=True).content.decode()
    assert f"自页面显示以来，本订单给您的报价已有变化（现有 {len(offers)} 项未答复）" in answer
    assert not order.allocations.filter(status="accepted").exists()  # the work never shown is not taken
    # read again, the board shows the offers now open, and they are accepted
    board = client.get("/factory/jobs/").content.decode()
    shown = [int(x) for x in re.findall(r'name="offer" value="(\d+)"', board)]
    assert new.pk in shown
    client.post(f"/factory/orders/{order.pk}/accept-offers/", {**sent, "offer": shown})
    assert order.allocations.filter(factory=org, status="accepted").count() == len(offers)


@pytest.mark.django_db
def test_accept_all_over_the_api_with_the_offers_read(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    admin, org, offers = _busiest(order, cluster)
    client = signed_in(admin)
    url = f"/api/v1/factory/orders/{order.pk}/accept-offers"
    read = [a.pk for a in offers]
    _replanned_meanwhile(offers[-1])
    answer = client.post(url, {"factory": org.pk, "offers": read}, "application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 422, answer.content
    assert "changed since they were shown" in answer.json()["errors"]["offers"][0]
    for bad in (["x"], [0], list(range(1, 1003))):
        answer = client.post(url, {"factory": org.pk, "offers": bad}, "application/json")
        assert answer.status_code == 422 and "offers" in answer.json()["errors"], answer.content
    assert not order.allocations.filter(status="accepted").exists()
    answer = client.post(url, {"factory": org.pk}, "application/json")  # without them: every open offer
    assert answer.status_code == 200, answer.content
    assert order.allocations.filter(factory=org, status="accepted").count() == len(offers)


@pytest.mark.django_db
def test_a_departed_factory_is_not_told_its_work_went_to_others_when_none_could_take_it(
    cluster: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from agglo.common.models import Notification
    from agglo.registry.services import organization_set_status

    order = _sz_only(cluster, "cnc", "assembly")  # no other factory may serve it
    sz = cluster["orgs"]["sz"]
    with django_capture_on_commit_callbacks(execute=True):
        organization_set_status(actor=cluster["operator"], organization=sz, status="suspended", reason="核查")
    order.refresh_from_db()
    assert order.status == "infeasible"
    told = Notification.objects.get(user=cluster["people"]["sz"], verb="factory.left")
    assert "已被收回" in told.text and "其他工厂" not in told.text
    assert "were taken back; the order is planned without you" in told.texts["en"]
