"""Review 96: data visibility and permissions of what changed lately (virtual factory plan files, capabilities,
drawings and the terms form; application materials and grant payments; loan terms in the market and matching).

The tests named `test_leak_…` fail on the code as reviewed: each shows one leak (see /tmp/review96.md). The others
pin down the actor × endpoint checks that were found sound, so that they stay so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from agglo.access.models import Membership, PlatformRole
from agglo.common.models import Notification
from agglo.factory.models import Capability, Order
from agglo.factory.services.documents import order_documents_add
from agglo.factory.services.jobs import allocation_respond
from agglo.factory.services.orders import order_create, order_plan
from agglo.ledger.entries import decode
from agglo.ledger.models import LogEntry
from agglo.policy.applications import application_decide, application_submit, policy_grant_eligible
from agglo.policy.models import Application
from agglo.policy.payments import grant_payment_record
from agglo.policy.services import policy_create, policy_publish
from agglo.registry.models import Organization
from tests.conftest import make_uscc, upload, user
from tests.factory.conftest import cluster, order_data, signed_in  # noqa: F401 (cluster is a fixture)
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 (agency is a fixture)
from tests.registry.test_api import bearer

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------------------------
# Policy: a grant reckoned by formula announces the member's withheld figure
# ---------------------------------------------------------------------------------------------------------------


def _formula_grant(agency: Any, member_of: Any, **over: Any) -> tuple[Any, Any, Application]:  # noqa: F811
    """A 免申即享 benefit paying 0.125 % of revenue, uncapped, granted to a firm whose financials are kept at the
    default level (partners): revenue 12,000,000, so the grant is 15,000."""
    admin, org = agency
    firm_admin, firm_org = firm(member_of, "formula-firm", rd=1_200_000, invention=True)
    data = policy_data(
        title_zh="营收奖励（免申即享）",
        auto_grant=True,
        rule="rd_intensity >= 5%",
        budget=None,
        grant_basis="revenue",
        grant_rate="0.125",
    )
    data.update(over)
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    assert policy_grant_eligible(actor=admin, policy=policy) == 1
    granted = Application.objects.select_related("policy").get(policy=policy, organization=firm_org)
    if not over:
        assert granted.amount == Decimal("15000.00")  # 0.125 % of 12,000,000
    return firm_admin, firm_org, granted


def test_the_firms_revenue_is_withheld_from_the_public_as_its_disclosure_says(agency, member_of):  # noqa: F811
    """The premise of the two leaks below: the profile keeps the revenue from anonymous visitors and other members."""
    _firm_admin, firm_org, _granted = _formula_grant(agency, member_of)
    anonymous = Client().get(f"/api/v1/organizations/{firm_org.pk}/financials")
    assert "12000000" not in anonymous.content.decode()
    stranger, _org = member_of("review96-stranger")
    other = Client().get(f"/api/v1/organizations/{firm_org.pk}/financials", **bearer(stranger))
    assert "12000000" not in other.content.decode()


def test_leak_the_public_list_of_grants_gives_away_a_withheld_figure(agency, member_of):  # noqa: F811
    """Anyone may read the policy page: it states the formula ("0.125 % of revenue") and, in the public list of
    grants, the exact sum the formula gave the firm. 15,000 / 0.125 % = 12,000,000: the revenue the firm keeps
    from everyone but its partners (the R&D expenses with an `rd_expense` formula, the assets with
    `total_assets`, the stated headcount with `headcount`)."""
    _firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    page = Client().get(f"/policies/{granted.policy_id}/").content.decode()
    assert "0.125" in page.split('id="grant-formula"')[1].split("</span>")[0]  # the formula, stated to anyone
    grants = page.split('id="grants"')[1].split("</table>")[0]
    assert firm_org.name_zh in grants  # the grant is announced (公示) ...
    assert "15,000" not in grants, "the exact formula amount reveals the withheld revenue"  # ... not the figure


def test_leak_the_public_log_carries_a_formula_grant_in_the_clear(agency, member_of):  # noqa: F811
    """The transparency log is public (`GET /api/v1/ledger/entries/{index}`, no login) and kept for good: the
    `policy.granted` entry names the member and the amount in the clear, and the policy names the formula, so the
    withheld revenue can be read off the log by anyone, forever."""
    _firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    entry = next(
        decode(bytes(e.data))
        for e in LogEntry.objects.filter(type="policy.granted")
        if decode(bytes(e.data))["payload"]["organization"] == firm_org.pk
    )
    assert entry["payload"]["amount"] != "15000.00", "the log announces the formula's sum, hence the revenue"


def test_leak_an_agency_reads_a_withheld_figure_through_a_formula_decision_unlogged(agency, member_of):  # noqa: F811
    """The agency may not read a firm's revenue (financials at `partners`): the matches list withholds it and logs
    even each clause outcome it reads (`screened`). A decision that names no amount takes the formula's and the
    agency reads it back — the revenue times the rate — and the firm's access log says nothing of it."""
    from agglo.access.models import AccessLogEntry

    admin, org = agency
    firm_admin, firm_org = firm(member_of, "applying-firm", rd=1_200_000, invention=True)
    data = policy_data(budget=None, grant_basis="revenue", grant_rate="0.125")
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    application = application_submit(actor=firm_admin, policy=policy, organization_id=firm_org.pk)
    kept = Client().get(f"/api/v1/organizations/{firm_org.pk}/financials", **bearer(admin)).content.decode()
    assert "12000000" not in kept  # the agency may not read the revenue
    before = AccessLogEntry.objects.filter(owner_id=firm_org.pk).count()
    decided = application_decide(actor=admin, application=application, grant=True)
    assert decided.amount == Decimal("15000.00")  # the agency now knows the revenue: 12,000,000
    assert AccessLogEntry.objects.filter(owner_id=firm_org.pk).count() > before, "no trace in the firm's access log"


