import pytest

from agglo.access import policy
from agglo.common.errors import Conflict, Forbidden, ValidationFailed
from agglo.common.models import AuditEvent
from agglo.registry.models import Organization, Position, Relation
from agglo.registry.services import (
    organization_create,
    organization_set_status,
    organization_update,
    position_add,
    relation_add,
)
from tests.conftest import make_uscc, user

pytestmark = pytest.mark.django_db


def test_create_derives_layer_area_and_size(make_org):
    org = make_org(kind="university", headcount=1500, region="440300")
    assert org.layer == "auxiliary"
    assert org.area_id == "440000"
    assert org.size_class == "large"
    assert AuditEvent.objects.filter(event="registry.organization_created", subject_id=str(org.pk)).exists()


def test_bad_credit_code_names_the_expected_check_character(ref, english, operator):
    code = make_uscc()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as err:
        organization_create(
            actor=operator,
            data={"name_zh": "甲", "kind": "tech_sme", "region": "440300", "uscc": wrong},
            status="member",
        )
    assert f"must be {code[17]}" in err.value.errors["uscc"][0]
    assert not Organization.objects.filter(name_zh="甲").exists()


def test_every_bad_field_is_reported_at_once(ref, operator):
    with pytest.raises(ValidationFailed) as err:
        organization_create(
            actor=operator,
            data={
                "name_zh": "",
                "kind": "spaceship",
                "region": "999999",
                "founded_year": 1200,
                "website": "ftp://x",
                "tags": ["x" * 40],
                "colour": "red",
            },
            status="member",
        )
    assert set(err.value.errors) == {"name_zh", "kind", "region", "founded_year", "website", "tags", "colour"}


def test_china_needs_a_credit_code_and_abroad_a_registry_id(ref, operator):
    with pytest.raises(ValidationFailed) as err:
        organization_create(
            actor=operator, data={"name_zh": "乙", "kind": "tech_sme", "region": "440300"}, status="member"
        )
    assert "uscc" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        organization_create(actor=operator, data={"name_zh": "丙", "kind": "tech_sme", "region": "DE"}, status="member")
    assert "foreign_registry_id" in err.value.errors
    org = organization_create(
        actor=operator,
        data={
            "name_zh": "丙",
            "name_en": "Bing GmbH",
            "kind": "tech_sme",
            "region": "DE",
            "foreign_registry_id": "HRB 12345",
        },
        status="member",
    )
    assert org.uscc is None and org.area_id == "DE"


def test_duplicate_code_is_a_conflict(make_org):
    org = make_org()
    with pytest.raises(Conflict) as err:
        make_org(uscc=org.uscc)
    assert "uscc" in err.value.errors


def test_only_operators_create_members_directly(ref):
    with pytest.raises(Forbidden):
        organization_create(actor=user("plain"), data={}, status="member")


def test_update_is_audited_with_before_and_after_and_reindexed(org_admin):
    admin, org = org_admin
    organization_update(actor=admin, organization=org, data={"name_en": "Renamed Photonics", "headcount": 12})
    org.refresh_from_db()
    assert org.size_class == "micro"
    assert "photonics" in org.search_text
    event = AuditEvent.objects.filter(event="registry.organization_updated").latest("id")
    assert event.payload["after"]["name_en"] == "Renamed Photonics"
    assert event.payload["before"]["name_en"].startswith("Shenzhen Test")


def test_changes_from_copies_read_before_each_other_keep_both_in_the_search_text(org_admin):
    # Two edits at once, each from its own copy (review 53 R7): the second is indexed with the first's words.
    admin, org = org_admin
    first, second = Organization.objects.get(pk=org.pk), Organization.objects.get(pk=org.pk)
    organization_update(actor=admin, organization=first, data={"name_en": "Zephyrlight Photonics"})
    organization_update(actor=admin, organization=second, data={"description": "Quasarwidget modules"})
    org.refresh_from_db()
    assert org.name_en == "Zephyrlight Photonics" and "zephyrlight" in org.search_text
    assert "quasarwidget" in org.search_text


def test_other_members_cannot_edit(org_admin, make_org):
    admin, _ = org_admin
    other = make_org()
    with pytest.raises(Forbidden):
        organization_update(actor=admin, organization=other, data={"name_en": "Hijacked"})
    other.refresh_from_db()
    assert other.name_en != "Hijacked"


def test_positions_validate_segment_and_role(org_admin):
    admin, org = org_admin
    with pytest.raises(ValidationFailed) as err:
        position_add(actor=admin, organization=org, segment_code="ic-nope", role="dances")
    assert set(err.value.errors) == {"segment", "role"}
    position_add(actor=admin, organization=org, segment_code="ic-design", role="produces")
    with pytest.raises(Conflict):
        position_add(actor=admin, organization=org, segment_code="ic-design", role="produces")
    assert Position.objects.filter(organization=org).count() == 1


def test_relations_check_target_dates_and_self(org_admin, make_org):
    admin, org = org_admin
    other = make_org()
    with pytest.raises(ValidationFailed) as err:
        relation_add(actor=admin, source=org, target_id=org.pk, kind="partner")
    assert "target" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        relation_add(
            actor=admin,
            source=org,
            target_id=other.pk,
            kind="partner",
            started_on="2024-05-01",
            ended_on="2023-01-01",
        )
    assert "ended_on" in err.value.errors
    relation_add(actor=admin, source=org, target_id=other.pk, kind="supplier_of", started_on="2021-03-01")
    assert Relation.objects.get(source_org=org).source == "self_declared"


def test_status_changes_are_for_operators(org_admin, operator, make_org):
    admin, org = org_admin
    with pytest.raises(Forbidden):
        organization_set_status(actor=admin, organization=org, status="suspended")
    organization_set_status(actor=operator, organization=org, status="suspended", reason="unpaid dues")
    policy.forget(admin)
    org.refresh_from_db()
    assert org.status == "suspended"
    with pytest.raises(Forbidden):  # a suspended organization's admin cannot erase the sanction by withdrawing
        organization_set_status(actor=admin, organization=org, status="withdrawn")
    with pytest.raises(Forbidden):  # nor edit it while suspended
        organization_update(actor=admin, organization=org, data={"name_en": "Still here"})
    organization_set_status(actor=operator, organization=org, status="member")
    policy.forget(admin)
    organization_set_status(actor=admin, organization=org, status="withdrawn")
    org.refresh_from_db()
    assert org.status == "withdrawn"


def test_org_admins_change_profile_fields_only(org_admin):
    admin, org = org_admin
    with pytest.raises(ValidationFailed) as err:
        organization_update(actor=admin, organization=org, data={"kind": "bank", "region": "110000", "name_en": "X"})
    assert set(err.value.errors) == {"kind", "region"}
    org.refresh_from_db()
    assert org.kind == "tech_sme" and org.name_en != "X"
