"""Versions on the records an API client and a person both edit: organizations, listings, policies and case
records answer with an `ETag`, and a change naming a version someone has changed since is refused (412) with
nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from agglo.access.models import Membership
from agglo.market.models import Listing
from agglo.market.services import listing_create, listing_submit
from agglo.policy.models import Policy
from agglo.policy.services import policy_create, policy_publish
from agglo.profiles.models import Case
from agglo.profiles.services import case_create, case_update
from agglo.registry.models import Organization
from tests.conftest import user
from tests.registry.test_api import bearer, problem

pytestmark = pytest.mark.django_db


def _versions_hold(c: Client, url: str, field: str, values: tuple, auth: dict) -> None:
    """Read, change with the version read, change again with that stale version (412), then with `*`."""
    first, second, third = values
    read = c.get(url, **auth)
    assert read.status_code == 200, read.content
    tag = read["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    changed = c.patch(url, {field: first}, content_type="application/json", HTTP_IF_MATCH=tag, **auth)
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] != tag and changed.json()[field] == first
    assert c.get(url, **auth)["ETag"] == changed["ETag"]  # what a change answers is what a read gives
    late = problem(c.patch(url, {field: second}, content_type="application/json", HTTP_IF_MATCH=tag, **auth), 412)
    assert late["type"] == "urn:agglo:problem:precondition_failed"
    assert c.get(url, **auth).json()[field] == first  # nothing written
    # a list of versions may name the current one; `*` names any
    both = f'"0.0", {changed["ETag"]}'
    assert c.patch(url, {field: second}, content_type="application/json", HTTP_IF_MATCH=both, **auth).status_code == 200
    assert c.patch(url, {field: third}, content_type="application/json", HTTP_IF_MATCH="*", **auth).status_code == 200
    assert c.get(url, **auth).json()[field] == third


def test_an_organization_changed_since_it_was_read_is_not_changed(org_admin):
    admin, org = org_admin
    _versions_hold(Client(), f"/api/v1/organizations/{org.pk}", "website", _sites(), bearer(admin))
    org.refresh_from_db()
    assert org.website == "https://c.example.cn"


def _sites() -> tuple[str, str, str]:
    return ("https://a.example.cn", "https://b.example.cn", "https://c.example.cn")


def test_a_stale_version_from_someone_who_may_not_edit_is_refused_as_forbidden(org_admin, member_of):
    admin, org = org_admin
    other, _ = member_of("other")
    c = Client()
    tag = c.get(f"/api/v1/organizations/{org.pk}", **bearer(other))["ETag"]
    c.patch(
        f"/api/v1/organizations/{org.pk}", {"website": _sites()[0]}, content_type="application/json", **bearer(admin)
    )
    late = c.patch(
        f"/api/v1/organizations/{org.pk}",
        {"website": _sites()[1]},
        content_type="application/json",
        HTTP_IF_MATCH=tag,
        **bearer(other),
    )
    problem(late, 403)  # not a version answer: it may not change it at all
    assert Organization.objects.get(pk=org.pk).website == _sites()[0]


def test_a_listing_reviewed_or_changed_since_it_was_read_is_not_changed(org_admin):
    admin, org = org_admin
    listing = listing_create(
        actor=admin, organization=org, data={"side": "need", "kind": "capacity", "title_zh": "寻找 SMT 贴片产能"}
    )
    auth = bearer(admin)
    c = Client()
    url = f"/api/v1/listings/{listing.pk}"
    _versions_hold(c, url, "title_zh", ("寻找 SMT 产能（一）", "寻找 SMT 产能（二）", "寻找 SMT 产能（三）"), auth)
    # publishing changes the version too: a copy read before it is stale
    tag = c.get(url, **auth)["ETag"]
    listing_submit(actor=admin, listing=Listing.objects.get(pk=listing.pk))
    problem(c.patch(url, {"title_zh": "改"}, content_type="application/json", HTTP_IF_MATCH=tag, **auth), 412)
    assert Listing.objects.get(pk=listing.pk).title_zh == "寻找 SMT 产能（三）"


def test_a_policy_changed_or_published_since_it_was_read_is_not_changed(member_of):
    admin, agency = member_of("agency-admin", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}
    policy = policy_create(actor=admin, issuer=agency, data=data)
    auth = bearer(admin)
    c = Client()
    url = f"/api/v1/policies/{policy.pk}"
    _versions_hold(c, url, "title_zh", ("研发补贴（一）", "研发补贴（二）", "研发补贴（三）"), auth)
    tag = c.get(url, **auth)["ETag"]
    policy_publish(actor=admin, policy=Policy.objects.get(pk=policy.pk))
    problem(c.patch(url, {"title_zh": "改"}, content_type="application/json", HTTP_IF_MATCH=tag, **auth), 412)
    assert Policy.objects.get(pk=policy.pk).title_zh == "研发补贴（三）"


def test_a_case_record_changed_since_it_was_read_is_not_changed(org_admin):
    admin, org = org_admin
    case = case_create(
        actor=admin, organization=org, data={"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"}
    )
    _versions_hold(
        Client(),
        f"/api/v1/cases/{case.pk}",
        "title",
        ("共建联合实验室（一期）", "共建联合实验室（二期）", "共建联合实验室（三期）"),
        bearer(admin),
    )
    assert Case.objects.get(pk=case.pk).title == "共建联合实验室（三期）"


def test_two_people_changing_one_case_each_keep_the_others_field(org_admin):
    # the case is read again under its lock: a change from a copy read before another's keeps that other's field
    admin, org = org_admin
    second = user("second-admin")
    Membership.objects.create(user=second, organization=org, role="admin")
    case = case_create(
        actor=admin, organization=org, data={"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"}
    )
    stale = Case.objects.get(pk=case.pk)
    case_update(actor=admin, case=Case.objects.get(pk=case.pk), data={"title": "共建联合实验室（一期）"})
    case_update(actor=second, case=stale, data={"outcome_patents": 2})
    kept = Case.objects.get(pk=case.pk)
    assert kept.title == "共建联合实验室（一期）" and kept.outcome_patents == 2


def test_a_policy_saved_unchanged_keeps_its_version(member_of):
    """Saving a policy unchanged writes nothing: its version stays, so another editor's open form or If-Match is
    not refused as stale (review 92), and nothing is matched again."""
    from agglo.common.versions import version_tag
    from agglo.policy.models import Policy
    from agglo.policy.services import policy_create, policy_update

    admin, agency = member_of("agency-admin", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}
    policy = policy_create(actor=admin, issuer=agency, data=data)
    before = version_tag(Policy.objects.get(pk=policy.pk))
    policy_update(actor=admin, policy=Policy.objects.get(pk=policy.pk), data={"title_zh": "研发补贴"}, if_match=before)
    assert version_tag(Policy.objects.get(pk=policy.pk)) == before
