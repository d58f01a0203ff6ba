"""Review 97: where a grant reckoned by formula on a member's withheld financials (review 96) still tells the sum,
hence the figure, to someone who may not see them.

The tests named `test_leak_…` fail on the code as reviewed: each shows one leak (see /tmp/review97.md). The others
pin down what was checked and found sound, so that it stays so.

The scenario is review 96's: a 免申即享 benefit paying 0.125 % of revenue, granted to a firm whose financials are at
the default level (partners) and whose revenue is 12,000,000, so the grant is 15,000.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from agglo.access.models import AccessLogEntry, Membership, PlatformRole
from agglo.common.models import Notification
from agglo.ledger.entries import decode, sealed
from agglo.ledger.models import LogEntry
from agglo.policy.applications import application_submit, policy_grant_eligible
from agglo.policy.models import Application
from agglo.policy.payments import grant_payment_record
from agglo.policy.services import policy_create, policy_publish, policy_update
from tests.conftest import user
from tests.factory.conftest import signed_in
from tests.policy.test_services import agency, firm, policy_data  # noqa: F401 (agency is a fixture)
from tests.registry.test_api import bearer
from tests.test_review96 import _formula_grant

pytestmark = pytest.mark.django_db

REVENUE = "12000000"
SUM = Decimal("15000.00")  # 0.125 % of 12,000,000


def _grants_table(page: str) -> str:
    return page.split('id="grants"')[1].split("</table>")[0]


def _log_entries(kind: str, org_id: int) -> list[dict[str, Any]]:
    out = []
    for e in LogEntry.objects.filter(type=kind).order_by("index"):
        content = decode(bytes(e.data))
        if content["payload"]["organization"] == org_id:
            out.append(content)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Leaks
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "new_formula",
    [{"grant_basis": "", "grant_rate": "", "grant_cap": ""}, {"grant_basis": "ip_total", "grant_rate": "1000"}],
)
def test_leak_a_formula_dropped_or_changed_after_its_grants_unseals_their_sums(agency, member_of, new_formula):  # noqa: F811
    """`grants_public` and `logged_amount` ask the policy's formula *now* whether a sum was reckoned on a withheld
    figure. The agency may drop the formula of a published policy (or move it to a basis that is not withheld,
    such as IP assets) after granting: the grants made by the old formula (0.125 % of revenue, public when they
    were made, and kept by anyone who read the page or the API then) are listed with their sums to anyone, and a
    payment recorded afterwards goes on the public log in the clear, for good."""
    admin, _org = agency
    _firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    policy = granted.policy
    before = _grants_table(Client().get(f"/policies/{policy.pk}/").content.decode())
    assert "15,000" not in before  # the fix, while the formula stands
    policy_update(actor=admin, policy=policy, data=new_formula)
    grant_payment_record(actor=admin, application=granted, amount="15000", paid_on=dt.date.today(), reference="")
    paid = _log_entries("policy.paid", firm_org.pk)[-1]["payload"]["amount"]
    after = _grants_table(Client().get(f"/policies/{policy.pk}/").content.decode())
    leaks = []
    if "15,000" in after:
        leaks.append("the public list of grants shows the old formula's sum to anyone")
    if paid == "15000.00":
        leaks.append("the payment of the old formula's sum is on the public log in the clear")
    assert not leaks, leaks


def test_leak_a_refused_formula_decision_tells_the_agency_the_sum_with_no_trace(agency, member_of):  # noqa: F811
    """Review 96 writes the agency's reckoning to the member's access log inside the decision's transaction. When
    the policy's budget refuses the sum, the refusal names it ("… and this would grant 15,000") and the
    transaction, access-log row included, rolls back: the agency reads the revenue and the member is never told.
    A budget of one fen turns every application into such a probe, granting nothing."""
    admin, org = agency
    firm_admin, firm_org = firm(member_of, "probed-firm", rd=1_200_000, invention=True)
    data = policy_data(budget="0.01", grant_basis="revenue", grant_rate="0.125")
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    application = application_submit(actor=firm_admin, policy=policy, organization_id=firm_org.pk)
    before = AccessLogEntry.objects.filter(owner_id=firm_org.pk).count()
    refused = Client().post(
        f"/api/v1/applications/{application.pk}/decide",
        {"grant": True},
        content_type="application/json",
        **bearer(admin),
    )
    assert refused.status_code in (400, 422), refused.content
    told = "15,000" in refused.content.decode() or "15000" in refused.content.decode()
    logged = AccessLogEntry.objects.filter(owner_id=firm_org.pk).count() > before
    assert not told or logged, "the refusal tells the agency the formula's sum, and the member's access log is empty"


def test_leak_a_refused_grant_to_every_eligible_member_tells_the_total_with_no_trace(agency, member_of):  # noqa: F811
    """The same through `grant-eligible`: the refusal names the formula's total over the eligible members (one
    member: its sum), and the access-log rows roll back with the refused grant."""
    admin, org = agency
    _firm_admin, firm_org = firm(member_of, "probed-auto-firm", rd=1_200_000, invention=True)
    data = policy_data(
        auto_grant=True, rule="rd_intensity >= 5%", budget="0.01", grant_basis="revenue", grant_rate="0.125"
    )
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    before = AccessLogEntry.objects.filter(owner_id=firm_org.pk).count()
    refused = Client().post(
        f"/api/v1/policies/{policy.pk}/grant-eligible", {}, content_type="application/json", **bearer(admin)
    )
    assert refused.status_code in (400, 422), refused.content
    told = "15,000" in refused.content.decode() or "15000" in refused.content.decode()
    logged = AccessLogEntry.objects.filter(owner_id=firm_org.pk).count() > before
    assert not told or logged, "the refusal tells the agency the formula's total, and the member's access log is empty"


def test_leak_the_agencys_history_gives_its_plain_members_the_formula_total(agency, member_of):  # noqa: F811
    """`policy_grant_eligible` records `policy.granted_eligible` on the agency's history with `total` in the clear.
    Every member of the agency reads its own history (`/api/v1/organizations/{id}/history`, the profile's history
    tab), not only its admins; review 96 keeps the sum from the agency's plain members everywhere else (the policy
    page says "by formula" to them, the applications API lists nothing). With one grantee the total is its sum;
    with several, the sums a reader may see subtracted from it leave the others'."""
    admin, agency_org = agency
    plain = user("agency-plain97")
    Membership.objects.create(user=plain, organization=agency_org, role=Membership.Role.MEMBER)
    _firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    assert (
        REVENUE not in Client().get(f"/api/v1/organizations/{firm_org.pk}/financials", **bearer(plain)).content.decode()
    )
    page = signed_in(plain).get(f"/policies/{granted.policy_id}/").content.decode()
    assert "15,000" not in _grants_table(page)  # the premise: the policy page withholds it from them
    history = Client().get(f"/api/v1/organizations/{agency_org.pk}/history", **bearer(plain)).json()
    totals = [e["payload"].get("total") for e in history if e["event"] == "policy.granted_eligible"]
    assert totals, history  # the event is there for them
    assert "15000.00" not in totals, "the agency's history gives its plain members the formula's sum"


