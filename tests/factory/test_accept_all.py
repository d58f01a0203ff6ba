"""A factory accepts every open offer of one order at once, on its job board or over the API: all, or none."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from agglo.factory.models import Allocation, CapacitySlot
from agglo.factory.services.capacity import capacity_set
from tests.factory.conftest import signed_in
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def _busiest(order: Any, cluster: dict[str, Any]) -> tuple[str, Any, list[Allocation]]:
    """The factory with the most offers on the order: its name in the cluster, its organization and its offers."""
    counts = Counter(order.allocations.filter(status="offered").values_list("factory_id", flat=True))
    factory_id, n = counts.most_common(1)[0]
    assert n >= 2, "the plan should offer one factory several pieces"
    name = next(k for k, o in cluster["orgs"].items() if o.pk == factory_id)
    offers = list(order.allocations.filter(status="offered", factory_id=factory_id).select_related("capability"))
    return name, cluster["orgs"][name], offers


def test_all_offers_of_an_order_are_accepted_from_the_job_board(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    name, org, offers = _busiest(order, cluster)
    client = signed_in(cluster["people"][name])
    board = client.get("/factory/jobs/").content.decode()
    assert f'action="/factory/orders/{order.pk}/accept-offers/"' in board
    assert f"接受 {order.product} 的全部 {len(offers)} 项报价" in board
    answer = client.post(
        f"/factory/orders/{order.pk}/accept-offers/", {"factory": org.pk, "next": "/factory/jobs/"}, follow=True
    )
    assert f"已接受 {len(offers)} 项报价" in answer.content.decode()
    for a in offers:
        a.refresh_from_db()
        assert a.status == "accepted"
    slots = {(s.capability_id, s.week): s.reserved for s in CapacitySlot.objects.filter(capability__organization=org)}
    for a in offers:
        assert slots[a.capability_id, a.week] >= a.quantity
    # the other factories' offers are theirs to answer
    assert order.allocations.exclude(factory=org).filter(status="offered").exists()


def test_one_offer_that_no_longer_fits_leaves_every_offer_open_and_is_named(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    name, org, offers = _busiest(order, cluster)
    last = sorted(offers, key=lambda a: (a.operation.seq, a.week))[-1]
    admin = cluster["people"][name]
    capacity_set(actor=admin, capability=last.capability, week=last.week.isoformat(), capacity=last.quantity - 1)
    client = signed_in(admin)
    answer = client.post(f"/api/v1/factory/orders/{order.pk}/accept-offers", {"factory": org.pk}, "application/json")
    assert answer.status_code == 422, answer.content
    said = answer.json()["errors"]["action"][0]
    assert f"步骤 {last.operation.seq}" in said and last.week.isoformat() in said and "所有报价均未接受" in said
    for a in offers:
        a.refresh_from_db()
        assert a.status == "offered"
    assert not CapacitySlot.objects.filter(capability__organization=org, reserved__gt=0).exists()


def test_only_the_factory_itself_accepts_and_the_api_answers_the_accepted_pieces(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    name, org, offers = _busiest(order, cluster)
    other = next(n for n in ("sz", "su", "cd") if n != name)
    refused = signed_in(cluster["people"][other]).post(
        f"/api/v1/factory/orders/{order.pk}/accept-offers", {"factory": org.pk}, "application/json"
    )
    assert refused.status_code in (403, 404)
    missing = signed_in(cluster["people"][name]).post(
        f"/api/v1/factory/orders/{order.pk}/accept-offers", {}, "application/json"
    )
    assert missing.status_code == 422 and "factory" in missing.json()["errors"]
    done = signed_in(cluster["people"][name]).post(
        f"/api/v1/factory/orders/{order.pk}/accept-offers", {"factory": org.pk}, "application/json"
    )
    assert done.status_code == 200, done.content
    assert sorted(a["id"] for a in done.json()) == sorted(a.pk for a in offers)
    assert {a["status"] for a in done.json()} == {"accepted"}
    again = signed_in(cluster["people"][name]).post(
        f"/api/v1/factory/orders/{order.pk}/accept-offers", {"factory": org.pk}, "application/json"
    )
    assert again.status_code == 422 and "不再有" in again.json()["errors"]["action"][0]