def test_application_materials_and_payments_by_actor(agency, member_of, operator):  # noqa: F811
    """Found sound: who reads and adds an application's materials, and who records its payments."""
    admin, agency_org = agency
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=agency_org, data=policy_data()))
    applicant_admin, applicant = firm(member_of, "applicant-firm", rd=1_200_000, invention=True)
    plain = user("applicant-plain")
    Membership.objects.create(user=plain, organization=applicant, role=Membership.Role.MEMBER)
    agency_plain = user("agency-plain")
    Membership.objects.create(user=agency_plain, organization=agency_org, role=Membership.Role.MEMBER)
    other_agency_admin, _other_agency = member_of("agency-two", kind="government", name_zh="苏州市科技局")
    other_firm_admin, _other_firm = firm(member_of, "other-firm", rd=1_200_000, invention=True)
    auditor = user("review96-auditor", role=PlatformRole.Role.AUDITOR)
    officer = user("review96-officer", role=PlatformRole.Role.GOVERNMENT)
    application = application_submit(
        actor=applicant_admin, policy=policy, organization_id=applicant.pk, files=[upload("申报书.pdf")]
    )
    doc = application.documents.get()
    readers = {"applicant admin": applicant_admin, "applicant plain": plain, "agency admin": admin, "op": operator}
    strangers = {
        "agency plain": agency_plain,
        "other agency": other_agency_admin,
        "other firm": other_firm_admin,
        "auditor": auditor,
        "officer": officer,
    }
    for name, who in readers.items():
        assert Client().get(f"/api/v1/application-documents/{doc.pk}", **bearer(who)).status_code == 200, name
        assert signed_in(who).get(f"/applications/documents/{doc.pk}/").status_code == 200, name
    for name, who in strangers.items():
        assert Client().get(f"/api/v1/application-documents/{doc.pk}", **bearer(who)).status_code == 404, name
        assert signed_in(who).get(f"/applications/documents/{doc.pk}/").status_code == 404, name
        listed = Client().get(f"/api/v1/policies/{policy.pk}/applications", **bearer(who)).json()
        assert listed == [], name
    assert Client().get(f"/api/v1/application-documents/{doc.pk}").status_code == 404
    assert Client().get(f"/applications/documents/{doc.pk}/").status_code == 302  # to the login page
    # only the applicant's admins add materials
    for who, status in ((plain, 403), (admin, 403), (operator, 403), (other_firm_admin, 404), (auditor, 404)):
        sent = Client().post(
            f"/api/v1/applications/{application.pk}/documents", {"files": [upload("x.pdf")]}, **bearer(who)
        )
        assert sent.status_code == status, (who.username, sent.content)
    assert application.documents.count() == 1
    # payments: only the issuing agency (and operators) record them
    application_decide(actor=admin, application=application, grant=True, amount="200000")
    body = {"amount": "1000", "paid_on": dt.date.today().isoformat(), "reference": "GK-1"}
    for who, status in (
        (applicant_admin, 403),
        (plain, 403),
        (agency_plain, 404),
        (other_agency_admin, 404),
        (other_firm_admin, 404),
        (auditor, 404),
        (officer, 404),
    ):
        sent = Client().post(
            f"/api/v1/applications/{application.pk}/payments", body, content_type="application/json", **bearer(who)
        )
        assert sent.status_code == status, (who.username, sent.content)
        assert signed_in(who).post(f"/applications/{application.pk}/pay/", body).status_code in (302, 404)
    assert Client().post(f"/api/v1/applications/{application.pk}/payments", body, content_type="application/json")
    assert not application.payments.exists()
    grant_payment_record(actor=admin, application=application, amount="1000", paid_on=dt.date.today(), reference="GK-1")
    public = Client().get(f"/policies/{policy.pk}/").content.decode()
    assert "GK-1" not in public  # the transfer number stays between the agency and the member
    assert "GK-1" not in signed_in(other_firm_admin).get(f"/policies/{policy.pk}/").content.decode()