# ---------------------------------------------------------------------------------------------------------------
# Found sound
# ---------------------------------------------------------------------------------------------------------------


def test_who_reads_a_formula_sum_on_the_page_and_in_the_api(agency, member_of, operator):  # noqa: F811
    """The public list and the API by reader: the member (admin and plain), the agency's admins, operators and
    auditors read the sum; another member, another agency, an officer (financials at `partners`: not for
    officers) and anonymous visitors do not, and nothing raises for them."""
    admin, _agency_org = agency
    firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    firm_plain = user("firm-plain97")
    Membership.objects.create(user=firm_plain, organization=firm_org, role=Membership.Role.MEMBER)
    stranger, _s = member_of("stranger97")
    other_agency, _a = member_of("agency-two97", kind="government", name_zh="苏州市科技局")
    officer = user("officer97", role=PlatformRole.Role.GOVERNMENT)
    auditor = user("auditor97", role=PlatformRole.Role.AUDITOR)
    grant_payment_record(actor=admin, application=granted, amount="5000", paid_on=dt.date.today(), reference="R97")
    url = f"/policies/{granted.policy_id}/"
    for who in (firm_admin, firm_plain, admin, operator, auditor):
        grants = _grants_table(signed_in(who).get(url).content.decode())
        assert "15,000" in grants and "5,000" in grants, who.username
    for who in (stranger, other_agency, officer):
        grants = _grants_table(signed_in(who).get(url).content.decode())
        assert "15,000" not in grants and "5,000" not in grants and "部分拨付" in grants, who.username
        assert Client().get(f"/api/v1/policies/{granted.policy_id}/applications", **bearer(who)).json() == []
        body = Client().get(f"/api/v1/policies/{granted.policy_id}", **bearer(who)).content.decode()
        assert "15000" not in body and "5000.00" not in body
    anonymous = Client().get(url)
    assert anonymous.status_code == 200 and "15,000" not in _grants_table(anonymous.content.decode())
    assert Client().get(f"/api/v1/policies/{granted.policy_id}/applications").json() == []
    assert "15000" not in Client().get("/api/v1/policies").content.decode()
    assert "15,000" not in Client().get("/policies/").content.decode()


