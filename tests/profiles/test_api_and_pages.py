"""The professional database through the REST API and the pages, with real clients."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from agglo.access.models import AccessLogEntry
from agglo.profiles import services
from agglo.profiles.models import FinancialStatement
from agglo.profiles.selectors.trust import TrustFacts
from agglo.profiles.tabular import write_csv, write_xlsx
from agglo.registry.services import organization_update
from tests.conftest import streamed, upload
from tests.profiles.conftest import statement
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


def login(u) -> Client:
    c = Client()
    c.force_login(u)
    return c


def test_api_fact_lifecycle(org_admin, english):
    admin, org = org_admin
    auth = bearer(admin)
    c = Client()
    response = c.post(
        f"/api/v1/organizations/{org.pk}/financials", statement(2025), content_type="application/json", **auth
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "self_declared" and body["stale"] is False and body["valid_until"] == "2027-06-30"
    fact_id = body["id"]
    body = problem(
        c.patch(
            f"/api/v1/financials/{fact_id}",
            {"equity": "1", "rd_headcount": 500},
            content_type="application/json",
            **auth,
        ),
        422,
    )
    assert set(body["errors"]) == {"total_assets", "rd_headcount"}
    body = problem(
        c.post(f"/api/v1/organizations/{org.pk}/financials", {"year": "soon"}, content_type="application/json", **auth),
        422,
    )
    assert "year" in body["errors"]
    response = c.patch(
        f"/api/v1/financials/{fact_id}", {"net_profit": "2000000"}, content_type="application/json", **auth
    )
    assert response.status_code == 200 and response.json()["net_profit"] == "2000000.00"
    response = c.post(f"/api/v1/financials/{fact_id}/evidence", {"files": [upload("audit.pdf")]}, **auth)
    assert response.status_code == 201, response.content
    response = c.post(
        f"/api/v1/financials/{fact_id}/verify", {"source": "audited"}, content_type="application/json", **auth
    )
    assert response.json()["source"] == "audited" and response.json()["verified"] is False  # the owner's own mark
    indicators = c.get(f"/api/v1/organizations/{org.pk}/indicators", **auth).json()
    assert indicators[0]["year"] == 2025 and indicators[0]["z_zone"] == "safe"
    history = c.get(f"/api/v1/organizations/{org.pk}/history", **auth).json()
    assert {"profiles.financials_created", "profiles.financials_updated", "profiles.financials_marked_audited"} <= {
        e["event"] for e in history
    }
    profile = c.get(f"/api/v1/organizations/{org.pk}/profile", **auth).json()
    assert profile["quality"]["score"] > 0 and profile["disclosure"]["financials"] == "partners"
    assert c.delete(f"/api/v1/financials/{fact_id}", **auth).status_code == 204
    assert not FinancialStatement.objects.exists()


def test_api_visibility_and_access_log(org_admin, member_of):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    peer, _ = member_of("peer")
    c = Client()
    problem(c.get(f"/api/v1/organizations/{org.pk}/financials", **bearer(peer)), 403)
    problem(c.get(f"/api/v1/organizations/{org.pk}/quality", **bearer(peer)), 403)
    problem(c.get(f"/api/v1/organizations/{org.pk}/access-log", **bearer(peer)), 403)
    problem(
        c.post(
            f"/api/v1/organizations/{org.pk}/ip", {"kind": "design"}, content_type="application/json", **bearer(peer)
        ),
        403,
    )
    profile = c.get(f"/api/v1/organizations/{org.pk}/profile", **bearer(peer)).json()
    assert (
        profile["indicators"] is None and profile["quality"] is None and "financials" not in profile["visible_groups"]
    )
    response = c.put(
        f"/api/v1/organizations/{org.pk}/disclosure",
        {"financials_visibility": "members"},
        content_type="application/json",
        **bearer(admin),
    )
    assert response.json()["financials"] == "members"
    assert len(c.get(f"/api/v1/organizations/{org.pk}/financials", **bearer(peer)).json()) == 1
    log = c.get(f"/api/v1/organizations/{org.pk}/access-log", **bearer(admin)).json()
    assert [(e["viewer"], e["group"], e["channel"]) for e in log] == [(f"#{peer.pk}", "financials", "api")]
    # Anonymous visitors see neither the financials nor the credit headline.
    anonymous = Client().get(f"/api/v1/organizations/{org.pk}/profile").json()
    assert anonymous["credit"] is None and anonymous["indicators"] is None


def test_api_import_and_export(org_admin):
    admin, org = org_admin
    c = Client()
    header = ("uscc", "year", "revenue", "total_assets", "total_liabilities", "equity")
    bad = write_csv(header, [(org.uscc, 2024, 1, 10, 5, 5), (org.uscc, 2023, -1, 10, 5, 5)])
    response = c.post("/api/v1/imports/financials", {"file": io.BytesIO(bad)}, **bearer(admin))
    assert response.status_code == 422
    assert [(e["row"], e["column"], e["rule"]) for e in response.json()["errors"]] == [(3, "revenue", "min")]
    good = write_xlsx(header, [(org.uscc, 2024, 1, 10, 5, 5)], "f")
    upload_file = io.BytesIO(good)
    upload_file.name = "f.xlsx"
    response = c.post("/api/v1/imports/financials?dry_run=true", {"file": upload_file}, **bearer(admin))
    assert response.status_code == 200 and response.json()["created"] == 1 and not response.json()["applied"]
    assert not FinancialStatement.objects.exists()
    upload_file.seek(0)
    response = c.post("/api/v1/imports/financials", {"file": upload_file}, **bearer(admin))
    assert response.json()["applied"] and FinancialStatement.objects.count() == 1
    response = c.get("/api/v1/exports/financials?format=xlsx", **bearer(admin))
    assert response.status_code == 200 and streamed(response).startswith(b"PK")
    assert response["Content-Disposition"] == 'attachment; filename="agglo-financials.xlsx"'  # named for its data
    problem(c.get("/api/v1/exports/financials?format=pdf", **bearer(admin)), 422)
    problem(c.get("/api/v1/exports/secrets", **bearer(admin)), 422)


def test_api_cases(org_admin, member_of):
    admin, org = org_admin
    peer, peer_org = member_of("peer")
    c = Client()
    response = c.post(
        f"/api/v1/organizations/{org.pk}/cases",
        {"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"},
        content_type="application/json",
        **bearer(admin),
    )
    assert response.status_code == 201, response.content
    case_id = response.json()["id"]
    response = c.post(
        f"/api/v1/cases/{case_id}/participants",
        {"organization": peer_org.pk, "input_kind": "equipment", "input_amount": "300000"},
        content_type="application/json",
        **bearer(admin),
    )
    participant_id = response.json()["id"]
    response = c.post(f"/api/v1/cases/{case_id}/participants/{participant_id}/confirm", **bearer(peer))
    assert response.json()["confirmed_at"]
    response = c.post(
        f"/api/v1/cases/{case_id}/ratings",
        {"rated": peer_org.pk, "score": 4},
        content_type="application/json",
        **bearer(admin),
    )
    assert response.status_code == 201
    case = c.get(f"/api/v1/cases/{case_id}", **bearer(peer)).json()
    assert len(case["participants"]) == 2 and case["ratings"][0]["score"] == 4
    # what ranking weighs (and explains to any member) holds the case while members may see it
    from agglo.profiles.selectors.trust import trust_facts

    assert (
        trust_facts([peer_org.pk])[peer_org.pk].confirmed_cases,
        trust_facts([peer_org.pk])[peer_org.pk].mean_rating,
    ) == (1, 4.0)
    # review 44 F2: made private, the case no longer counts, nor its rating
    response = c.patch(
        f"/api/v1/cases/{case_id}", {"visibility": "private"}, content_type="application/json", **bearer(admin)
    )
    assert response.status_code == 200, response.content
    assert trust_facts([peer_org.pk, org.pk]) == {peer_org.pk: TrustFacts(), org.pk: TrustFacts()}


def test_capability_catalogue_api(ref, client):
    terms = client.get("/api/v1/capability-terms", {"q": "ISO 9001"}).json()
    assert [t["code"] for t in terms] == ["iso-9001"]
    problem(client.get("/api/v1/capability-terms/juggling/organizations"), 404)


def test_profile_tabs_render_for_owner_peer_and_visitor(org_admin, member_of, operator):
    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": "iso-9001"})
    organization_update(actor=admin, organization=org, data={"contact_name": "王经理", "contact_email": "w@t.example"})
    services.case_create(
        actor=admin, organization=org, data={"title": "联合研发", "kind": "joint_rnd", "started_on": "2024-01-01"}
    )
    peer, _ = member_of("peer")
    tabs = ("finances", "credit", "ip", "capabilities", "cases", "history")
    owner = login(admin)
    page = owner.get(f"/organizations/{org.pk}/").content.decode()
    assert 'id="quality-panel"' in page and 'id="disclosure-form"' in page
    for tab in (*tabs, "access"):
        assert owner.get(f"/organizations/{org.pk}/tab/{tab}/").status_code == 200, tab
    assert "finance-chart" in owner.get(f"/organizations/{org.pk}/tab/finances/").content.decode()
    # a year without net profit is a gap in the chart, not a reported zero
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2025, net_profit=None))
    chart = owner.get(f"/organizations/{org.pk}/tab/finances/").context["chart"]
    assert chart["series"]["net_profit"] == [1500000.0, None] and chart["series"]["revenue"][1] == 12000000.0
    visitor = login(peer)
    page = visitor.get(f"/organizations/{org.pk}/").content.decode()
    assert 'id="quality-panel"' not in page
    finances = visitor.get(f"/organizations/{org.pk}/tab/finances/").content.decode()
    assert 'id="group-hidden"' in finances and "statements" not in finances
    assert visitor.get(f"/organizations/{org.pk}/tab/access/").status_code == 403
    assert Client().get(f"/organizations/{org.pk}/tab/cases/").status_code == 200
    assert Client().get(f"/organizations/{org.pk}/tab/nope/").status_code == 404
    # Contacts shown to the peer (members level) are logged for the owner.
    assert AccessLogEntry.objects.filter(owner=org, group="contacts", viewer=peer).exists()


def test_fact_form_shows_field_errors_and_saves_nothing(org_admin):
    admin, org = org_admin
    c = login(admin)
    response = c.post(f"/organizations/{org.pk}/facts/financials/new/", {**statement(2024), "equity": "5"})
    assert response.status_code == 400
    assert "允许误差" in response.content.decode() and not FinancialStatement.objects.exists()  # pages speak Chinese
    response = c.post(f"/organizations/{org.pk}/facts/financials/new/", statement(2024))
    assert response.status_code == 302 and FinancialStatement.objects.count() == 1
    fact = FinancialStatement.objects.get()
    response = c.post(f"/organizations/{org.pk}/facts/financials/{fact.pk}/", {**statement(2024), "revenue": "7"})
    assert response.status_code == 302
    fact.refresh_from_db()
    assert fact.revenue == 7
    response = c.post(f"/organizations/{org.pk}/facts/financials/{fact.pk}/delete/")
    assert response.status_code == 302 and not FinancialStatement.objects.exists()


def test_others_cannot_open_edit_pages(org_admin, member_of):
    _, org = org_admin
    peer, _ = member_of("peer")
    c = login(peer)
    assert c.get(f"/organizations/{org.pk}/facts/financials/new/").status_code == 403
    assert c.post(f"/organizations/{org.pk}/cases/new/", {"title": "x"}).status_code == 403


def test_import_page_lists_bad_rows(org_admin):
    admin, org = org_admin
    c = login(admin)
    body = write_csv(
        ("uscc", "year", "revenue", "total_assets", "total_liabilities", "equity"), [(org.uscc, 2024, "x", 10, 5, 5)]
    )
    f = io.BytesIO(body)
    f.name = "f.csv"
    response = c.post("/profiles/import/", {"kind": "financials", "file": f, "dry_run": "on"})
    assert response.status_code == 400 and 'id="import-errors"' in response.content.decode()
    assert c.get("/profiles/export/financials.csv").status_code == 200
    assert c.get("/profiles/export/financials.doc").status_code == 404
    assert Client().get("/profiles/import/").status_code == 302  # log in first


def test_catalogue_page(ref, client):
    page = client.get("/capabilities/", {"q": "9001"}).content.decode()
    assert "iso-9001" in page
    assert client.get("/capabilities/", {"term": "nope"}).status_code == 404


def test_admin_lists_the_professional_database_read_only(org_admin):
    from tests.conftest import user as make_user

    admin, org = org_admin
    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2025))
    operator = make_user("op-admin", role="operator")
    operator.is_staff = True
    operator.save()
    c = login(operator)
    for path in (
        "financialstatement",
        "creditrating",
        "ipasset",
        "organizationcapability",
        "capabilityterm",
        "case",
        "importrun",
    ):
        assert c.get(f"/admin/profiles/{path}/").status_code == 200, path
    assert c.get("/admin/access/accesslogentry/").status_code == 200
    assert c.get("/admin/profiles/financialstatement/add/").status_code == 403


def test_profile_page_query_counts_do_not_grow_with_the_data(org_admin, member_of):
    """The overview and the finances tab read a fixed number of queries however many facts there are."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin, org = org_admin
    peer, _ = member_of("peer")
    services.disclosure_set(actor=admin, organization=org, data={"financials_visibility": "members"})
    c = login(peer)

    def counts() -> tuple[int, int]:
        out = []
        for path in (f"/organizations/{org.pk}/", f"/organizations/{org.pk}/tab/finances/"):
            c.get(path)  # warm
            with CaptureQueriesContext(connection) as queries:
                assert c.get(path).status_code == 200
            out.append(len(queries))
        return out[0], out[1]

    services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    few = counts()
    for year in (2019, 2020, 2021, 2022, 2023):
        services.fact_create(actor=admin, organization=org, kind="financials", data=statement(year))
    services.fact_create(actor=admin, organization=org, kind="capabilities", data={"term": "iso-9001"})
    assert counts() == few
    assert few[0] <= 26, few  # session, user, roles, memberships, org, disclosure, counts, headline, history, log…