# ---------------------------------------------------------------------------------------------------------------
# Virtual factory
# ---------------------------------------------------------------------------------------------------------------


def _planned_with_drawing(cluster: dict[str, Any]) -> tuple[Order, Any]:  # noqa: F811
    buyer = cluster["people"]["buyer"]
    order = order_plan(actor=buyer, order=order_create(actor=buyer, data=order_data()))
    assert order.status == Order.Status.PLANNED, order.diagnosis
    doc = order_documents_add(actor=buyer, order=order, files=[upload("外壳-rev3.pdf")])[0]
    return order, doc


def _owner(cluster: dict[str, Any], org_id: int) -> Any:  # noqa: F811
    return next(cluster["people"][n] for n, o in cluster["orgs"].items() if o.pk == org_id)


def test_leak_a_suspended_factory_is_told_the_names_of_drawings_it_may_not_read(cluster):  # noqa: F811
    """Drawings are for factories in good standing (`reads_drawings`): a suspended one gets 404 for them. But when
    the buyer attaches new ones, every factory with open work is told their file names, suspended or not."""
    buyer = cluster["people"]["buyer"]
    order, _doc = _planned_with_drawing(cluster)
    factory_id = order.allocations.filter(status="offered").values_list("factory_id", flat=True).first()
    factory = _owner(cluster, factory_id)
    Organization.objects.filter(pk=factory_id).update(status="suspended")
    new = order_documents_add(actor=buyer, order=order, files=[upload("机密-rev4.pdf")])[0]
    assert signed_in(factory).get(f"/factory/documents/{new.pk}/").status_code == 404  # may not read it
    told = Notification.objects.filter(user=factory, verb="factory.order_documents")
    assert not any("机密-rev4.pdf" in n.text for n in told), "its name is sent to a factory that may not read it"


def test_plan_file_drawings_and_order_by_actor(cluster, make_org):  # noqa: F811
    """Found sound: the plan file (page and API), the drawings (page, API, list) and the order for each actor."""
    people, orgs = cluster["people"], cluster["orgs"]
    order, doc = _planned_with_drawing(cluster)
    involved = set(order.allocations.filter(status="offered").values_list("factory_id", flat=True))
    plain = user("buyer-plain")
    Membership.objects.create(user=plain, organization=orgs["buyer"], role=Membership.Role.MEMBER)
    outsider = user("outsider-admin")
    Membership.objects.create(
        user=outsider, organization=make_org(region="330100", uscc=make_uscc("330100", "MA7B0096E"))
    )
    auditor = user("review96-auditor", role=PlatformRole.Role.AUDITOR)
    officer = user("review96-officer", role=PlatformRole.Role.GOVERNMENT)
    whole = {"buyer admin": people["buyer"], "buyer plain": plain, "operator": cluster["operator"]}
    for name, who in {**whole, "auditor": auditor}.items():
        rows = signed_in(who).get(f"/factory/orders/{order.pk}/plan.csv").content.decode().splitlines()[1:]
        api = Client().get(f"/api/v1/factory/orders/{order.pk}/plan/file?format=csv", **bearer(who))
        assert len(rows) == order.allocations.filter(status="offered").count() == len(api.content.splitlines()) - 1
        reads = name != "auditor"  # auditors read the records, not the buyer's designs
        assert signed_in(who).get(f"/factory/documents/{doc.pk}/").status_code == (200 if reads else 404), name
        assert Client().get(f"/api/v1/factory/documents/{doc.pk}", **bearer(who)).status_code == (
            200 if reads else 404
        ), name
    for name, org in orgs.items():
        if name == "buyer":
            continue
        who = people[name]
        if org.pk in involved:
            rows = signed_in(who).get(f"/factory/orders/{order.pk}/plan.csv").content.decode().splitlines()[1:]
            assert rows and all(f",{org.pk}," in r for r in rows), name  # its own part only
            assert signed_in(who).get(f"/factory/documents/{doc.pk}/").status_code == 200
        else:
            assert signed_in(who).get(f"/factory/orders/{order.pk}/plan.csv").status_code == 404
            assert signed_in(who).get(f"/factory/documents/{doc.pk}/").status_code == 404
    for who in (outsider, officer):
        assert signed_in(who).get(f"/factory/orders/{order.pk}/plan.csv").status_code == 404
        assert Client().get(f"/api/v1/factory/orders/{order.pk}/plan/file", **bearer(who)).status_code == 404
        assert signed_in(who).get(f"/factory/documents/{doc.pk}/").status_code == 404
    assert Client().get(f"/api/v1/factory/orders/{order.pk}/plan/file").status_code == 401
    assert Client().get(f"/factory/orders/{order.pk}/plan.csv").status_code == 302
    # a factory that declines every offer it has keeps the order but reads neither the others' plan nor drawings
    decliner_id = next(iter(involved))
    decliner = _owner(cluster, decliner_id)
    while offer := order.allocations.filter(status="offered", factory_id=decliner_id).first():
        allocation_respond(actor=decliner, allocation=offer, action="decline", whole_step=True)
    rows = signed_in(decliner).get(f"/factory/orders/{order.pk}/plan.csv").content.decode().splitlines()[1:]
    assert all(f",{decliner_id}," in r for r in rows)
    if not order.allocations.filter(factory_id=decliner_id, status__in=("offered", "accepted")).exists():
        assert signed_in(decliner).get(f"/factory/documents/{doc.pk}/").status_code == 404


