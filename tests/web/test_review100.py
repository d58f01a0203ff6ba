"""Review 100 (a browser walk through the platform): the operator is offered no people page it cannot open; an
invitation is withdrawn in the words of an invitation; a listing without a kind is asked for one, not told codes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.access import people
from tests.market.test_pages import people as market_people  # noqa: F401 - a fixture
from tests.market.test_pages import post_need

pytestmark = pytest.mark.django_db


def test_the_account_page_links_only_the_pages_its_user_may_open(operator: Any, org_admin: Any) -> None:
    c = Client()
    c.force_login(operator)
    page = c.get("/account/").content.decode()
    assert "/account/people/" not in page and "/account/nodes/" in page  # an operator manages nodes, not people
    assert c.get("/account/people/").status_code == 404
    admin, _org = org_admin
    c.force_login(admin)
    page = c.get("/account/").content.decode()
    assert "/account/people/" in page and c.get("/account/people/").status_code == 200


def test_an_invitation_is_withdrawn_in_its_own_words(org_admin: Any) -> None:
    admin, org = org_admin
    people.invitation_create(actor=admin, organization_id=org.pk, data={"email": "new@t.example", "name": "新人"})
    c = Client()
    c.force_login(admin)
    page = c.get("/account/people/").content.decode()
    assert ">撤回邀请</button>" in page and "退出任务" not in page


def test_a_listing_without_a_kind_is_asked_for_one(market_people: Any, english: None) -> None:  # noqa: F811
    _u, _org, c = market_people["owner"]
    response = post_need(c, kind="")
    text = response.content.decode()
    assert response.status_code == 400 and "Choose a kind." in text and "(capital)" not in text
