"""An order may count a factory's certifications only where its professional-database profile has the certificate
on record and valid (or verified by an operator), not on the factory's word alone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from agglo.common.errors import ValidationFailed
from agglo.factory.certificates import CERTIFICATE_TERMS, CERTIFICATIONS
from agglo.factory.models import Order
from agglo.factory.services.orders import order_create, order_plan
from agglo.factory.wording import diagnosis_texts
from agglo.profiles.models import CapabilityTerm, OrganizationCapability
from agglo.profiles.services import fact_create, fact_verify
from tests.factory.conftest import order_data, signed_in
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


def _certificate(cluster: dict[str, Any], name: str, *, verified: bool = False, expired: bool = False) -> None:
    """An ISO 9001 certificate on the factory's profile (its capabilities tab)."""
    today = dt.date.today()
    fact = fact_create(
        actor=cluster["people"][name],
        organization=cluster["orgs"][name],
        kind="capabilities",
        data={"term": "iso-9001", "certificate_no": f"CQC-{name}-001", "as_of": (today - dt.timedelta(days=400))},
    )
    if expired:
        OrganizationCapability.objects.filter(pk=fact.pk).update(valid_until=today - dt.timedelta(days=1))
    if verified:
        fact_verify(actor=cluster["operator"], fact=fact, source="operator_verified")


def _planned(cluster: dict[str, Any], certificates: str) -> Order:
    buyer = cluster["people"]["buyer"]
    data = order_data(certifications=["ISO9001"], certificates=certificates, max_suppliers=3)
    return order_plan(actor=buyer, order=order_create(actor=buyer, data=data))


def _factories(order: Order) -> set[str]:
    names = {"sz工厂有限公司": "sz", "su工厂有限公司": "su", "cd工厂有限公司": "cd"}
    return {names[a.factory.name_zh] for a in order.allocations.filter(status="offered").select_related("factory")}


def test_every_certification_has_a_catalogue_term(ref: None) -> None:
    from agglo.profiles.services import catalogue_load

    catalogue_load()
    terms = set(CapabilityTerm.objects.filter(kind="certification").values_list("code", flat=True))
    assert set(CERTIFICATE_TERMS) == set(CERTIFICATIONS) and set(CERTIFICATE_TERMS.values()) <= terms


def test_on_record_counts_only_factories_whose_profile_holds_the_certificate(cluster: dict[str, Any]) -> None:
    # every factory declares ISO9001; Suzhou and Chengdu have it on record, Shenzhen does not
    _certificate(cluster, "su")
    _certificate(cluster, "cd")
    order = _planned(cluster, "on_record")
    assert order.status == Order.Status.PLANNED, order.diagnosis
    assert _factories(order) <= {"su", "cd"} and order.certificates == "on_record"
    # as declared, Shenzhen may take work again (its assembly is what the route needs besides Chengdu's)
    assert "sz" in _factories(_planned(cluster, "declared"))


def test_verified_counts_only_certificates_an_operator_checked(cluster: dict[str, Any], english: None) -> None:
    _certificate(cluster, "su")  # on record, not verified: Suzhou alone runs no step the others cannot
    _certificate(cluster, "cd", verified=True)
    order = _planned(cluster, "verified")
    # the first step (CNC) runs only in Shenzhen and Suzhou, neither verified: no plan, said in words
    assert order.status == Order.Status.INFEASIBLE
    said = " ".join(diagnosis_texts(order))
    assert "ISO9001" in said and "verified" in said, said


def test_an_expired_certificate_is_not_on_record(cluster: dict[str, Any], english: None) -> None:
    _certificate(cluster, "su", expired=True)
    _certificate(cluster, "cd")
    order = _planned(cluster, "on_record")
    assert order.status == Order.Status.INFEASIBLE  # no CNC factory has a valid certificate
    assert "on record" in " ".join(diagnosis_texts(order))


def test_the_api_takes_and_shows_the_choice_and_refuses_others(cluster: dict[str, Any], english: None) -> None:
    buyer = cluster["people"]["buyer"]
    c = Client()
    data = order_data(certifications=["ISO9001"], certificates="on_record")
    created = c.post("/api/v1/factory/orders", data, content_type="application/json", **bearer(buyer))
    assert created.status_code == 201, created.content
    assert created.json()["terms"]["certificates"] == "on_record"
    bad = c.post(
        "/api/v1/factory/orders", {**data, "certificates": "trusted"}, content_type="application/json", **bearer(buyer)
    )
    assert "certificates" in str(problem(bad, 422)["errors"])
    with pytest.raises(ValidationFailed) as refused:
        order_create(actor=buyer, data={**data, "certificates": "trusted"})
    assert list(refused.value.errors) == ["certificates"] and not Order.objects.filter(certificates="trusted").exists()