def test_no_one_changes_another_members_facts_or_cases(org_admin, member_of):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2025))
    services.disclosure_set(actor=admin, organization=org, data={"financials_visibility": "members"})
    case = services.case_create(
        actor=admin, organization=org, data={"title": "联合研发", "kind": "joint_rnd", "started_on": "2024-01-01"}
    )
    peer, peer_org = member_of("peer")
    c = Client()
    # The peer may read the statement (members level) but not change, verify or delete it.
    assert c.get(f"/api/v1/financials/{fact.pk}", **bearer(peer)).status_code == 200
    problem(
        c.patch(f"/api/v1/financials/{fact.pk}", {"revenue": "1"}, content_type="application/json", **bearer(peer)), 403
    )
    problem(c.delete(f"/api/v1/financials/{fact.pk}", **bearer(peer)), 403)
    problem(
        c.post(
            f"/api/v1/financials/{fact.pk}/verify",
            {"source": "operator_verified"},
            content_type="application/json",
            **bearer(peer),
        ),
        403,
    )
    problem(
        c.put(
            f"/api/v1/organizations/{org.pk}/disclosure",
            {"financials_visibility": "public"},
            content_type="application/json",
            **bearer(peer),
        ),
        403,
    )
    # Nor touch the case: change it, add itself, or rate without taking part.
    problem(c.patch(f"/api/v1/cases/{case.pk}", {"title": "改"}, content_type="application/json", **bearer(peer)), 403)
    problem(
        c.post(
            f"/api/v1/cases/{case.pk}/participants",
            {"organization": peer_org.pk, "input_kind": "cash"},
            content_type="application/json",
            **bearer(peer),
        ),
        403,
    )
    problem(
        c.post(
            f"/api/v1/cases/{case.pk}/ratings",
            {"rated": org.pk, "score": 1},
            content_type="application/json",
            **bearer(peer),
        ),
        403,
    )
    fact.refresh_from_db()
    assert fact.revenue == 12000000 and fact.source == "self_declared"


