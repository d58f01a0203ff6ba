"""The order form leaves its checks to the service, but a NUL character, which no database stores, is still
refused by name (on PostgreSQL it would be a server error)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factory.test_pages import form_post, logged

pytestmark = pytest.mark.django_db


def test_a_nul_in_the_product_name_is_refused_not_a_500(cluster: dict[str, Any]) -> None:
    c = logged(cluster["people"]["buyer"])
    c.raise_request_exception = False
    r = c.post("/factory/orders/new/", form_post(buyer=cluster["orgs"]["buyer"].pk, product="轴承座\x00A", draft="1"))
    from agglo.factory.models import Order

    stored = list(Order.objects.values_list("product", flat=True))
    # SQLite: 302 and the NUL stored (before 4854841 the form said "Null characters are not allowed.");
    # PostgreSQL: 500 (ValueError: A string literal cannot contain NUL (0x00) characters.)
    assert r.status_code == 400 and stored == [], (r.status_code, stored)
