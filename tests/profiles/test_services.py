"""Writes and reads of the professional database through its services and selectors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail

from agglo.access.models import Membership
from agglo.common.errors import Conflict, Forbidden, NotFound, ValidationFailed
from agglo.common.language import language_remember
from agglo.common.models import AuditEvent
from agglo.profiles import selectors, services
from agglo.profiles.kinds import KINDS
from agglo.profiles.models import FinancialStatement, Source
from agglo.registry.models import Relation
from agglo.registry.services import relation_add
from tests.conftest import upload, user
from tests.profiles.conftest import statement

pytestmark = pytest.mark.django_db


def test_owner_records_a_statement_with_provenance_and_history(org_admin, english):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    assert fact.source == Source.SELF_DECLARED
    assert fact.as_of == dt.date(2024, 12, 31) and fact.valid_until == dt.date(2026, 6, 30)
    event = AuditEvent.objects.get(event="profiles.financials_created")
    assert event.organization_id == org.pk and event.group == "financials"
    assert event.payload["after"]["revenue"] == "12000000.00"
    services.fact_update(actor=admin, fact=fact, data={"revenue": "13000000"})
    event = AuditEvent.objects.get(event="profiles.financials_updated")
    assert event.payload == {"before": {"revenue": "12000000.00"}, "after": {"revenue": "13000000.00"}}
    assert event.actor == admin


def test_bad_statements_name_every_field_and_save_nothing(org_admin, english):
    admin, org = org_admin
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(
            actor=admin,
            organization=org,
            kind="financials",
            data=statement(revenue="-1", total_assets="abc", headcount="3.5", colour="red"),
        )
    assert set(exc.value.errors) == {"revenue", "total_assets", "headcount", "colour"}
    assert exc.value.errors["revenue"] == ["Must be at least 0."]
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(actor=admin, organization=org, kind="financials", data=statement(equity="1"))
    assert "must equal total liabilities plus equity" in exc.value.errors["total_assets"][0]
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2014))
    assert exc.value.errors["year"] == ["Before the organization was founded (2015)."]
    assert not FinancialStatement.objects.exists() and not AuditEvent.objects.filter(group="financials").exists()


def test_duplicate_year_is_a_conflict(org_admin):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    with pytest.raises(Conflict) as exc:
        services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    assert "year" in exc.value.errors


def test_others_may_not_write(org_admin, member_of):
    _, org = org_admin
    stranger, _ = member_of("stranger")
    with pytest.raises(Forbidden):
        services.fact_create(actor=stranger, organization=org, kind="ip", data={})


def test_a_change_voids_verification(org_admin, operator):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    services.fact_verify(actor=operator, fact=fact, source="operator_verified")
    fact.refresh_from_db()
    assert fact.verified and fact.verified_by == operator
    services.fact_update(actor=admin, fact=fact, data={"net_profit": "1"})
    fact.refresh_from_db()
    assert fact.source == Source.SELF_DECLARED and fact.verified_by is None
    assert AuditEvent.objects.get(event="profiles.financials_updated").payload["verification_voided"] == (
        "operator_verified"
    )


def test_who_may_verify(org_admin, member_of, operator, english):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    with pytest.raises(Forbidden):
        services.fact_verify(actor=admin, fact=fact, source="operator_verified")
    with pytest.raises(ValidationFailed) as exc:
        services.fact_verify(actor=admin, fact=fact, source="audited")
    assert exc.value.errors["source"] == ["Attach the audit report first."]
    services.evidence_add(actor=admin, statement=fact, files=[upload("audit.pdf")])
    services.fact_verify(actor=admin, fact=fact, source="audited")
    banker, bank = member_of("banker", kind="bank", name_zh="测试银行深圳分行")
    with pytest.raises(Forbidden):  # financials are at "partners" by default: the bank cannot see them
        services.fact_verify(actor=banker, fact=fact, source="bank_verified")
    services.disclosure_set(actor=admin, organization=org, data={"financials_visibility": "members"})
    with pytest.raises(ValidationFailed) as unsaid:  # a bank says what it checked (policy review 58 M5)
        services.fact_verify(actor=banker, fact=fact, source="bank_verified")
    assert list(unsaid.value.errors) == ["note"]
    noted = fact.source_note
    services.fact_verify(actor=banker, fact=fact, source="bank_verified", note="与本行账户流水核对一致")
    fact.refresh_from_db()
    assert (fact.source, fact.source_note) == ("bank_verified", "与本行账户流水核对一致")
    from agglo.common.models import AuditEvent

    trail = AuditEvent.objects.filter(event="profiles.financials_verified").order_by("-id").first()
    assert trail.payload["before"]["source_note"] == noted  # what it said before stays in the history


def test_evidence_must_be_a_real_document(org_admin, english):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    with pytest.raises(ValidationFailed) as exc:
        services.evidence_add(actor=admin, statement=fact, files=[upload("x.pdf", b"MZ\x90\x00", "application/pdf")])
    assert exc.value.errors["files"] == ["x.pdf is not a PDF, PNG or JPEG file."]


def test_platform_ratings_are_the_operators(org_admin, operator, english):
    admin, org = org_admin
    rating = {
        "grade": "AA",
        "rating_body": "platform",
        "method_version": "v1",
        "as_of": "2026-01-10",
        "valid_until": "2027-01-10",
    }
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(actor=admin, organization=org, kind="ratings", data=rating)
    assert exc.value.errors["rating_body"] == ["Only the platform gives platform ratings."]
    fact = services.fact_create(actor=operator, organization=org, kind="ratings", data=rating)
    assert fact.source == Source.OPERATOR_VERIFIED
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(
            actor=admin, organization=org, kind="ratings", data={**rating, "rating_body": "agency", "grade": "Z"}
        )
    assert set(exc.value.errors) == {"grade", "agency_name"}  # every problem in one answer
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(actor=admin, organization=org, kind="ratings", data={**rating, "rating_body": "agency"})
    assert exc.value.errors == {"agency_name": ["Name the rating agency."]}


def test_ip_numbers_are_normalised_and_checked(org_admin, member_of, english):
    admin, org = org_admin
    data = {
        "kind": "invention_patent",
        "number": "zl 2017 1060 1862.3",
        "title": "一种芯片封装方法",
        "status": "pending",
    }
    fact = services.fact_create(actor=admin, organization=org, kind="ip", data=data)
    assert fact.number == "ZL201710601862.3"
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(actor=admin, organization=org, kind="ip", data={**data, "number": "201710601862.5"})
    assert exc.value.errors["number"] == ["The check character does not match the number: expected 3."]
    other_admin, other = member_of("other")
    twin = services.fact_create(actor=other_admin, organization=other, kind="ip", data=data)
    assert [w["rule"] for w in twin.warnings] == ["held_elsewhere"]


def test_capabilities_come_from_the_catalogue(org_admin, english):
    admin, org = org_admin
    with pytest.raises(ValidationFailed) as exc:
        services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": "juggling"})
    assert exc.value.errors == {"term": ["Not in the capability catalogue."]}
    fact = services.fact_create(
        actor=admin, organization=org, kind="capabilities", data={"term": "iso-9001", "certificate_no": "Q-1"}
    )
    assert fact.term.code == "iso-9001"
    assert [t.code for t in selectors.capability_terms(q="9001")] == ["iso-9001"]
    assert "iatf-16949" in {t.code for t in selectors.capability_terms(q="质量管理", kind="certification")}
    assert list(selectors.capability_holders(actor=admin, code="iso-9001")) == [org]


def test_financials_visibility_and_the_access_log(org_admin, member_of, operator):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    peer, peer_org = member_of("peer")
    kind = KINDS["financials"]
    assert selectors.fact_list(actor=peer, organization=org, kind=kind) is None  # partners only, by default
    assert selectors.fact_list(actor=admin, organization=org, kind=kind).count() == 1
    with pytest.raises(NotFound):
        selectors.fact_get(actor=peer, kind=kind, pk=FinancialStatement.objects.get().pk)
    # The owner declares the peer a partner: the peer now sees the financials.
    relation_add(actor=admin, source=org, target_id=peer_org.pk, kind=Relation.Kind.PARTNER)
    assert selectors.fact_list(actor=peer, organization=org, kind=kind).count() == 1
    # Own views are not logged; outsiders' are, and only the owner's side reads the log.
    from agglo.access.services import sensitive_views_record

    assert sensitive_views_record(viewer=admin, owner_ids=[org.pk], groups=["financials"], channel="page") == 0
    sensitive_views_record(viewer=peer, owner_ids=[org.pk], groups=["financials"], channel="page")
    entry = selectors.access_log_list(actor=admin, organization=org).get()
    assert (entry.viewer_label, entry.group, entry.viewer_orgs) == (f"#{peer.pk}", "financials", peer_org.name_zh)
    with pytest.raises(Forbidden):
        selectors.access_log_list(actor=peer, organization=org)
    assert selectors.access_log_list(actor=operator, organization=org).count() == 1


def test_history_hides_groups_the_viewer_may_not_see(org_admin, member_of):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": "iso-9001"})
    peer, _ = member_of("peer")
    own = {e.event for e in selectors.history_list(actor=admin, organization=org)}
    seen = {e.event for e in selectors.history_list(actor=peer, organization=org)}
    assert {"profiles.financials_created", "profiles.capabilities_created"} <= own
    assert "profiles.capabilities_created" in seen and "profiles.financials_created" not in seen


def test_quality_score_rises_as_the_owner_fills_in(org_admin, operator):
    admin, org = org_admin
    start = selectors.quality_get(actor=admin, organization=org)
    this_year = dt.date.today().year
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(this_year - 1))
    after_statement = selectors.quality_get(actor=admin, organization=org)
    services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": "iso-9001"})
    fact = FinancialStatement.objects.get()
    services.fact_verify(actor=operator, fact=fact, source="operator_verified")
    end = selectors.quality_get(actor=admin, organization=org)
    assert start.score < after_statement.score < end.score
    assert "last_year_statement" in {f.code for f in start.fixes}
    assert "last_year_statement" not in {f.code for f in end.fixes}


def test_the_basic_profile_fix_names_only_what_is_empty(org_admin, english):
    from agglo.profiles.presenters import fix_message
    from agglo.registry.services import organization_update

    admin, org = org_admin
    organization_update(actor=admin, organization=org, data={"website": "", "name_en": "Full Name Ltd"})
    (basic,) = [f for f in selectors.quality_get(actor=admin, organization=org).fixes if f.code == "basic_fields"]
    assert "website" in basic.missing and "name_en" not in basic.missing
    said = fix_message(basic)
    assert said.startswith("Complete the basic profile: ") and "website" in said and "English name" not in said


def test_quality_is_for_the_owner(org_admin, member_of):
    _, org = org_admin
    peer, _ = member_of("peer")
    with pytest.raises(Forbidden):
        selectors.quality_get(actor=peer, organization=org)


def test_cases_make_partners_once_confirmed(org_admin, member_of, english):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    peer, peer_org = member_of("peer")
    case = services.case_create(
        actor=admin,
        organization=org,
        data={"title": "联合研发车规级芯片", "kind": "joint_rnd", "started_on": "2025-03-01"},
    )
    participant = services.participant_add(
        actor=admin,
        case=case,
        data={"organization": peer_org.pk, "role": "partner", "input_kind": "staff", "input_amount": "500000"},
    )
    kind = KINDS["financials"]
    assert selectors.fact_list(actor=peer, organization=org, kind=kind) is None  # not confirmed yet
    with pytest.raises(Forbidden):
        services.participant_confirm(actor=admin, participant=participant)  # only the partner confirms
    services.participant_confirm(actor=peer, participant=participant)
    assert selectors.fact_list(actor=peer, organization=org, kind=kind) is not None
    rating = services.case_rate(actor=peer, case=case, data={"rated": org.pk, "score": 5, "comment": "准时"})
    assert rating.rater_id == peer_org.pk
    with pytest.raises(Conflict):
        services.case_rate(actor=peer, case=case, data={"rated": org.pk, "score": 4})
    with pytest.raises(ValidationFailed) as exc:
        services.case_rate(actor=peer, case=case, data={"rated": peer_org.pk, "score": 6})
    assert set(exc.value.errors) == {"score"}
    assert case in selectors.case_list(actor=peer, organization=peer_org)
    with pytest.raises(ValidationFailed) as exc:
        services.case_create(
            actor=admin,
            organization=org,
            data={"title": "x", "kind": "joint_rnd", "started_on": "2025-03-01", "ended_on": "2024-01-01"},
        )
    assert exc.value.errors == {"ended_on": ["Cannot be before started on."]}


def test_private_cases_are_for_participants(org_admin, member_of):
    admin, org = org_admin
    peer, _ = member_of("peer")
    services.case_create(
        actor=admin,
        organization=org,
        data={"title": "机密合作", "kind": "alliance", "started_on": "2024-01-01", "visibility": "private"},
    )
    assert selectors.case_list(actor=peer, organization=org) == []
    assert len(selectors.case_list(actor=admin, organization=org)) == 1


def test_stale_facts_are_marked_and_owners_reminded(org_admin, django_capture_on_commit_callbacks):
    admin, org = org_admin
    fact = services.fact_create(
        actor=admin, organization=org, kind="financials", data=statement(2022, valid_until="2024-06-30")
    )
    assert fact.stale
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.stale_reminders_send()
    assert counts == {"organizations": 1, "facts": 1}
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [admin.email]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.stale_reminders_send() == {"organizations": 0, "facts": 0}  # not again within 30 days
    later = dt.date.today() + dt.timedelta(days=31)
    assert services.stale_reminders_send(today=later)["facts"] == 1


def test_each_admin_is_reminded_in_their_own_language(org_admin, django_capture_on_commit_callbacks):
    admin, org = org_admin
    english = user("admin-en")
    Membership.objects.create(user=english, organization=org, role=Membership.Role.ADMIN)
    language_remember(english, "en")
    services.fact_create(
        actor=admin, organization=org, kind="financials", data=statement(2022, valid_until="2024-06-30")
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.stale_reminders_send()
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects[english.email].startswith("Agglo: 1 facts of")
    assert subjects[admin.email].startswith("Agglo：")


def test_indicators_of_stored_statements(org_admin):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2023, revenue="10000000"))
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    rows = selectors.indicator_list(list(FinancialStatement.objects.order_by("year")))
    assert rows[1].revenue_growth == Decimal("0.2000")
    assert rows[1].z_zone == "safe"


def test_disclosure_levels_are_validated(org_admin, english):
    admin, org = org_admin
    with pytest.raises(ValidationFailed) as exc:
        services.disclosure_set(actor=admin, organization=org, data={"financials_visibility": "everyone", "x": 1})
    assert set(exc.value.errors) == {"financials_visibility", "x"}
    outsider = user("outsider")
    with pytest.raises(Forbidden):
        services.disclosure_set(actor=outsider, organization=org, data={"financials_visibility": "public"})


def test_a_statement_replaced_by_a_newer_year_is_history_not_stale(org_admin):
    admin, org = org_admin
    old = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2022))
    assert old.stale
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(dt.date.today().year - 1))
    listed = {s.year: s for s in selectors.fact_list(actor=admin, organization=org, kind=KINDS["financials"])}
    assert not listed[2022].stale
    assert selectors.quality_get(actor=admin, organization=org).freshness == 1.0
    assert services.stale_reminders_send() == {"organizations": 0, "facts": 0}


def test_a_capability_changes_its_detail_or_its_term(org_admin):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": "iso-9001"})
    services.fact_update(actor=admin, fact=fact, data={"detail": "2025 年复审通过"})
    services.fact_update(actor=admin, fact=fact, data={"term": "iso-14001"})
    fact.refresh_from_db()
    assert (fact.term.code, fact.detail) == ("iso-14001", "2025 年复审通过")


def test_the_audit_report_opens_for_who_may_see_the_statement_and_the_mark_reads_as_the_owners(
    org_admin, member_of, operator, client
):
    from agglo.access.models import AccessLogEntry

    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    (evidence,) = services.evidence_add(actor=admin, statement=fact, files=[upload("audit.pdf")])
    services.fact_verify(actor=admin, fact=fact, source="audited")
    url = f"/organizations/{org.pk}/evidence/{evidence.pk}/"
    client.force_login(admin)
    page = client.get(f"/organizations/{org.pk}/tab/finances/").content.decode()
    assert f'href="{url}"' in page and "self-audited" in page and "✔" not in page.split("self-audited")[1][:80]
    assert client.get(url).status_code == 200
    peer, _ = member_of("peer")  # financials are at "partners": a stranger neither sees them nor the report
    client.force_login(peer)
    assert client.get(url).status_code == 404
    client.force_login(operator)  # the platform can check what the mark rests on; the owner sees that it did
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    assert AccessLogEntry.objects.filter(owner=org, group="financials", channel="page").exists()


def test_the_owners_audited_mark_is_not_a_verification_and_its_files_can_be_removed(org_admin, member_of, client):
    from agglo.profiles.models import StatementEvidence

    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    first, second = services.evidence_add(
        actor=admin, statement=fact, files=[upload("audit.pdf"), upload("letter.pdf")]
    )
    services.fact_verify(actor=admin, fact=fact, source="audited")
    fact.refresh_from_db()
    assert fact.source == "audited" and not fact.verified  # the owner's own word, not a check by others
    assert selectors.quality_get(actor=admin, organization=org).verification == 0
    # a stranger cannot take a file off, even by its id
    peer, _ = member_of("peer")
    client.force_login(peer)
    assert client.post(f"/organizations/{org.pk}/evidence/{first.pk}/remove/").status_code == 404
    client.force_login(admin)
    r = client.post(f"/organizations/{org.pk}/evidence/{first.pk}/remove/")
    assert r.status_code == 302 and StatementEvidence.objects.filter(pk=first.pk).count() == 0
    fact.refresh_from_db()
    assert fact.source == "audited"  # a file is left for the mark to rest on
    from tests.registry.test_api import bearer

    api = client.delete(f"/api/v1/financials/{fact.pk}/evidence/{second.pk}", **bearer(admin))
    assert api.status_code == 204
    fact.refresh_from_db()
    assert fact.source == "self_declared" and fact.verified_by is None and not fact.evidence.exists()
    assert client.delete(f"/api/v1/financials/{fact.pk}/evidence/{second.pk}", **bearer(admin)).status_code == 404
