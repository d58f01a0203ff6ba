"""An agency reads whether its policy's clauses hold for a member, and the member's figures only where the member
discloses their field group to it; every figure it does read is written to the member's access log (review 28)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agglo.access.models import AccessLogEntry
from agglo.policy.services import policy_create, policy_publish
from agglo.profiles import services as profiles
from agglo.profiles.services.disclosure import disclosure_set
from tests.profiles.conftest import statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def probe(member_of):
    """A firm with a 2025 statement, and an agency whose published policy the firm misses only on revenue."""
    firm_admin, firm = member_of("firm")
    profiles.fact_create(
        actor=firm_admin, organization=firm, kind="financials", data=statement(2025, revenue="98765432.17")
    )
    agency_admin, agency = member_of("agency", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01"}
    policy = policy_create(actor=agency_admin, issuer=agency, data={**data, "rule": "revenue >= 999999999999"})
    return firm_admin, firm, agency_admin, policy


@pytest.mark.parametrize("level", ["private", "partners"])  # partners: the default
def test_figures_kept_from_the_agency_are_withheld_on_page_and_api(client, probe, level):
    firm_admin, firm, agency_admin, policy = probe
    disclosure_set(actor=firm_admin, organization=firm, data={"financials_visibility": level})
    policy_publish(actor=agency_admin, policy=policy)
    client.force_login(agency_admin)
    (row,) = client.get(f"/api/v1/policies/{policy.pk}/matches").json()
    assert row["organization_id"] == firm.pk and row["missing"] == 1
    assert row["clauses"][0]["passed"] is False and row["clauses"][0]["yours"] is None
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert "98765432.17" not in page and "未向您公开" in page
    # no figure was shown; whether the clause holds was, on the API and the page: the member sees each reading,
    # since a threshold narrowed again and again would reveal the figure (policy review 58 H2)
    logged = sorted(AccessLogEntry.objects.filter(owner=firm).values_list("group", "channel"))
    assert logged == [("financials", "screened"), ("financials", "screened")]
    client.force_login(firm_admin)
    assert "政策条件筛查" in client.get(f"/organizations/{firm.pk}/tab/access/").content.decode()
    # the member itself still reads its own figure on the policy
    client.force_login(firm_admin)
    (own,) = client.get(f"/api/v1/policies/{policy.pk}/eligibility").json()
    assert "98,765,432.17" in own["clauses"][0]["yours"] or "98765432.17" in own["clauses"][0]["yours"]


def test_figures_disclosed_to_members_are_shown_and_logged_for_the_member(client, probe):
    firm_admin, firm, agency_admin, policy = probe
    disclosure_set(actor=firm_admin, organization=firm, data={"financials_visibility": "members"})
    policy_publish(actor=agency_admin, policy=policy)
    client.force_login(agency_admin)
    (row,) = client.get(f"/api/v1/policies/{policy.pk}/matches").json()
    assert "98765432.17" in row["clauses"][0]["yours"].replace(",", "")
    assert "98765432.17" in client.get(f"/policies/{policy.pk}/").content.decode().replace(",", "")
    logged = list(AccessLogEntry.objects.filter(owner=firm).values_list("group", "channel"))
    assert sorted(logged) == [("financials", "api"), ("financials", "page")]


def test_a_rule_on_public_facts_logs_nothing(client, probe):
    _, firm, agency_admin, policy = probe
    policy.rule = "founded_year >= 1900"
    policy.save()
    policy_publish(actor=agency_admin, policy=policy)
    client.force_login(agency_admin)
    assert client.get(f"/api/v1/policies/{policy.pk}/matches").json()
    assert not AccessLogEntry.objects.filter(owner=firm).exists()


def test_the_page_logs_the_figures_it_prints(client, member_of):
    """The page prints each clause of a member with the figure it discloses, also where it is eligible, so that an
    officer reads why it qualifies (policy review 58 M3; before, only beside a missed clause: review 30); what it
    prints goes to the member's access log, as the API's figures do."""
    firm_admin, firm = member_of("firm")
    profiles.fact_create(
        actor=firm_admin, organization=firm, kind="financials", data=statement(2025, revenue="98765432.17")
    )
    disclosure_set(actor=firm_admin, organization=firm, data={"financials_visibility": "members"})
    agency_admin, agency = member_of("agency", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}
    policy = policy_publish(actor=agency_admin, policy=policy_create(actor=agency_admin, issuer=agency, data=data))
    client.force_login(agency_admin)
    page = client.get(f"/policies/{policy.pk}/").content.decode()
    assert "98765432" in page.replace(",", "") and f'href="/organizations/{firm.pk}/"' in page
    assert list(AccessLogEntry.objects.filter(owner=firm).values_list("channel", flat=True)) == ["page"]
    client.get(f"/api/v1/policies/{policy.pk}/matches")
    assert sorted(AccessLogEntry.objects.filter(owner=firm).values_list("channel", flat=True)) == ["api", "page"]
    # the list as a file, for checking and announcing: every clause with the figure, logged as an export
    export = client.get(f"/policies/{policy.pk}/matches.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert "98765432.17" in export.content.decode("utf-8-sig").replace(",", "")
    assert "export" in set(AccessLogEntry.objects.filter(owner=firm).values_list("channel", flat=True))
    client.force_login(firm_admin)  # not the agency's: no list
    assert client.get(f"/policies/{policy.pk}/matches.csv").status_code == 403


def test_the_credit_grade_is_the_headline_the_agency_reads_anyway(client, member_of, operator):
    firm_admin, firm = member_of("firm")
    rating = {
        "grade": "AA",
        "rating_body": "platform",
        "method_version": "v1",
        "as_of": "2026-01-10",
        "valid_until": "2099-01-10",
    }
    profiles.fact_create(actor=operator, organization=firm, kind="ratings", data=rating)
    disclosure_set(actor=firm_admin, organization=firm, data={"credit_visibility": "private"})
    agency_admin, agency = member_of("agency", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "信用奖励", "starts_on": "2026-01-01", "rule": 'credit_grade in ["AAA"]'}
    policy = policy_publish(actor=agency_admin, policy=policy_create(actor=agency_admin, issuer=agency, data=data))
    client.force_login(agency_admin)
    assert client.get(f"/api/v1/organizations/{firm.pk}/profile").json()["credit"]["grade"] == "AA"
    (row,) = client.get(f"/api/v1/policies/{policy.pk}/matches").json()
    assert row["clauses"][0]["yours"] == "AA" and not AccessLogEntry.objects.filter(owner=firm).exists()


def test_a_page_of_matches_reads_disclosure_in_constant_queries(client, member_of):
    agency_admin, agency = member_of("agency", kind="government", name_zh="某市科技局")
    for n in range(12):
        firm_admin, firm = member_of(f"firm{n}")
        profiles.fact_create(actor=firm_admin, organization=firm, kind="financials", data=statement(2025))
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}
    policy = policy_publish(actor=agency_admin, policy=policy_create(actor=agency_admin, issuer=agency, data=data))
    client.force_login(agency_admin)
    url = f"/api/v1/policies/{policy.pk}/matches"

    def queries(query: str) -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url + query).status_code == 200
        return len(seen.captured_queries)

    assert queries("?limit=12") - queries("?limit=2") <= 1


def test_the_registry_headcount_is_shown_and_a_statements_is_withheld(client, member_of):
    """The registry's headcount is on the member's public profile; the latest statement's, which takes its place
    among the facts, is a financial figure the member may keep from the agency."""
    agency_admin, agency = member_of("agency", kind="government", name_zh="某市科技局")
    _, registered = member_of("registered", headcount=618253)
    stating_admin, stating = member_of("stating", headcount=618253)
    profiles.fact_create(
        actor=stating_admin, organization=stating, kind="financials", data=statement(2025, headcount=973541)
    )
    data = {"kind": "subsidy", "title_zh": "就业补贴", "starts_on": "2026-01-01", "rule": "headcount >= 4000000"}
    policy = policy_publish(actor=agency_admin, policy=policy_create(actor=agency_admin, issuer=agency, data=data))
    client.force_login(agency_admin)
    rows = {r["organization_id"]: r["clauses"][0] for r in client.get(f"/api/v1/policies/{policy.pk}/matches").json()}
    assert "618253" in rows[registered.pk]["yours"].replace(",", "") and rows[stating.pk]["yours"] is None
    page = client.get(f"/policies/{policy.pk}/").content.decode().replace(",", "")
    assert "618253" in page and "973541" not in page and "未向您公开" in page
    # no figure of either was read: of the one stating its own, whether the clause holds was (policy review 58 H2)
    assert not AccessLogEntry.objects.filter(owner=registered).exists()
    assert set(AccessLogEntry.objects.filter(owner=stating).values_list("channel", flat=True)) == {"screened"}
    # disclosed, the statement's figure is shown, and logged as the financial figure it is
    disclosure_set(actor=stating_admin, organization=stating, data={"financials_visibility": "members"})
    rows = {r["organization_id"]: r["clauses"][0] for r in client.get(f"/api/v1/policies/{policy.pk}/matches").json()}
    assert "973541" in rows[stating.pk]["yours"].replace(",", "")
    shown = AccessLogEntry.objects.exclude(channel="screened")
    assert list(shown.values_list("owner_id", "group")) == [(stating.pk, "financials")]
