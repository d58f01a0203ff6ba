"""A page's edit form carries the version of the record it was drawn with: a save after someone else changed the
record (another page, the API) is refused with the entries kept, and saving again, knowingly, goes through."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from agglo.market.models import Listing
from agglo.market.services import listing_create, listing_update
from agglo.policy.models import Policy
from agglo.policy.services import policy_create, policy_update
from agglo.profiles.models import Case, FinancialStatement
from agglo.profiles.services import case_create, case_update, fact_create, fact_update
from agglo.registry.models import Organization
from agglo.registry.services import organization_update
from tests.profiles.conftest import statement

pytestmark = pytest.mark.django_db


class _Form(HTMLParser):
    """The fields of the page's first form with the class "form" (or the form with the id `form_id`), as a browser
    would send them unchanged."""

    def __init__(self, form_id: str | None = None) -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: dict[str, Any] = {}
        self.state = "before"  # before, in, after
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        chosen = a.get("id") == self.form_id if self.form_id else "form" in a.get("class", "").split()
        if tag == "form" and self.state == "before" and chosen:
            self.state = "in"
        if self.state != "in" or not a.get("name") and tag != "option":
            return
        if tag == "input" and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.setdefault(a["name"], []).append(a.get("value", "on"))
            else:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self.select = a["name"]
            self.fields.setdefault(a["name"], [])
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select].append(a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:  # a browser drops the line break that opens a text area's content
            text = self.fields[self.textarea] + data
            self.fields[self.textarea] = text.removeprefix("\n") if not self.fields[self.textarea] else text

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.state == "in":
            self.state = "after"


def drawn(page: Any, form_id: str | None = None) -> dict[str, Any]:
    parser = _Form(form_id)
    parser.feed(page.content.decode())
    return {k: v for k, v in parser.fields.items() if v != []}


def _stale_save_is_refused_then_goes_through(
    client: Client, url: str, field: str, mine: str, theirs: Callable[[], None], now: Callable[[], Any]
) -> None:
    form = drawn(client.get(url))
    assert form["version"].startswith('"')
    theirs()  # someone else changes the record after the form was drawn
    kept = now()
    refused = client.post(url, {**form, field: mine})
    assert refused.status_code in (400, 422), refused.status_code
    assert "在您打开此表单之后，有人修改了这条记录" in refused.content.decode()
    assert now() == kept  # nothing written
    again = drawn(refused)
    assert again[field] == mine  # the entries are kept
    assert again["version"] != form["version"]  # drawn with the version now
    saved = client.post(url, again)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert now() == mine


def test_an_organizations_profile_page(org_admin, client):
    admin, org = org_admin
    client.force_login(admin)
    _stale_save_is_refused_then_goes_through(
        client,
        reverse("registry:organization_edit", args=[org.pk]),
        "org-website",
        "https://mine.example.cn",
        lambda: organization_update(
            actor=admin, organization=Organization.objects.get(pk=org.pk), data={"website": "https://theirs.cn"}
        ),
        lambda: Organization.objects.get(pk=org.pk).website,
    )


def test_a_listings_page(org_admin, client):
    admin, org = org_admin
    listing = listing_create(
        actor=admin, organization=org, data={"side": "need", "kind": "capacity", "title_zh": "寻找 SMT 贴片产能"}
    )
    client.force_login(admin)
    _stale_save_is_refused_then_goes_through(
        client,
        reverse("market:edit", args=[listing.pk]),
        "title_zh",
        "寻找 SMT 产能（我的）",
        lambda: listing_update(
            actor=admin, listing=Listing.objects.get(pk=listing.pk), data={"title_zh": "寻找 SMT 产能（他人的）"}
        ),
        lambda: Listing.objects.get(pk=listing.pk).title_zh,
    )


def test_a_statements_page(org_admin, client):
    admin, org = org_admin
    fact = fact_create(actor=admin, organization=org, kind="financials", data=statement(2024))
    client.force_login(admin)
    _stale_save_is_refused_then_goes_through(
        client,
        reverse("profiles:fact_edit", args=[org.pk, "financials", fact.pk]),
        "net_profit",
        "1234.00",
        lambda: fact_update(actor=admin, fact=FinancialStatement.objects.get(pk=fact.pk), data={"net_profit": "999"}),
        lambda: str(FinancialStatement.objects.get(pk=fact.pk).net_profit),
    )


def test_a_case_records_page(org_admin, client):
    admin, org = org_admin
    case = case_create(
        actor=admin, organization=org, data={"title": "共建联合实验室", "kind": "alliance", "started_on": "2024-05-01"}
    )
    client.force_login(admin)
    _stale_save_is_refused_then_goes_through(
        client,
        reverse("profiles:case_edit", args=[org.pk, case.pk]),
        "title",
        "共建联合实验室（我的）",
        lambda: case_update(actor=admin, case=Case.objects.get(pk=case.pk), data={"title": "共建联合实验室（他人的）"}),
        lambda: Case.objects.get(pk=case.pk).title,
    )


def test_a_policys_page(member_of, client):
    admin, agency = member_of("agency-admin", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}
    policy = policy_create(actor=admin, issuer=agency, data=data)
    client.force_login(admin)
    _stale_save_is_refused_then_goes_through(
        client,
        reverse("policy:edit", args=[policy.pk]),
        "title_zh",
        "研发补贴（我的）",
        lambda: policy_update(
            actor=admin, policy=Policy.objects.get(pk=policy.pk), data={"title_zh": "研发补贴（他人的）"}
        ),
        lambda: Policy.objects.get(pk=policy.pk).title_zh,
    )


def test_a_bad_field_keeps_the_version_the_form_was_drawn_with(org_admin, client):
    # a refusal for a bad field must not move the form to the version now: a change made meanwhile stays unseen
    admin, org = org_admin
    client.force_login(admin)
    url = reverse("registry:organization_edit", args=[org.pk])
    form = drawn(client.get(url))
    bad = client.post(url, {**form, "org-founded_year": "1066"})
    assert bad.status_code == 400 and drawn(bad)["version"] == form["version"]


def test_a_form_without_a_version_is_saved_as_before(org_admin, client):
    admin, org = org_admin
    client.force_login(admin)
    url = reverse("registry:organization_edit", args=[org.pk])
    form = {k: v for k, v in drawn(client.get(url)).items() if k != "version"}
    organization_update(actor=admin, organization=org, data={"website": "https://theirs.cn"})
    assert client.post(url, {**form, "org-website": "https://mine.cn"}).status_code == 302
    assert Organization.objects.get(pk=org.pk).website == "https://mine.cn"


def test_saving_again_keeps_the_other_persons_change_to_a_field_left_alone(org_admin, client):
    # review 92: the refusal drew the sender's copy of every field, and saving again put the old website back
    admin, org = org_admin
    client.force_login(admin)
    url = reverse("registry:organization_edit", args=[org.pk])
    form = drawn(client.get(url))
    organization_update(
        actor=admin, organization=Organization.objects.get(pk=org.pk), data={"website": "https://theirs.example.cn"}
    )
    refused = client.post(url, {**form, "org-description": "我们的新简介"})
    assert refused.status_code == 400
    again = drawn(refused)
    assert again["org-website"] == "https://theirs.example.cn" and again["org-description"] == "我们的新简介"
    assert client.post(url, again).status_code == 302
    org.refresh_from_db()
    assert (org.description, org.website) == ("我们的新简介", "https://theirs.example.cn")


def test_a_field_both_changed_keeps_the_senders_entry_and_says_what_it_is_now(org_admin, client):
    admin, org = org_admin
    listing = listing_create(
        actor=admin,
        organization=org,
        data={"side": "need", "kind": "capacity", "title_zh": "寻找 SMT 贴片产能", "description_zh": "原描述"},
    )
    client.force_login(admin)
    url = reverse("market:edit", args=[listing.pk])
    form = drawn(client.get(url))
    listing_update(
        actor=admin,
        listing=Listing.objects.get(pk=listing.pk),
        data={"description_zh": "他人改的描述", "title_zh": "他人改的标题"},
    )
    refused = client.post(url, {**form, "title_zh": "我改的标题"})
    page = refused.content.decode()
    assert "在此期间已被改为“他人改的标题”" in page  # the title both changed: named, with its value now
    again = drawn(refused)
    assert (again["title_zh"], again["description_zh"]) == ("我改的标题", "他人改的描述")
    assert client.post(url, again).status_code == 302
    listing.refresh_from_db()
    assert (listing.title_zh, listing.description_zh) == ("我改的标题", "他人改的描述")


def test_a_policy_form_merges_as_well(member_of, client):
    admin, agency = member_of("agency-admin", kind="government", name_zh="某市科技局")
    data = {"kind": "subsidy", "title_zh": "研发补贴", "starts_on": "2026-01-01", "rule": "revenue >= 1"}
    policy = policy_create(actor=admin, issuer=agency, data=data)
    client.force_login(admin)
    url = reverse("policy:edit", args=[policy.pk])
    form = drawn(client.get(url))
    policy_update(actor=admin, policy=Policy.objects.get(pk=policy.pk), data={"summary_zh": "他人补充的说明"})
    refused = client.post(url, {**form, "title_zh": "研发补贴（我的）"})
    assert refused.status_code == 422
    again = drawn(refused)
    assert (again["title_zh"], again["summary_zh"]) == ("研发补贴（我的）", "他人补充的说明")
    assert client.post(url, again).status_code == 302
    policy.refresh_from_db()
    assert (policy.title_zh, policy.summary_zh) == ("研发补贴（我的）", "他人补充的说明")
