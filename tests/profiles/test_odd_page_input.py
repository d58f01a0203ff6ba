"""The fact and case pages on odd input: no 500 anywhere; a file removed meanwhile is said where files are listed."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from agglo.market import services as market
from agglo.profiles import services
from agglo.profiles.services import cases
from tests.conftest import upload
from tests.profiles.conftest import statement

pytestmark = [pytest.mark.long, pytest.mark.django_db]

ODD = ["", " ", "abc", "-1", "1e400", "NaN", "99999999999999999999999", "２０２４", "①", "²", "2024-02-30", "x" * 5000]


def _client(u):
    c = Client()
    c.raise_request_exception = False
    c.force_login(u)
    return c


def test_fact_forms_and_case_actions_on_odd_input(org_admin, member_of, operator):
    admin, org = org_admin
    partner_admin, partner = member_of("r24p-partner")
    c = _client(admin)
    bad = []
    fields = {
        "financials": ["year", "revenue", "total_assets", "as_of", "valid_until", "headcount", "rd_headcount"],
        "ratings": ["grade", "score", "rating_body", "agency_name", "as_of", "valid_until"],
        "ip": ["kind", "number", "status", "filed_on", "granted_on", "expires_on"],
        "capabilities": ["term", "as_of", "valid_until"],
    }
    for kind, names in fields.items():
        for value, name in itertools.product(ODD, names):
            r = c.post(
                f"/organizations/{org.pk}/facts/{kind}/new/", {n: value for n in names if n != name} | {name: value}
            )
            if r.status_code >= 500:
                bad.append((kind, name, value[:20], r.status_code))
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    for value in ODD:
        r = c.post(
            f"/organizations/{org.pk}/facts/financials/{fact.pk}/", statement(2024) | {"year": value, "as_of": value}
        )
        if r.status_code >= 500:
            bad.append(("edit", value[:20], r.status_code))
    (ev,) = services.evidence_add(actor=admin, statement=fact, files=[upload("a.pdf")])
    for _ in range(2):
        if c.post(f"/organizations/{org.pk}/evidence/{ev.pk}/remove/").status_code >= 500:
            bad.append("evidence_remove")
    case = cases.case_create(
        actor=admin, organization=org, data={"title": "案例", "kind": "joint_rnd", "started_on": "2025-01-01"}
    )
    for value in ODD + [str(partner.pk), partner.uscc, "0"]:
        for action, data in (
            ("participant", {"organization": value, "input_kind": "cash", "input_amount": value, "input_note": value}),
            ("confirm", {"participant": value}),
            ("rate", {f"r{case.pk}-rated": value, f"r{case.pk}-score": value}),
        ):
            r = c.post(f"/organizations/{org.pk}/cases/{case.pk}/{action}/", data)
            if r.status_code >= 500:
                bad.append((action, value[:20], r.status_code))
    # the partner's own tab, and its confirmation from there
    pc = _client(partner_admin)
    tab = pc.get(f"/organizations/{partner.pk}/tab/cases/")
    p = case.participants.get(organization=partner)
    r = pc.post(f"/organizations/{partner.pk}/cases/{case.pk}/confirm/", {"participant": p.pk})
    if tab.status_code != 200 or r.status_code != 302:
        bad.append(("partner tab/confirm", tab.status_code, r.status_code))
    for who in (admin, partner_admin, operator):
        for url in (
            f"/organizations/{org.pk}/tab/cases/",
            "/ledger/mine/",
            f"/organizations/{org.pk}/tab/access/",
            f"/api/v1/organizations/{org.pk}/cases",
            f"/api/v1/cases/{case.pk}",
        ):
            r = _client(who).get(url)
            if r.status_code >= 500:
                bad.append((url, who.username, r.status_code))
    # exports, own and all, page and API
    for url in (
        "/profiles/export/financials.csv?own=1",
        "/profiles/export/organizations.json?own=1",
        "/api/v1/exports/ip?own=true",
        "/api/v1/exports/ip?own=maybe",
        "/api/v1/exports/organizations?own=1",
    ):
        for who in (admin, operator):
            r = _client(who).get(url)
            if r.status_code >= 500:
                bad.append((url, who.username, r.status_code))
    # organization edit: numbers are text in the form now
    for value in ODD:
        r = c.post(
            f"/organizations/{org.pk}/edit/",
            {"org-name_zh": org.name_zh, "org-founded_year": value, "org-headcount": value},
        )
        if r.status_code >= 500:
            bad.append(("org edit", value[:20], r.status_code))
    # market: close with open answers, then the responder's view
    listing = market.listing_create(
        actor=admin,
        organization=org,
        data={"side": "need", "kind": "equipment", "title_zh": "求购", "description_zh": "说明", "anonymous": True},
    )
    market.listing_submit(actor=admin, listing=listing)
    market.interest_express(actor=partner_admin, listing=listing, data={"cooperation": "service", "message": "有"})
    r = c.post(f"/market/{listing.pk}/close/", {"outcome": "withdrawn"})
    listing.refresh_from_db()
    assert listing.status == "closed", r.status_code
    for url in (
        f"/market/{listing.pk}/",
        "/market/mine/",
        "/market/",
        f"/api/v1/listings/{listing.pk}",
        "/api/v1/interests",
    ):
        r = pc.get(url)
        if r.status_code >= 400:
            bad.append((url, r.status_code))
    assert bad == []


def test_a_file_removed_from_a_stale_tab_is_said_where_the_files_are_listed(org_admin):
    admin, org = org_admin
    fact = services.fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    (ev,) = services.evidence_add(actor=admin, statement=fact, files=[upload("a.pdf")])
    c = _client(admin)
    first = c.post(f"/organizations/{org.pk}/evidence/{ev.pk}/remove/")
    second = c.post(f"/organizations/{org.pk}/evidence/{ev.pk}/remove/")  # a stale tab: after the first committed
    assert (first.status_code, second.status_code) == (302, 302)