def test_the_order_page_says_what_factories_must_meet(cluster: dict[str, Any]) -> None:
    _certificate(cluster, "su")
    _certificate(cluster, "cd")
    buyer = cluster["people"]["buyer"]
    data = order_data(certifications=["ISO9001"], certificates="on_record", min_quality=2, regions_excluded=["510000"])
    order = order_create(actor=buyer, data=data)
    page = signed_in(buyer).get(f"/factory/orders/{order.pk}/").content.decode()
    said = page.split('id="requirements">')[1].split("</p>")[0]
    counted = "须在工厂档案中登记，且有效期覆盖其任务所在各周"
    assert said == f"工厂须满足： 质量等级不低于“标准”；认证 ISO9001（{counted}）；不含四川省", said
    # the order form offers the choice, as declared by default
    form = signed_in(buyer).get("/factory/orders/new/").content.decode()
    assert 'name="certificates"' in form and '<option value="declared" selected>' in form


def test_a_factory_sees_which_declared_certifications_its_profile_holds(cluster: dict[str, Any]) -> None:
    from agglo.factory.models import Capability
    from agglo.factory.services.capacity import capability_save

    su = cluster["people"]["su"]
    cap = Capability.objects.get(organization=cluster["orgs"]["su"], process_id="cnc")
    capability_save(
        actor=su, organization_id=cap.organization_id, data={"process": "cnc", "certifications": ["ISO9001", "CE"]}
    )
    _certificate(cluster, "su", verified=True)
    page = signed_in(su).get(f"/factory/capacity/?edit={cap.pk}").content.decode()
    said = page.split('id="certificates-on-record">')[1].split("</p>")[0]
    until = OrganizationCapability.objects.get(organization=cap.organization_id).valid_until
    assert f"已在工厂档案中登记： ISO9001（有效期至 {until:%Y-%m-%d}，已核验）。" in said and "未登记： CE。" in said
    assert f'href="/organizations/{cap.organization_id}/tab/capabilities/"' in said


def test_accepted_work_of_a_factory_whose_certificate_lapsed_stays_with_it(cluster: dict[str, Any]) -> None:
    from agglo.factory.services.jobs import allocation_respond

    _certificate(cluster, "su")
    _certificate(cluster, "cd")
    order = _planned(cluster, "on_record")
    for a in order.allocations.filter(status="offered").select_related("factory"):
        name = {"su工厂有限公司": "su", "cd工厂有限公司": "cd"}[a.factory.name_zh]
        allocation_respond(actor=cluster["people"][name], allocation=a, action="accept")
    # Suzhou's certificate lapses after it accepted: it was checked when offered the work, which stays with it
    OrganizationCapability.objects.filter(organization=cluster["orgs"]["su"]).update(
        valid_until=dt.date.today() - dt.timedelta(days=1)
    )
    accepted = set(order.allocations.filter(status="accepted").values_list("pk", "quantity"))
    again = order_plan(actor=cluster["people"]["buyer"], order=Order.objects.get(pk=order.pk))
    assert again.status == Order.Status.CONFIRMED, again.diagnosis
    assert set(again.allocations.filter(status="accepted").values_list("pk", "quantity")) == accepted


def test_a_factory_takes_work_only_in_weeks_its_certificate_runs_through(
    cluster: dict[str, Any], english: None
) -> None:
    """A certificate valid today but ending within the plan's weeks counts for the weeks it runs through to their
    last day, not after. Suzhou, the one CNC factory with its certificate on record, needs three weeks for the
    step."""
    _certificate(cluster, "su")
    _certificate(cluster, "cd")
    order = _planned(cluster, "on_record")
    su = cluster["orgs"]["su"]

    def replanned(valid_until: dt.date) -> Order:
        OrganizationCapability.objects.filter(organization=su).update(valid_until=valid_until)
        return order_plan(actor=cluster["people"]["buyer"], order=Order.objects.get(pk=order.pk))

    weeks = sorted({a.week for a in order.allocations.filter(status="offered", factory=su)})
    assert len(weeks) == 3, weeks
    # valid through the Sunday of its last week of work: the same weeks
    through = replanned(weeks[-1] + dt.timedelta(days=6))
    assert through.status == Order.Status.PLANNED, through.diagnosis
    assert sorted({a.week for a in through.allocations.filter(status="offered", factory=su)}) == weeks
    # ending the Saturday before: that week is not covered, and no other CNC factory counts: no plan, said why
    short = replanned(weeks[-1] + dt.timedelta(days=5))
    assert short.status == Order.Status.INFEASIBLE
    assert [(f["operation"], f["rule"]) for f in short.diagnosis] == [("1", "capacity")], short.diagnosis
    assert short.diagnosis[0]["detail"]["available"] < 600
    said = " ".join(diagnosis_texts(short))
    assert "valid through" in said, said