def test_case_form_shows_field_errors_and_saves_nothing(org_admin):
    from agglo.profiles.models import Case

    admin, org = org_admin
    c = login(admin)
    bad = {"title": "联合研发", "kind": "joint_rnd", "started_on": "2025-03-01", "ended_on": "2024-01-01"}
    response = c.post(f"/organizations/{org.pk}/cases/new/", bad)
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert not Case.objects.exists()
    response = c.post(f"/organizations/{org.pk}/cases/new/", {**bad, "ended_on": ""})
    assert response.status_code == 302 and Case.objects.count() == 1


def test_case_page_names_an_unknown_partner_and_offers_each_rating_once(org_admin, member_of):
    admin, org = org_admin
    peer, peer_org = member_of("peer")
    case = services.case_create(
        actor=admin, organization=org, data={"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"}
    )
    c = login(admin)
    c.cookies["django_language"] = "en"
    url = f"/organizations/{org.pk}/cases/{case.pk}"
    r = c.post(f"{url}/participant/", {"organization": "91350200RU3766HE4X", "input_kind": "equipment"}, follow=True)
    page = r.content.decode()
    assert "No member organization has the credit code 91350200RU3766HE4X." in page
    assert "at least 1" not in page and case.participants.count() == 1  # the lead only
    assert 'value="91350200RU3766HE4X"' in page  # the form comes back as typed
    r = c.post(f"{url}/participant/", {"organization": peer_org.uscc.lower(), "input_kind": "equipment"}, follow=True)
    assert case.participants.filter(organization=peer_org).exists()
    services.participant_confirm(actor=peer, participant=case.participants.get(organization=peer_org))
    tab = f"/organizations/{org.pk}/tab/cases/"
    assert f'name="r{case.pk}-rated"' in c.get(tab).content.decode()
    c.post(f"{url}/rate/", {f"r{case.pk}-rated": peer_org.pk, f"r{case.pk}-score": "4"})
    assert case.ratings.count() == 1
    # rated: the form is gone, rather than offered again and refused
    assert f'name="r{case.pk}-rated"' not in c.get(tab).content.decode()