def test_terms_form_and_capabilities_by_actor(cluster):  # noqa: F811
    """Found sound: the order page's terms form, and a capability read and changed by each actor."""
    people, orgs = cluster["people"], cluster["orgs"]
    order, _doc = _planned_with_drawing(cluster)
    plain = user("buyer-plain")
    Membership.objects.create(user=plain, organization=orgs["buyer"], role=Membership.Role.MEMBER)
    factory = _owner(cluster, order.allocations.values_list("factory_id", flat=True).first())
    auditor = user("review96-auditor", role=PlatformRole.Role.AUDITOR)
    for who, status in ((factory, 403), (plain, 403), (auditor, 403), (user("nobody"), 404)):
        sent = signed_in(who).post(f"/factory/orders/{order.pk}/terms/", {"late_penalty": "1", "drawn": "x"})
        assert sent.status_code == status, who.username
    order.refresh_from_db()
    assert order.late_penalty == Decimal("2000")
    cap = Capability.objects.filter(organization=orgs["sz"]).first()
    sz_plain = user("sz-plain")
    Membership.objects.create(user=sz_plain, organization=orgs["sz"], role=Membership.Role.MEMBER)
    put = {"process": cap.process_id, "unit_cost": "21"}
    expected = {  # GET the capability, PUT it for sz, PUT a week of it
        "sz admin": (people["sz"], 200, 200, 200),
        "sz plain": (sz_plain, 200, 403, 403),
        "su admin": (people["su"], 404, 403, 404),
        "buyer admin": (people["buyer"], 404, 403, 404),
        "auditor": (auditor, 200, 403, 403),
        "operator": (cluster["operator"], 200, 200, 200),
    }
    week = {"week": order.start_week.isoformat(), "capacity": 301}
    for name, (who, read, change, week_set) in expected.items():
        got = Client().get(f"/api/v1/factory/capabilities/{cap.pk}", **bearer(who))
        sent = Client().put(
            f"/api/v1/factory/organizations/{orgs['sz'].pk}/capabilities",
            put,
            content_type="application/json",
            HTTP_IF_MATCH='"stale"',
            **bearer(who),
        )
        weekly = Client().put(
            f"/api/v1/factory/capabilities/{cap.pk}/weeks", week, content_type="application/json", **bearer(who)
        )
        # a stale If-Match is 412 only for those who may change it: others learn nothing of its version
        assert (got.status_code, sent.status_code if change != 200 else 200, weekly.status_code) == (
            read,
            change,
            week_set,
        ), (name, got.status_code, sent.status_code, weekly.status_code)
        if change == 200:
            assert sent.status_code == 412
    assert Client().get(f"/api/v1/factory/capabilities/{cap.pk}").status_code == 401


# ---------------------------------------------------------------------------------------------------------------
# Market: loan terms of hidden listings
# ---------------------------------------------------------------------------------------------------------------


