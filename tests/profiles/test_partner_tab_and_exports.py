"""A pending case on the partner's own tab, 401 with a challenge for nobody logged in, and own exports that
import again."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.common.models import Notification
from agglo.profiles.services import cases
from tests.conftest import streamed

pytestmark = pytest.mark.django_db


def test_a_pending_case_shows_on_the_partners_tab_to_its_people_only(org_admin, member_of):
    admin, org = org_admin
    partner_admin, partner = member_of("r24f-partner")
    stranger, _ = member_of("r24f-stranger")
    case = cases.case_create(
        actor=admin,
        organization=org,
        data={"title": "私密联合研发", "kind": "joint_rnd", "started_on": "2025-01-01", "visibility": "private"},
    )
    cases.participant_add(
        actor=admin,
        case=case,
        data={"organization": partner.pk, "role": "partner", "input_kind": "cash", "input_amount": "1000000"},
    )
    assert Notification.objects.filter(user=partner_admin, verb="profiles.participant_added").count() == 1
    assert not Notification.objects.filter(user=stranger).exists()
    own, other = Client(), Client()
    own.force_login(partner_admin)
    other.force_login(stranger)
    assert "私密联合研发" in own.get(f"/organizations/{partner.pk}/tab/cases/").content.decode()
    assert "私密联合研发" not in other.get(f"/organizations/{partner.pk}/tab/cases/").content.decode()
    assert "私密联合研发" not in other.get(f"/organizations/{org.pk}/tab/cases/").content.decode()
    assert other.get(f"/api/v1/cases/{case.pk}").status_code == 404
    assert [c["title"] for c in own.get(f"/api/v1/organizations/{partner.pk}/cases").json()] == ["私密联合研发"]
    assert other.get(f"/api/v1/organizations/{partner.pk}/cases").json() == []


def test_nobody_logged_in_gets_401_with_a_challenge(db):
    c = Client()
    for url in ("/api/v1/ledger/mine", "/api/v1/policies/999/eligibility", "/api/v1/notifications"):
        r = c.get(url)
        assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Bearer"), (url, r.status_code)


def test_own_exports_of_every_kind_import_again(org_admin, member_of):
    from agglo.profiles import services
    from agglo.profiles.models import CapabilityTerm
    from tests.profiles.conftest import statement

    admin, org = org_admin
    other_admin, other = member_of("r24f-other")
    for who, o in ((admin, org), (other_admin, other)):
        services.fact_create(actor=who, organization=o, kind="financials", data=statement(2024))
        services.fact_create(
            actor=who,
            organization=o,
            kind="ip",
            data={
                "kind": "invention_patent",
                "number": f"ZL2023{o.pk:06d}.1",
                "title": "方法",
                "status": "pending",
                "filed_on": "2023-01-01",
            },
        )
        services.fact_create(
            actor=who, organization=o, kind="capabilities", data={"term": CapabilityTerm.objects.first().code}
        )
    c = Client()
    c.force_login(admin)
    for kind in ("financials", "ip", "capabilities"):
        for fmt in ("csv", "xlsx"):
            r = c.get(f"/profiles/export/{kind}.{fmt}?own=1")
            assert r.status_code == 200
            result = services.import_file(actor=admin, kind=kind, body=streamed(r), filename=f"x.{fmt}", dry_run=True)
            assert result.errors == [], (kind, fmt, result.errors[:3])