def test_a_whole_number_too_large_is_named_too_large_not_not_whole(org_admin, english):
    from agglo.common.errors import ValidationFailed

    admin, org = org_admin
    with pytest.raises(ValidationFailed) as exc:
        services.case_create(
            actor=admin,
            organization=org,
            data={"title": "案例", "kind": "alliance", "started_on": "2024-05-01", "outcome_patents": "99999999999999"},
        )
    assert exc.value.errors["outcome_patents"] == ["Must be at most 100000."]


def test_date_fields_hold_iso_dates_on_chinese_pages_so_an_unchanged_save_keeps_them(org_admin):
    admin, org = org_admin
    fact = services.fact_create(
        actor=admin,
        organization=org,
        kind="ip",
        data={
            "kind": "invention_patent",
            "number": "ZL201710601862.3",
            "title": "一种方法",
            "status": "pending",
            "filed_on": "2017-08-01",
        },
    )
    c = login(admin)  # Chinese, the default: its date format must not reach a date field
    page = c.get(f"/organizations/{org.pk}/facts/ip/{fact.pk}/").content.decode()
    assert 'type="date"' in page and 'value="2017-08-01"' in page


def test_the_history_names_a_facts_choices_not_their_codes(org_admin):
    admin, org = org_admin
    services.fact_create(
        actor=admin,
        organization=org,
        kind="ip",
        data={"kind": "software_copyright", "number": "2023SR0123456", "title": "设计软件V1.0", "status": "pending"},
    )
    c = login(admin)
    c.cookies["django_language"] = "en"
    row = c.get(f"/organizations/{org.pk}/tab/history/").content.decode().split('id="history"')[1]
    assert "software_copyright" not in row and ">pending<" not in row
    assert "Software copyright" in row


