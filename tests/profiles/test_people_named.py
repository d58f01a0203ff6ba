"""Outsiders read who changed or checked an organization's data by role or organization, never by login: an
admitted member's admin logs in with its contact e-mail address."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from agglo.access.models import Membership
from agglo.profiles import services
from agglo.registry.services import organization_update
from tests.conftest import user
from tests.profiles.conftest import statement
from tests.registry.test_api import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mailed_admin(make_org):
    """An organization whose admin's login is an e-mail address, as admission makes it, with contacts private."""
    org = make_org()
    admin = get_user_model().objects.create_user(username="wang@rx.example", password="pw-for-tests-1")
    Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
    organization_update(actor=admin, organization=org, data={"contacts_visibility": "private", "description": "新描述"})
    return admin, org


def test_outsiders_read_an_edit_by_the_organization_not_by_the_admins_address(mailed_admin, member_of, english):
    admin, org = mailed_admin
    other, _ = member_of("someone-else")
    for client, headers in ((Client(), {}), (Client(), bearer(other))):
        response = client.get(f"/api/v1/organizations/{org.pk}/history", **headers)
        assert "wang@rx.example" not in response.content.decode()
        assert response.json()[0]["actor"] == org.name_zh, response.json()
        profile = client.get(f"/api/v1/organizations/{org.pk}/profile", **headers).content.decode()
        assert "wang@rx.example" not in profile
    page = Client().get(f"/organizations/{org.pk}/tab/history/").content.decode()
    assert "wang@rx.example" not in page
    # its own people (and operators) still see which account acted
    own = Client().get(f"/api/v1/organizations/{org.pk}/history", **bearer(admin)).json()
    assert any(e["actor"] == "wang@rx.example" for e in own)


def test_an_operator_edit_reads_as_the_platform_operator(mailed_admin, operator, english):
    admin, org = mailed_admin
    operator.username = "ops.lead@agglo.example"
    operator.save()
    organization_update(actor=operator, organization=org, data={"description": "checked"})
    history = Client().get(f"/api/v1/organizations/{org.pk}/history", HTTP_ACCEPT_LANGUAGE="en").json()
    assert history[0]["actor"] == "Platform operator", history[0]


def test_a_verified_fact_names_the_platform_not_the_operators_login(org_admin, operator, english):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2025))
    services.fact_verify(actor=operator, fact=fact, source="operator_verified")
    facts = (
        Client().get(f"/api/v1/organizations/{org.pk}/financials", HTTP_ACCEPT_LANGUAGE="en", **bearer(admin)).json()
    )
    assert facts[0]["verified_by"] == "Platform operator", facts[0]
    page = Client()
    page.force_login(admin)
    page.cookies["django_language"] = "en"
    tab = page.get(f"/organizations/{org.pk}/tab/finances/").content.decode()
    assert "verified by Platform operator" in tab and "verified by op<" not in tab


def test_a_user_with_no_role_and_no_organization_is_a_platform_user(english):
    from agglo.access.selectors import public_names

    lone = user("lone@nowhere.example")
    assert public_names([lone.pk, None]) == {lone.pk: "A platform user"}
