"""Loan terms (融资条件) on capital needs and financing products: term in months, annual rate, collateral; checked
field by field, shown on the listing, given by the API."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.common.errors import ValidationFailed
from agglo.market.models import Listing
from agglo.market.services import listing_create, listing_update
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db

PRODUCT = {
    "side": "offer",
    "kind": "financing",
    "subkind": "loan",
    "title_zh": "科技贷",
    "term_months_min": 12,
    "term_months_max": 36,
    "rate_min": "3.20",
    "rate_max": "4.50",
    "collateral": ["credit", "pledge"],
}


def _refused(actor: Any, org: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    before = Listing.objects.count()
    with pytest.raises(ValidationFailed) as refused:
        listing_create(actor=actor, organization=org, data=data)
    assert Listing.objects.count() == before  # nothing half-saved
    return refused.value.errors


def test_a_financing_product_keeps_its_terms_and_shows_them(org_admin: Any, client: Client) -> None:
    admin, org = org_admin
    product = listing_create(actor=admin, organization=org, data=PRODUCT)
    product.refresh_from_db()
    assert (product.term_months_min, product.term_months_max) == (12, 36)
    assert (str(product.rate_min), str(product.rate_max), product.collateral) == ("3.20", "4.50", ["credit", "pledge"])
    client.force_login(admin)
    page = client.get(f"/market/{product.pk}/").content.decode()
    assert "12 – 36 个月" in page and "3.20 – 4.50 %" in page
    said = page.split('id="loan-collateral">')[1].split("</dd>")[0]
    assert said == "信用（无需担保）、质押（知识产权、应收账款、股权）", said
    # the browse page gives the terms on one line once published
    from agglo.market.services import listing_submit

    listing_submit(actor=admin, listing=product)
    browse = client.get("/market/?side=offer").content.decode()
    line = browse.split('class="loan-terms">')[1].split("</div>")[0]
    assert (
        line == "融资条件：12 – 36 个月 · 年利率 3.20 – 4.50 % · 信用（无需担保）、质押（知识产权、应收账款、股权）"
    ), line
    # a change keeps what it leaves out, and may clear a field
    changed = listing_update(actor=admin, listing=product, data={"rate_max": None, "collateral": ["guarantee"]})
    assert (changed.rate_min, changed.rate_max, changed.collateral) == (product.rate_min, None, ["guarantee"])


def test_every_bad_term_is_named_with_its_rule(org_admin: Any, english: None) -> None:
    admin, org = org_admin
    errors = _refused(
        admin,
        org,
        {
            **PRODUCT,
            "term_months_min": 48,
            "term_months_max": 24,
            "rate_min": "3.125",
            "rate_max": "120",
            "collateral": ["credit", "gold"],
        },
    )
    assert set(errors) == {"term_months_max", "rate_min", "rate_max", "collateral"}, errors
    assert "shorter term" in errors["term_months_max"][0]
    assert "gold" in errors["collateral"][0] and "Mortgage (mortgage)" in errors["collateral"][0]
    assert _refused(admin, org, {**PRODUCT, "term_months_min": 0})["term_months_min"]
    # only capital needs and financing products carry loan terms
    tech = {"side": "need", "kind": "technology", "title_zh": "寻找激光技术", "rate_max": "5"}
    assert "Only capital needs and financing products" in _refused(admin, org, tech)["rate_max"][0]
    need = listing_create(
        actor=admin,
        organization=org,
        data={"side": "need", "kind": "capital", "title_zh": "研发贷款", "rate_max": "5", "collateral": ["mortgage"]},
    )
    assert need.rate_max is not None
    # a rate may be typed with its sign (review 95)
    signed = listing_create(actor=admin, organization=org, data={**PRODUCT, "rate_min": "3.1%", "rate_max": "4.35％"})
    assert (str(signed.rate_min), str(signed.rate_max)) == ("3.10", "4.35")


def test_the_api_takes_and_gives_the_terms(org_admin: Any) -> None:
    admin, org = org_admin
    c = Client()
    url = f"/api/v1/organizations/{org.pk}/listings"
    created = c.post(url, PRODUCT, content_type="application/json", **bearer(admin))
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["term_months_min"], body["rate_max"], body["collateral"]) == (12, "4.50", ["credit", "pledge"])
    bad = c.post(url, {**PRODUCT, "collateral": ["gold"]}, content_type="application/json", **bearer(admin))
    assert "collateral" in str(problem(bad, 422)["errors"])
