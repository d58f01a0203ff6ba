"""Certificates on record (review 92): a number is needed, and accepted work stays where it was accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agglo.factory.models import Order
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_plan
from agglo.profiles.models import OrganizationCapability
from agglo.profiles.services import fact_create
from tests.factory.test_certificates import _certificate, _planned

pytestmark = pytest.mark.django_db

NAMES = {"sz工厂有限公司": "sz", "su工厂有限公司": "su", "cd工厂有限公司": "cd"}


def test_accepted_work_stays_with_a_factory_whose_certificate_lapsed_though_another_could_take_it(
    cluster: dict[str, Any],
) -> None:
    """A re-plan (the buyer's, or one another factory's answer sets off) after a certificate passed its date leaves
    the work its factory accepted where it is, even though another factory with one on record could take it: a
    date passing is nothing the factory or the buyer did."""
    _certificate(cluster, "su")
    _certificate(cluster, "cd")
    order = _planned(cluster, "on_record")
    for a in order.allocations.filter(status="offered").select_related("factory"):
        allocation_respond(actor=cluster["people"][NAMES[a.factory.name_zh]], allocation=a, action="accept")
    accepted = set(order.allocations.filter(status="accepted").values_list("pk", "factory__name_zh", "quantity"))
    assert any(name.startswith("su") for _, name, _ in accepted)
    _certificate(cluster, "sz")  # another CNC factory now has the certificate on record
    OrganizationCapability.objects.filter(organization=cluster["orgs"]["su"]).update(
        valid_until=dt.date.today() - dt.timedelta(days=1)
    )
    again = order_plan(actor=cluster["people"]["buyer"], order=Order.objects.get(pk=order.pk))
    still = set(again.allocations.filter(status="accepted").values_list("pk", "factory__name_zh", "quantity"))
    assert still == accepted, (again.status, sorted(again.allocations.values_list("factory__name_zh", "status")))


def test_a_profile_line_without_a_certificate_number_is_not_on_record(cluster: dict[str, Any]) -> None:
    """As the order form says: on record means listed in the profile with its number; a bare line is one more
    self-declaration."""
    for name in ("su", "cd"):
        fact_create(
            actor=cluster["people"][name],
            organization=cluster["orgs"][name],
            kind="capabilities",
            data={"term": "iso-9001"},
        )
    assert OrganizationCapability.objects.filter(certificate_no="").count() == 2
    order = _planned(cluster, "on_record")
    assert order.status == Order.Status.INFEASIBLE, "a certificate without a number counted as on record"
