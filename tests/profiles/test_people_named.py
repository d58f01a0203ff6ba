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


def _actors(org, reader):
    response = Client().get(f"/api/v1/organizations/{org.pk}/history", **bearer(reader))
    assert response.status_code == 200, response.content
    return [e["actor"] for e in response.json() if e["event"] == "registry.organization_updated"]


def test_a_deleted_accounts_login_stays_hidden(member_of, english):
    admin, org = member_of("li@firm.example")
    outsider, _ = member_of("outsider")
    organization_update(actor=admin, organization=org, data={"description": "新的介绍"})
    assert _actors(org, outsider) == [org.name_zh]
    admin.delete()  # the record keeps the login it was made under; outsiders still may not read it
    assert "li@firm.example" not in _actors(org, outsider)


def test_an_edit_is_credited_to_the_organization_it_changed(member_of, make_org):
    other_org = make_org(name_zh="咨询公司甲")
    person = user("consultant@advisers.example")
    Membership.objects.create(user=person, organization=other_org, role=Membership.Role.MEMBER)  # joined first
    _admin, org = member_of("owner-admin")
    Membership.objects.create(user=person, organization=org, role=Membership.Role.ADMIN)
    outsider, _ = member_of("outsider")
    organization_update(actor=person, organization=org, data={"description": "新的介绍"})
    assert _actors(org, outsider) == [org.name_zh]


def test_naming_the_verifiers_costs_no_query_per_fact(member_of, operator, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin, org = member_of("fin-admin")
    counts = []
    for year in range(2015, 2026):
        fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(year))
        services.fact_verify(actor=operator, fact=fact, source="operator_verified")
        if year in (2015, 2025):
            with CaptureQueriesContext(connection) as queries:
                listed = Client().get(f"/api/v1/organizations/{org.pk}/financials", **bearer(admin)).json()
            counts.append((len(listed), len(queries.captured_queries)))
    (few, at_few), (many, at_many) = counts
    assert many - few == 10 and at_many == at_few, counts
