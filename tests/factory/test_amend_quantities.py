"""The buyer changes an open order's quantities: steps left as they are scale with the order's quantity, a step
given its own quantity takes it, and no step goes below the work delivered or under way on it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from agglo.common.errors import ValidationFailed
from agglo.factory.models import Allocation, Order
from agglo.factory.services.amend import AmendWouldMoveAccepted, order_amend
from agglo.factory.services.execution import allocation_progress
from tests.factory.conftest import signed_in
from tests.factory.test_amend import confirmed
from tests.factory.test_plan_flow import planned

pytestmark = pytest.mark.django_db


def step_quantities(order: Order) -> dict[int, int]:
    return dict(order.operations.values_list("seq", "quantity"))


def live_units(order: Order) -> dict[int, int]:
    """Units the plan gives each step: offered, accepted or delivered."""
    found: dict[int, int] = {}
    live = order.allocations.filter(status__in=["offered", "accepted", "delivered"]).select_related("operation")
    for a in live:
        found[a.operation.seq] = found.get(a.operation.seq, 0) + a.quantity
    return found


def owner_of(cluster: dict[str, Any], a: Allocation) -> Any:
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == a.factory_id)


def test_a_new_quantity_scales_the_steps_and_the_plan_covers_them(cluster: dict[str, Any]) -> None:
    order = planned(
        cluster,
        operations=[{"process": "cnc", "quantity": 600}, {"process": "surface", "quantity": 1200, "after": [1]}],
    )
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"quantity": 1000})
    order.refresh_from_db()
    assert order.quantity == 1000 and step_quantities(order) == {1: 1000, 2: 2000}
    assert live_units(order) == {1: 1000, 2: 2000}
    # a step given its present quantity keeps it while the order's changes (recheck 58 M1)
    order_amend(
        actor=cluster["people"]["buyer"],
        order=order,
        data={"quantity": 1200, "operations": [{"seq": 1, "quantity": 1000}]},
    )
    order.refresh_from_db()
    assert step_quantities(order) == {1: 1000, 2: 2400}
    order_amend(
        actor=cluster["people"]["buyer"],
        order=order,
        data={"quantity": 1000, "operations": [{"seq": 1, "quantity": 1000}, {"seq": 2, "quantity": 2000}]},
    )
    order.refresh_from_db()
    assert step_quantities(order) == {1: 1000, 2: 2000}
    # a step given its own quantity takes it; the others still scale, rounded up
    order_amend(
        actor=cluster["people"]["buyer"],
        order=order,
        data={"quantity": 333, "operations": [{"seq": 2, "quantity": 700}]},
    )
    order.refresh_from_db()
    assert step_quantities(order) == {1: 333, 2: 700} and live_units(order) == {1: 333, 2: 700}


def test_the_order_quantity_changed_back_gives_the_steps_back(cluster: dict[str, Any]) -> None:
    """Steps scale from their quantity as last entered, not from the last rounded one: 333 of 1,000 rounded up to
    333 of 999 came back as 334 of 1,000 (recheck 58)."""
    order = planned(
        cluster,
        quantity=1000,
        operations=[{"process": "cnc", "quantity": 333}, {"process": "surface", "quantity": 1000, "after": [1]}],
    )
    buyer = cluster["people"]["buyer"]
    for quantity, steps in ((999, {1: 333, 2: 999}), (1000, {1: 333, 2: 1000}), (10, {1: 4, 2: 10})):
        order_amend(actor=buyer, order=order, data={"quantity": quantity})
        order.refresh_from_db()
        assert step_quantities(order) == steps, quantity
    order_amend(actor=buyer, order=order, data={"quantity": 1000})
    order.refresh_from_db()
    assert step_quantities(order) == {1: 333, 2: 1000}
    # a step given its quantity scales from there on
    order_amend(actor=buyer, order=order, data={"quantity": 500, "operations": [{"seq": 1, "quantity": 100}]})
    order_amend(actor=buyer, order=order, data={"quantity": 1000})
    order.refresh_from_db()
    assert step_quantities(order) == {1: 200, 2: 1000}


def test_fewer_units_cut_accepted_work_only_once_the_buyer_agrees(cluster: dict[str, Any]) -> None:
    from agglo.common.models import Notification

    order = confirmed(cluster, quantity=400, operations=[{"process": "surface", "quantity": 400}])
    (a,) = order.allocations.filter(status="accepted")
    buyer = cluster["people"]["buyer"]
    with pytest.raises(AmendWouldMoveAccepted) as asked:
        order_amend(actor=buyer, order=order, data={"quantity": 300}, confirmed=False)
    (part,) = asked.value.preview.parts
    assert (part.allocation_id, part.quantity, part.keeps) == (a.pk, 400, 300)
    order.refresh_from_db()
    assert order.quantity == 400 and step_quantities(order) == {1: 400}  # asking changed nothing
    order_amend(actor=buyer, order=order, data={"quantity": 300}, expect=asked.value.preview.key)
    a.refresh_from_db()
    assert (a.status, a.quantity) == ("accepted", 300)  # the acceptance stands for what is left
    assert not order.allocations.filter(status="offered").exists()
    told = Notification.objects.filter(verb="factory.reduced", user=owner_of(cluster, a)).get()
    assert "由 400 减为 300" in told.text


def test_more_units_keep_accepted_work_and_offer_the_rest(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    accepted = {a.pk: a.quantity for a in order.allocations.filter(status="accepted")}
    order_amend(actor=cluster["people"]["buyer"], order=order, data={"operations": [{"seq": 3, "quantity": 700}]})
    order.refresh_from_db()
    assert order.quantity == 600 and step_quantities(order) == {1: 600, 2: 600, 3: 700}
    assert {a.pk: a.quantity for a in order.allocations.filter(pk__in=accepted)} == accepted
    assert sum(order.allocations.filter(status="offered").values_list("quantity", flat=True)) == 100
    assert order.status == "planned"


def test_a_step_cannot_go_below_the_work_under_way_on_it(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    first = order.allocations.filter(status="accepted", operation__seq=1).order_by("week").first()
    allocation_progress(actor=owner_of(cluster, first), allocation=first, data={"quantity_done": 10})
    under_way = first.quantity
    before = (step_quantities(order), set(order.allocations.values_list("pk", "status", "quantity")))
    buyer = cluster["people"]["buyer"]
    with pytest.raises(ValidationFailed) as given:
        order_amend(actor=buyer, order=order, data={"operations": [{"seq": 1, "quantity": under_way - 1}]})
    assert list(given.value.errors) == ["operations[1].quantity"]
    assert f"{under_way:,}" in given.value.errors["operations[1].quantity"][0]
    with pytest.raises(ValidationFailed) as scaled:  # the same, reached by scaling
        order_amend(actor=buyer, order=order, data={"quantity": 1})
    assert list(scaled.value.errors) == ["quantity"] and "1 " in scaled.value.errors["quantity"][0]
    # the form sends every step as it is: a step it scales is still the quantity's fault, named beside it
    form = {"quantity": "1", **{f"op-{seq}-quantity": str(q) for seq, q in step_quantities(order).items()}}
    r = signed_in(buyer).post(f"/factory/orders/{order.pk}/terms/", form)
    page = r.content.decode()
    assert r.status_code == 400 and page.count('class="errorlist"') == 1
    field = page[page.index('name="quantity"') :]
    assert "过小：第 1 步按比例将变为 1 个单位" in field[: field.index("</div>")]
    order.refresh_from_db()
    assert order.quantity == 600
    assert (step_quantities(order), set(order.allocations.values_list("pk", "status", "quantity"))) == before
    # down to exactly what is under way is fine
    order_amend(actor=buyer, order=order, data={"operations": [{"seq": 1, "quantity": under_way}]}, confirmed=True)
    assert step_quantities(order)[1] == under_way
    assert live_units(order)[1] == under_way


@pytest.mark.parametrize(
    ("operations", "field"),
    [
        ([{"seq": 4, "quantity": 10}], "operations[1].seq"),
        ([{"seq": 1, "quantity": 0}], "operations[1].quantity"),
        ([{"seq": 1, "quantity": "许多"}], "operations[1].quantity"),
        ([{"seq": 1, "quantity": 10}, {"seq": 1, "quantity": 20}], "operations[2].seq"),
        ([{"seq": 2, "quantity": 10, "process": "cnc"}], "operations[1].process"),
        ([5], "operations[1]"),
        ("1:500", "operations"),
    ],
)
def test_bad_step_quantities_name_the_field_and_change_nothing(
    cluster: dict[str, Any], operations: Any, field: str
) -> None:
    order = planned(cluster)
    before = (step_quantities(order), set(order.allocations.values_list("pk", "status", "quantity")))
    with pytest.raises(ValidationFailed) as bad:
        order_amend(actor=cluster["people"]["buyer"], order=order, data={"operations": operations})
    assert field in bad.value.errors
    assert (step_quantities(order), set(order.allocations.values_list("pk", "status", "quantity"))) == before


def test_a_share_cap_left_as_it_is_refuses_a_step_it_could_no_longer_cover(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster, max_share="0.5", max_suppliers=3)
    held = order.allocations.filter(status="accepted", operation__seq=1).order_by("-quantity").first()
    allocation_progress(actor=owner_of(cluster, held), allocation=held, data={"quantity_done": 1})
    too_few = held.quantity * 2 - 1  # the factory's started part would be more than half of it
    with pytest.raises(ValidationFailed) as bad:
        order_amend(
            actor=cluster["people"]["buyer"], order=order, data={"operations": [{"seq": 1, "quantity": too_few}]}
        )
    assert (
        list(bad.value.errors) == ["operations[1].quantity"] and "0.50" in bad.value.errors["operations[1].quantity"][0]
    )


def test_the_api_changes_quantities_and_refuses_what_it_cannot(cluster: dict[str, Any]) -> None:
    order = planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    url = f"/api/v1/factory/orders/{order.pk}"
    body = {"quantity": 500, "operations": [{"seq": 2, "quantity": 550}]}
    r = buyer.patch(url, json.dumps(body), content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["quantity"] == 500
    order.refresh_from_db()
    assert step_quantities(order) == {1: 500, 2: 550, 3: 500}
    r = buyer.patch(
        url, json.dumps({"operations": [{"seq": 2, "quantity": 5, "after": [1]}]}), content_type="application/json"
    )
    assert r.status_code == 422 and any("after" in k for k in r.json()["errors"])
    r = buyer.patch(url, json.dumps({"operations": [{"seq": 9, "quantity": 5}]}), content_type="application/json")
    assert r.status_code == 422 and r.json()["errors"] == {"operations[1].seq": ["没有这一步：本订单的步骤为 1 到 3。"]}
    assert step_quantities(order) == {1: 500, 2: 550, 3: 500}


def test_the_terms_form_changes_a_steps_quantity_and_names_a_bad_one_beside_it(cluster: dict[str, Any]) -> None:
    order = confirmed(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    page = buyer.get(f"/factory/orders/{order.pk}/").content.decode()
    assert 'name="quantity" value="600"' in page and 'name="op-2-quantity" value="600"' in page
    assert "第 2 步 · 表面处理" in page
    url = f"/factory/orders/{order.pk}/terms/"
    form = {"quantity": "600", "op-1-quantity": "600", "op-2-quantity": "0", "op-3-quantity": "600"}
    r = buyer.post(url, form)
    assert r.status_code == 400
    bad = r.content.decode()
    field = bad[bad.index('name="op-2-quantity"') :]
    assert "必须介于 1 和 10,000,000 之间" in field[: field.index("</div>")]
    # fewer units of step 2: the factories' accepted work is cut, so the buyer is asked first
    form["op-2-quantity"] = "500"
    r = buyer.post(url, form)
    asked = r.content.decode()
    assert r.status_code == 200 and 'id="accepted-moved"' in asked
    assert '<input type="hidden" name="op-2-quantity" value="500">' in asked
    assert 'name="late_penalty"' not in asked
    key = re.search(r'name="preview" value="([0-9a-f]+)"', asked).group(1)
    r = buyer.post(url, {**form, "confirmed": "yes", "preview": key}, follow=True)
    order.refresh_from_db()
    assert step_quantities(order) == {1: 600, 2: 500, 3: 600} and order.quantity == 600
    assert live_units(order)[2] == 500
    r = buyer.post(url, form, follow=True)
    assert "没有任何变更。" in r.content.decode()
