""" "Order again": a buyer's new order filled in from one of its earlier orders, sent as drawn."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agglo.factory.models import Order
from agglo.factory.selectors.planning import first_open_day
from agglo.factory.services.orders import order_cancel
from agglo.factory.weeks import monday
from tests.factory.conftest import signed_in
from tests.factory.test_plan_flow import planned
from tests.web.test_form_versions import drawn

pytestmark = pytest.mark.django_db


def _route(order: Order) -> list[tuple[int, str, int, list[int]]]:
    return [(op.seq, op.process_id, op.quantity, list(op.after)) for op in order.operations.order_by("seq")]


def test_a_cancelled_order_placed_again_as_drawn_keeps_its_terms_and_route(cluster: dict[str, Any]) -> None:
    earlier = planned(
        cluster,
        min_quality=2,
        certifications=["ISO9001"],
        regions_excluded=["510000"],
        budget="90000",
        max_share="0.8",
    )
    buyer = cluster["people"]["buyer"]
    order_cancel(actor=buyer, order=earlier, reason="改期")
    client = signed_in(buyer)
    page = client.get(f"/factory/orders/{earlier.pk}/")
    assert f'href="/factory/orders/new/?from={earlier.pk}"' in page.content.decode()
    form_page = client.get(f"/factory/orders/new/?from={earlier.pk}")
    assert form_page.status_code == 200 and 'id="repeated"' in form_page.content.decode()
    form = drawn(form_page, "order-form")
    start = monday(first_open_day())
    assert form["start_week"] == start.isoformat()
    assert form["due_week"] == (start + (earlier.due_week - earlier.start_week)).isoformat()
    assert form["regions_excluded"] == "四川省"  # by name, as the field takes them
    assert form["buyer"] == [str(earlier.buyer_id)]
    sent = client.post("/factory/orders/new/", {k: v[0] if isinstance(v, list) else v for k, v in form.items()})
    assert sent.status_code == 302, sent.content.decode()[:3000]
    again = Order.objects.exclude(pk=earlier.pk).get(buyer=earlier.buyer)
    assert _route(again) == _route(earlier)
    for field in ("product", "quantity", "min_quality", "certifications", "max_suppliers", "late_penalty"):
        assert getattr(again, field) == getattr(earlier, field), field
    assert (again.budget, again.max_share, again.regions_excluded) == (earlier.budget, earlier.max_share, ["510000"])
    assert again.plan_stats["status"]  # sent to the solver at once, as a new order is


def test_a_route_longer_than_the_new_form_comes_whole(cluster: dict[str, Any]) -> None:
    steps = [{"process": "cnc", "quantity": 10, "after": [n] if n else []} for n in range(10)]
    earlier = planned(cluster, operations=steps, due_week=(dt.date.today() + dt.timedelta(weeks=11)).isoformat())
    client = signed_in(cluster["people"]["buyer"])
    form = drawn(client.get(f"/factory/orders/new/?from={earlier.pk}"), "order-form")
    assert form["op-10-after"] == "9" and form["op-10-process"] == ["cnc"]
    sent = client.post("/factory/orders/new/", {k: v[0] if isinstance(v, list) else v for k, v in form.items()})
    assert sent.status_code == 302, sent.content.decode()[:3000]
    again = Order.objects.exclude(pk=earlier.pk).get(buyer=earlier.buyer)
    assert _route(again) == _route(earlier)


def test_only_the_buyers_people_may_repeat_an_order(cluster: dict[str, Any]) -> None:
    earlier = planned(cluster)
    factory = cluster["people"]["sz"]  # offered work on it: sees its part, not the buyer's terms
    assert factory_sees_order(factory, earlier)
    assert signed_in(factory).get(f"/factory/orders/new/?from={earlier.pk}").status_code == 404
    assert "order-again" not in signed_in(factory).get(f"/factory/orders/{earlier.pk}/").content.decode()
    assert signed_in(cluster["people"]["buyer"]).get("/factory/orders/new/?from=x").status_code == 404


def factory_sees_order(who: Any, order: Order) -> bool:
    return signed_in(who).get(f"/factory/orders/{order.pk}/").status_code == 200
