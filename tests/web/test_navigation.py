"""The header: a member's name leads to its organization; joining is offered only to visitors."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from agglo.access.models import Membership
from tests.conftest import user

pytestmark = pytest.mark.django_db


def test_a_member_reaches_its_organization_from_the_header(make_org: Any) -> None:
    org = make_org()
    member = user("navigator")
    Membership.objects.create(user=member, organization=org, role=Membership.Role.MEMBER)
    visitor = Client().get("/").content.decode()
    assert "/apply/" in visitor.split("</nav>")[0]
    c = Client()
    c.force_login(member)
    page = c.get("/").content.decode()
    assert 'id="nav-my-org" title="我的机构">navigator</a>' in page.replace(f'href="/organizations/{org.pk}/" ', "")
    assert f'href="/organizations/{org.pk}/" id="nav-my-org"' in page
    assert "/apply/" not in page.split("</nav>")[0]
