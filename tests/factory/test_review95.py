"""Review 95 (loan terms on needs and offers; the virtual factory's capacity form, plan files and terms form): each
test shows one bug found on the current code (and fails on it)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from agglo.access.models import Membership
from agglo.factory.models import Capability, Order
from agglo.factory.selectors.plan_file import COLUMNS
from agglo.factory.services.amend import order_amend
from agglo.factory.services.orders import order_create, order_plan
from agglo.market.services import listing_create
from tests.conftest import user
from tests.factory.conftest import order_data, signed_in
from tests.factory.test_review93 import _terms_form
from tests.web.test_form_versions import drawn

pytestmark = pytest.mark.django_db


def test_the_plan_workbook_gives_money_as_numbers(cluster: dict[str, Any]) -> None:
    """The order page's XLSX plan file writes `unit_cost` and `amount` as text ("5.10", "2040.00": f-strings in
    `factory.selectors.plan_file.plan_rows`, and `profiles.tabular._cell` keeps text as text). In Excel or WPS
    they are text cells: SUM over the amount column gives 0, and sorting by cost sorts as text. Quantities in the
    same file are numbers."""
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    assert order.status == Order.Status.PLANNED, order.diagnosis
    xlsx = signed_in(buyer).get(f"/factory/orders/{order.pk}/plan.xlsx")
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.content), read_only=True).active.iter_rows(values_only=True))
    assert tuple(rows[0]) == COLUMNS and len(rows) > 1
    for row in rows[1:]:
        assert isinstance(row[COLUMNS.index("quantity")], int)  # as it is
        for column in ("unit_cost", "amount"):
            value = row[COLUMNS.index(column)]
            assert isinstance(value, (int, float)), f"{column} is {value!r} ({type(value).__name__}): a text cell"


def test_the_collateral_boxes_are_described_by_their_help_and_error(org_admin: Any, client: Client) -> None:
    """The listing form draws a checkbox group's <fieldset> itself (market/form.html) without Django's
    `field.aria_describedby`: the collateral boxes get aria-invalid="true" on an error, but nothing ties the
    error ("Only capital needs ... leave it empty.") or the help text to them; the text inputs of the same form
    do get aria-describedby="id_x_helptext id_x_error". Django's own field template puts it on the fieldset."""
    admin, _org = org_admin
    client.force_login(admin)
    page = client.post(
        "/market/new/",
        {
            "side": "need",
            "kind": "technology",
            "title_zh": "寻找激光焊接技术",
            "region_rule": "anywhere",
            "visibility": "members",
            "collateral": ["guarantee"],
            "publish": "1",
        },
    ).content.decode()
    assert 'id="id_collateral_error"' in page  # the error is there
    fieldset = re.search(r'<fieldset[^>]*>\s*<legend>[^<]*</legend>\s*<div id="id_collateral"', page)
    assert fieldset, "no fieldset around the collateral boxes"
    opening = fieldset[0].split(">")[0]
    assert "id_collateral_error" in opening and "id_collateral_helptext" in opening, opening


def test_collateral_is_listed_as_chinese_lists_names(org_admin: Any, client: Client) -> None:
    """The listing page joins the collateral names with ", " in Chinese too (detail.html: `|join:", "`), where
    the same page lists segments and regions with 、 (`|listed`): "保证, 质押（知识产权、应收账款、股权）".
    (tests/market/test_loan_terms.py asserts the current ", " and would change with the fix.)"""
    admin, org = org_admin
    need = listing_create(
        actor=admin,
        organization=org,
        data={"side": "need", "kind": "capital", "title_zh": "设备贷款", "collateral": ["guarantee", "mortgage"]},
    )
    client.force_login(admin)
    page = client.get(f"/market/{need.pk}/").content.decode()
    said = page.split('id="loan-collateral">')[1].split("</dd>")[0]
    assert said == "保证、抵押", said


def test_the_demos_unsecured_loans_accept_unsecured_borrowers() -> None:
    """Every demo loan product is titled and described as a pure credit loan ("科技型中小企业信用贷款", "纯信用贷款",
    "Unsecured loans"), but `demo.market._loan_terms` gives the products of even-numbered banks collateral
    ["mortgage", "pledge"] only: the listing says "可接受的担保方式: 抵押, 质押", and a capital need that can
    offer only its credit is never matched with them."""
    from agglo.demo.listing_texts import TEMPLATES
    from agglo.demo.market import _loan_terms

    texts = TEMPLATES[("offer", "financing/loan")]
    assert all("信用贷款" in zh_title for zh_title, *_rest in texts)
    for org_id in (1, 2):
        assert "credit" in _loan_terms(org_id)["collateral"], (org_id, _loan_terms(org_id))


def test_saving_a_capability_unchanged_does_not_say_it_was_updated(cluster: dict[str, Any]) -> None:
    """The service writes nothing for the same terms again (review 93), but the capacity page still says
    "能力已更新。" ("Capability updated."); the order page's terms form says "没有任何变更。" in that case."""
    su, org = cluster["people"]["su"], cluster["orgs"]["su"]
    cap = Capability.objects.get(organization=org, process_id="cnc")
    client = signed_in(su)
    form = drawn(client.get(f"/factory/capacity/?edit={cap.pk}"), "capability-form")
    before = Capability.objects.filter(pk=cap.pk).values_list("updated_at", flat=True).get()
    page = client.post("/factory/capacity/", form, follow=True).content.decode()
    assert Capability.objects.filter(pk=cap.pk).values_list("updated_at", flat=True).get() == before  # nothing
    assert "能力已更新" not in page, "an unchanged save is announced as an update"


def test_a_terms_form_sent_back_with_an_error_shows_the_terms_now(cluster: dict[str, Any]) -> None:
    """A colleague changes the order's maximum number of suppliers after the buyer opened the order page; the
    buyer changes only the budget, with a typo. The save is refused for the budget (right), and the form comes
    back bound to what was posted: it shows the old maximum (3) as if it were the order's, with no word of the
    colleague's change (the stale-save path, `FormVersion.redraw`, shows the terms now). Saving again keeps the
    colleague's 2 after all, while the form said 3."""
    buyer = cluster["people"]["buyer"]
    colleague = user("buyer-admin-2")
    Membership.objects.create(user=colleague, organization=cluster["orgs"]["buyer"], role=Membership.Role.ADMIN)
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data(max_suppliers=3)))
    browser = signed_in(buyer)
    form = _terms_form(browser.get(f"/factory/orders/{order.pk}/").content.decode())
    assert form["max_suppliers"] == "3"
    order_amend(actor=colleague, order=Order.objects.get(pk=order.pk), data={"max_suppliers": 2})
    assert Order.objects.get(pk=order.pk).max_suppliers == 2
    refused = browser.post(f"/factory/orders/{order.pk}/terms/", {**form, "budget": "abc"})
    assert refused.status_code == 400
    shown = _terms_form(refused.content.decode())
    assert shown["budget"] == "abc"  # the sender's entry kept, as it should be
    assert shown["max_suppliers"] == "2", f"the form shows max_suppliers {shown['max_suppliers']}, the order has 2"