def test_the_history_names_other_organizations_in_one_query(org_admin, member_of, django_assert_max_num_queries):
    from agglo.profiles.selectors import history_list

    admin, org = org_admin
    peers = [member_of(f"named-peer-{i}")[1] for i in range(6)]
    case = services.case_create(
        actor=admin, organization=org, data={"title": "共建", "kind": "alliance", "started_on": "2024-05-01"}
    )
    for peer in peers:
        services.participant_add(
            actor=admin, case=case, data={"organization": peer.pk, "role": "partner", "input_kind": "equipment"}
        )
    with django_assert_max_num_queries(12):  # not one per organization named
        events = history_list(actor=admin, organization=org)
    named = {v for e in events for v in e.org_names.values()}
    assert {p.name for p in peers} <= named


def test_a_change_names_the_version_it_read_and_a_sync_reads_only_what_changed(org_admin, english):
    # review 56: an ERP and a person editing one statement overwrote each other unseen; no "changed since"
    admin, org = org_admin
    auth = bearer(admin)
    c = Client()
    first = c.post(
        f"/api/v1/organizations/{org.pk}/financials", statement(2024), content_type="application/json", **auth
    )
    second = c.post(
        f"/api/v1/organizations/{org.pk}/financials", statement(2025), content_type="application/json", **auth
    )
    fact_id = first.json()["id"]
    url = f"/api/v1/financials/{fact_id}"
    read = c.get(url, **auth)
    tag = read["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    changed = c.patch(url, {"net_profit": "1"}, content_type="application/json", HTTP_IF_MATCH=tag, **auth)
    assert changed.status_code == 200 and changed["ETag"] != tag
    # the same version again: someone changed it since, so the change is refused and nothing is written
    late = problem(c.patch(url, {"net_profit": "2"}, content_type="application/json", HTTP_IF_MATCH=tag, **auth), 412)
    assert late["type"] == "urn:agglo:problem:precondition_failed" and "请重新读取" in late["title"]
    assert FinancialStatement.objects.get(pk=fact_id).net_profit == 1
    problem(c.delete(url, HTTP_IF_MATCH=tag, **auth), 412)
    assert (
        c.patch(url, {"net_profit": "3"}, content_type="application/json", HTTP_IF_MATCH="*", **auth).status_code == 200
    )
    # a sync since a moment gets only what changed after it, oldest change first
    since = c.get(f"/api/v1/financials/{second.json()['id']}", **auth).json()["updated_at"]
    listed = c.get(f"/api/v1/organizations/{org.pk}/financials", {"updated_after": since}, **auth).json()
    ids = [f["id"] for f in listed]
    # timestamps are written to the millisecond: the record read last may come again, never one missed
    assert ids[-1] == fact_id and set(ids) <= {fact_id, second.json()["id"]}
    assert c.get(f"/api/v1/organizations/{org.pk}/financials", {"updated_after": "soon"}, **auth).status_code == 422
    assert c.delete(url, HTTP_IF_MATCH=c.get(url, **auth)["ETag"], **auth).status_code == 204
