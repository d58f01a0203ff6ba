"""An order's plan as a file (CSV, XLSX), on the order page and over the API: the reader's part of the plan, as
the page shows it to them."""

from __future__ import annotations

import csv
import io
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from agglo.access.models import Membership
from agglo.factory.models import Order
from agglo.factory.selectors.plan_file import COLUMNS
from agglo.factory.services.orders import order_create, order_plan
from tests.conftest import make_uscc, user
from tests.factory.conftest import order_data, signed_in
from tests.registry.test_api import problem

pytestmark = pytest.mark.django_db


def _planned(cluster: dict[str, Any]) -> Order:
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    assert order.status == Order.Status.PLANNED, order.diagnosis
    return order


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def test_the_buyer_gets_the_whole_plan_with_its_figures(cluster: dict[str, Any]) -> None:
    order = _planned(cluster)
    rows = _csv(signed_in(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/plan.csv"))
    assert len(rows) == order.allocations.filter(status="offered").count() > 1
    # every step's whole quantity, each row priced as the plan prices it
    assert Counter({int(r["step"]): 0 for r in rows}) == Counter({1: 0, 2: 0, 3: 0})
    for step in (1, 2, 3):
        assert sum(int(r["quantity"]) for r in rows if r["step"] == str(step)) == 600
    for r in rows:
        assert Decimal(r["amount"]) == Decimal(r["unit_cost"]) * int(r["quantity"])
        assert r["status"] == "offered" and r["status_name"] and r["region"] and r["unit"]
    assert len({r["factory_id"] for r in rows}) > 1
    # the same rows in a workbook
    xlsx = signed_in(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/plan.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    table = [[("" if v is None else str(v)) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert tuple(table[0]) == COLUMNS and len(table) == len(rows) + 1
    assert [row[COLUMNS.index("quantity")] for row in table[1:]] == [r["quantity"] for r in rows]
    # the page offers both
    page = signed_in(cluster["people"]["buyer"]).get(f"/factory/orders/{order.pk}/").content.decode()
    assert f'href="/factory/orders/{order.pk}/plan.xlsx"' in page and 'id="plan-file"' in page


def test_a_factory_gets_its_own_part_and_a_stranger_nothing(cluster: dict[str, Any], make_org: Any) -> None:
    order = _planned(cluster)
    factory_id = order.allocations.filter(status="offered").values_list("factory_id", flat=True).first()
    name = next(n for n, o in cluster["orgs"].items() if o.pk == factory_id)
    own = _csv(signed_in(cluster["people"][name]).get(f"/api/v1/factory/orders/{order.pk}/plan/file"))
    assert own and {r["factory_id"] for r in own} == {str(factory_id)}
    assert len(own) == order.allocations.filter(status="offered", factory_id=factory_id).count()
    # a member outside the order (and any factory the plan does not involve) sees no order at all
    outsider = user("outsider-admin")
    org = make_org(region="330100", uscc=make_uscc("330100", "MA7B0000E"), name_zh="局外工厂有限公司")
    Membership.objects.create(user=outsider, organization=org, role=Membership.Role.ADMIN)
    others = [
        cluster["people"][n]
        for n, o in cluster["orgs"].items()
        if n != "buyer" and not order.allocations.filter(factory=o)
    ]
    for who in [outsider, *others]:
        assert signed_in(who).get(f"/factory/orders/{order.pk}/plan.csv").status_code == 404
        assert signed_in(who).get(f"/api/v1/factory/orders/{order.pk}/plan/file").status_code == 404


def test_a_format_that_is_not_offered_is_refused(cluster: dict[str, Any]) -> None:
    order = _planned(cluster)
    buyer = signed_in(cluster["people"]["buyer"])
    assert buyer.get(f"/factory/orders/{order.pk}/plan.pdf").status_code == 404
    bad = buyer.get(f"/api/v1/factory/orders/{order.pk}/plan/file?format=pdf")
    assert "format" in str(problem(bad, 422)["errors"])