def test_loan_terms_of_partners_only_and_anonymous_needs(make_org):
    """Found sound: a partners-only capital need's terms reach no outsider (browse, API list, matching panel and
    API of the bank's own product); an anonymous one's terms are shown without its owner; another member cannot
    open the bank's matching results at all."""
    from agglo.market import services as market
    from agglo.matching import services as matching

    def member(name: str, kind: str, body: str) -> tuple[Any, Any]:
        org = make_org(name_zh=name, kind=kind, uscc=make_uscc("440300", body), tags=[])
        admin = user(f"admin-{body}")
        Membership.objects.create(user=admin, organization=org, role=Membership.Role.ADMIN)
        return admin, org

    def publish(actor: Any, org: Any, **data: Any) -> Any:
        return market.listing_submit(
            actor=actor, listing=market.listing_create(actor=actor, organization=org, data=data)
        )

    bank = member("深圳科创银行", "bank", "MB000961X")
    firm_ = member("深圳隐秘科技有限公司", "tech_sme", "MB000962X")
    other = member("深圳旁观科技有限公司", "tech_sme", "MB000963X")
    product = publish(
        *bank,
        side="offer",
        kind="financing",
        subkind="loan",
        description_zh="科技型企业研发贷款。",
        title_zh="科技信用贷",
        term_months_min=6,
        term_months_max=36,
        rate_max="4.2",
        collateral=["credit"],
    )
    need = {"side": "need", "kind": "capital", "description_zh": "需要研发贷款两年。"}
    need |= {"term_months_min": 24, "term_months_max": 24}
    publish(*firm_, **need, title_zh="研发贷款需求甲", rate_max="4.77", collateral=["credit"], visibility="partners")
    anonymous = publish(
        *firm_, **need, title_zh="研发贷款需求乙", rate_max="4.66", collateral=["credit"], anonymous=True
    )
    matching.index_sync()
    for who in (bank[0], other[0]):
        browse = signed_in(who).get("/market/?side=need").content.decode()
        assert "4.77" not in browse and "4.66" in browse and firm_[1].name_zh not in browse
        listed = Client().get("/api/v1/listings?side=need", **bearer(who)).json()
        assert [(x["id"], x["organization_id"]) for x in listed] == [(anonymous.pk, None)]
    panel = signed_in(bank[0]).get(f"/matching/listings/{product.pk}/panel/").content.decode()
    found = panel.split('id="matches-listings"')[1].split("</section>")[0]
    assert "4.77" not in found and "4.66" in found and firm_[1].name_zh not in found
    api = Client().get(f"/api/v1/matching/listings/{product.pk}/matches?target=needs", **bearer(bank[0])).json()
    assert [(r["listing"]["id"], r["organization"], r["listing"]["organization_id"]) for r in api] == [
        (anonymous.pk, None, None)
    ]
    assert signed_in(other[0]).get(f"/matching/listings/{product.pk}/panel/").status_code == 404
    assert Client().get(f"/api/v1/matching/listings/{product.pk}/matches", **bearer(other[0])).status_code == 404
    assert "loan-terms" not in Client().get("/market/?side=need").content.decode()  # none is public


def test_a_formula_grant_stays_readable_and_checkable_by_its_parties(agency, member_of):  # noqa: F811
    """The fix keeps the sum where it belongs: the member and the agency read it on the page, the log's entry
    checks against the key the API gives them, and the public reads how much was paid only as "in full"."""
    from agglo.ledger.entries import sealed

    admin, _org = agency
    firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    for who in (firm_admin, admin):
        grants = signed_in(who).get(f"/policies/{granted.policy_id}/").content.decode().split('id="grants"')[1]
        assert "15,000" in grants.split("</table>")[0], who.username
    listed = Client().get(f"/api/v1/policies/{granted.policy_id}/applications", **bearer(firm_admin)).json()
    key = listed[0]["text_key"]
    assert len(key) == 32
    entry = next(
        decode(bytes(e.data))
        for e in LogEntry.objects.filter(type="policy.granted")
        if decode(bytes(e.data))["payload"]["organization"] == firm_org.pk
    )
    assert entry["payload"]["amount"] == sealed("amount:15000.00", key)
    grant_payment_record(actor=admin, application=granted, amount="15000", paid_on=dt.date.today(), reference="")
    public = Client().get(f"/policies/{granted.policy_id}/").content.decode().split('id="grants"')[1]
    assert "已全额拨付" in public.split("</table>")[0] and "15,000" not in public.split("</table>")[0]