def test_a_sum_on_a_figure_that_is_not_withheld_is_announced(agency, member_of):  # noqa: F811
    """A formula on invention patents (public with the profile's IP) is announced as any grant, in the clear on
    the log too, and needs no key."""
    admin, org = agency
    _firm_admin, firm_org = firm(member_of, "ip-firm97", rd=1_200_000, invention=True)
    data = policy_data(
        auto_grant=True, rule="rd_intensity >= 5%", budget=None, grant_basis="ip_invention", grant_rate="5000"
    )
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=org, data=data))
    assert policy_grant_eligible(actor=admin, policy=policy) == 1
    assert "5,000" in _grants_table(Client().get(f"/policies/{policy.pk}/").content.decode())
    assert _log_entries("policy.granted", firm_org.pk)[-1]["payload"]["amount"] == "5000.00"
    assert Application.objects.get(policy=policy).text_key == ""


def test_the_sealed_grant_and_payments_check_against_the_key_the_api_gives(agency, member_of):  # noqa: F811
    """The member checks each sealed entry with the API's key and amounts as the API gives them."""
    admin, _org = agency
    firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    grant_payment_record(actor=admin, application=granted, amount="5000", paid_on=dt.date.today(), reference="")
    grant_payment_record(actor=admin, application=granted, amount="9999.5", paid_on=dt.date.today(), reference="")
    for who in (firm_admin, admin):
        listed = Client().get(f"/api/v1/policies/{granted.policy_id}/applications", **bearer(who)).json()[0]
        key = listed["text_key"]
        assert _log_entries("policy.granted", firm_org.pk)[-1]["payload"]["amount"] == sealed(
            f"amount:{Decimal(str(listed['amount'])):.2f}", key
        )
        logged = [e["payload"]["amount"] for e in _log_entries("policy.paid", firm_org.pk)]
        assert logged == [sealed(f"amount:{Decimal(str(p['amount'])):.2f}", key) for p in listed["payments"]]


def test_the_parties_histories_notifications_and_receipts(agency, member_of, operator):  # noqa: F811
    """The payment's notification (with its sum) goes to the member's admins only; `policy.paid` with its sum is
    on the member's history, which outsiders (another member, an officer) do not read; a receipt is for the
    entry's parties; the agency workspace and the matches export are the agency admins'."""
    admin, agency_org = agency
    firm_admin, firm_org, granted = _formula_grant(agency, member_of)
    firm_plain = user("firm-plain97b")
    Membership.objects.create(user=firm_plain, organization=firm_org, role=Membership.Role.MEMBER)
    stranger, _s = member_of("stranger97b")
    officer = user("officer97b", role=PlatformRole.Role.GOVERNMENT)
    grant_payment_record(actor=admin, application=granted, amount="15000", paid_on=dt.date.today(), reference="")
    told = set(Notification.objects.filter(verb="policy.paid").values_list("user__username", flat=True))
    assert told == {firm_admin.username}
    for who in (stranger, officer):
        history = Client().get(f"/api/v1/organizations/{firm_org.pk}/history", **bearer(who))
        assert "15000" not in history.content.decode(), who.username
        assert (
            "15000"
            not in Client().get(f"/api/v1/organizations/{agency_org.pk}/history", **bearer(who)).content.decode()
        )
        assert signed_in(who).get("/policies/agency/").status_code == 403
        assert signed_in(who).get(f"/policies/{granted.policy_id}/matches.csv").status_code == 403
    index = LogEntry.objects.get(type="policy.paid").index
    from agglo.ledger.services import publish_all

    publish_all()
    for who, status in ((stranger, 404), (officer, 404), (firm_admin, 200), (admin, 200)):
        assert Client().get(f"/api/v1/ledger/receipts/{index}", **bearer(who)).status_code == status, who.username
    mine = signed_in(stranger).get("/ledger/mine/").content.decode()
    assert "15000" not in mine
    assert "15,000" in signed_in(admin).get("/policies/agency/").content.decode()
