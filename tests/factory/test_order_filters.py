"""The order list's filters, on the page and in the API: status (or all open orders), the reader's part (placed
or served in) and a search by number, product or buyer, none of which reaches past what the reader may see."""

from __future__ import annotations

from typing import Any

import pytest

from agglo.factory.models import Order
from agglo.factory.services.orders import order_cancel, order_create, order_plan
from tests.factory.conftest import order_data, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(cluster: dict[str, Any]) -> dict[str, Order]:
    """The buyer's planned gateway housing, a draft and a cancelled order; an order the Shenzhen factory placed."""
    people = cluster["people"]
    buyer = people["buyer"]
    planned = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    draft = order_create(actor=buyer, data=order_data(product="电机控制板"))
    cancelled = order_cancel(
        actor=buyer, order=order_create(actor=buyer, data=order_data(product="传感器支架")), reason="不再需要"
    )
    own = order_create(actor=people["sz"], data=order_data(product="测试治具", buyer=cluster["orgs"]["sz"].pk))
    return {"planned": planned, "draft": draft, "cancelled": cancelled, "own": own}


def listed(who: Any, query: str) -> list[int]:
    r = signed_in(who).get(f"/api/v1/factory/orders?{query}")
    assert r.status_code == 200, r.content
    return [o["id"] for o in r.json()]


def test_status_keeps_one_status_or_every_open_order(cluster: dict[str, Any], orders: dict[str, Order]) -> None:
    buyer = cluster["people"]["buyer"]
    assert set(listed(buyer, "")) == {orders[k].pk for k in ("planned", "draft", "cancelled")}
    assert set(listed(buyer, "status=open")) == {orders["planned"].pk, orders["draft"].pk}
    assert listed(buyer, "status=cancelled") == [orders["cancelled"].pk]
    assert listed(buyer, "status=done") == []
    # the operator sees every order, filtered the same way
    assert set(listed(cluster["operator"], "status=draft")) == {orders["draft"].pk, orders["own"].pk}


def test_role_keeps_the_orders_placed_or_those_served_in(cluster: dict[str, Any], orders: dict[str, Order]) -> None:
    serving = {a.factory_id for a in orders["planned"].allocations.all()}
    assert cluster["orgs"]["sz"].pk in serving  # the cheapest machining: the plan offers Shenzhen work
    sz = cluster["people"]["sz"]
    assert set(listed(sz, "")) == {orders["planned"].pk, orders["own"].pk}
    assert listed(sz, "role=buyer") == [orders["own"].pk]
    assert listed(sz, "role=factory") == [orders["planned"].pk]
    assert listed(sz, "role=factory&status=draft") == []
    # one without an organization places nothing and serves in nothing, whatever it may read
    assert listed(cluster["operator"], "role=buyer") == []


def test_search_finds_by_number_product_or_buyer_within_what_the_reader_sees(
    cluster: dict[str, Any], orders: dict[str, Order]
) -> None:
    buyer, sz = cluster["people"]["buyer"], cluster["people"]["sz"]
    assert listed(buyer, "q=网关") == [orders["planned"].pk]
    assert listed(buyer, f"q=%23{orders['draft'].pk}") == [orders["draft"].pk]
    assert listed(buyer, f"q={orders['cancelled'].pk}") == [orders["cancelled"].pk]
    assert listed(buyer, "q=buyer%20Factory") == listed(buyer, "")  # every word must match, in either name
    assert listed(buyer, "q=网关%20控制板") == []
    # the buyer's draft and cancelled orders offered Shenzhen nothing: its search does not reach them
    assert listed(sz, "q=buyer工厂") == [orders["planned"].pk]
    assert listed(sz, f"q={orders['draft'].pk}") == []
    assert listed(buyer, f"q={orders['own'].pk}") == []


def test_a_bad_filter_is_named_with_the_choices(cluster: dict[str, Any], orders: dict[str, Order]) -> None:
    client = signed_in(cluster["people"]["buyer"])
    for query, field in (("status=shipped", "status"), ("role=owner", "role")):
        r = client.get(f"/api/v1/factory/orders?{query}")
        assert r.status_code == 422 and list(r.json()["errors"]) == [field], r.content
    r = client.get("/api/v1/factory/orders?status=shipped")
    assert "open" in r.json()["errors"]["status"][0] and "cancelled" in r.json()["errors"]["status"][0]


def test_filters_apply_to_the_sync_feed(cluster: dict[str, Any], orders: dict[str, Order]) -> None:
    buyer = cluster["people"]["buyer"]
    since = "updated_after=2000-01-01T00:00:00Z"
    assert set(listed(buyer, since)) == {orders[k].pk for k in ("planned", "draft", "cancelled")}
    assert listed(buyer, f"{since}&status=cancelled") == [orders["cancelled"].pk]


def test_the_page_filters_names_a_bad_choice_and_offers_the_role_only_to_members(
    cluster: dict[str, Any], orders: dict[str, Order]
) -> None:
    client = signed_in(cluster["people"]["buyer"])
    page = client.get("/factory/?status=open").content.decode()
    assert f'data-order="{orders["planned"].pk}"' in page and f'data-order="{orders["draft"].pk}"' in page
    assert f'data-order="{orders["cancelled"].pk}"' not in page
    assert 'id="orders-found"' in page and 'name="role"' in page
    nothing = client.get("/factory/?q=不存在的产品").content.decode()
    assert "data-order=" not in nothing and 'href="/factory/"' in nothing  # a way back to every order
    # a bad choice is named beside the filters; the search still applies and nothing fails
    r = client.get("/factory/?status=shipped&q=网关")
    page = r.content.decode()
    assert r.status_code == 200 and 'id="filter-errors"' in page
    assert f'data-order="{orders["planned"].pk}"' in page and f'data-order="{orders["draft"].pk}"' not in page
    operator = signed_in(cluster["operator"]).get("/factory/").content.decode()
    assert 'name="status"' in operator and 'name="role"' not in operator
