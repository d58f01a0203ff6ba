"""A rating the organization entered itself (no report, not verified) is shown as such and decides nothing: the
headline prefers a checked one, and neither a policy's credit rule nor trust in matching reads it (policy review
58 H3)."""

from __future__ import annotations

import pytest

from agglo.policy.selectors.facts import facts_for
from agglo.profiles import services as profiles
from agglo.profiles.selectors.trust import trust_facts

pytestmark = pytest.mark.django_db

OWN = {
    "grade": "AAA",
    "score": "98",
    "rating_body": "agency",
    "agency_name": "中诚信国际信用评级有限责任公司",
    "method_version": "2026",
    "as_of": "2026-12-01",
    "valid_until": "2099-12-01",
}


def test_a_self_declared_rating_is_marked_and_counts_for_nothing(client, member_of, operator):
    firm_admin, firm = member_of("firm")
    banker, _bank = member_of("banker", kind="bank", name_zh="某银行科技支行")
    own = profiles.fact_create(actor=firm_admin, organization=firm, kind="ratings", data=OWN)
    client.force_login(banker)
    credit = client.get(f"/api/v1/organizations/{firm.pk}/profile").json()["credit"]
    assert (credit["grade"], credit["source"], credit["checked"]) == ("AAA", "self_declared", False)
    page = client.get(f"/organizations/{firm.pk}/").content.decode()
    headline = page[page.index('id="credit-headline"') :]
    assert 'id="credit-unchecked"' in headline[: headline.index("</dd>")]
    assert "credit_grade" not in facts_for([firm.pk])[firm.pk]
    assert trust_facts([firm.pk])[firm.pk].grade is None
    # a platform rating, older and lower, is the one that counts, and the headline
    platform = {**OWN, "grade": "BBB", "rating_body": "platform", "agency_name": "", "as_of": "2026-06-01"}
    profiles.fact_create(actor=operator, organization=firm, kind="ratings", data=platform)
    credit = client.get(f"/api/v1/organizations/{firm.pk}/profile").json()["credit"]
    assert (credit["grade"], credit["checked"]) == ("BBB", True)
    assert facts_for([firm.pk])[firm.pk]["credit_grade"] == "BBB"
    assert trust_facts([firm.pk])[firm.pk].grade == "BBB"
    page = client.get(f"/organizations/{firm.pk}/").content.decode()
    assert 'id="credit-unchecked"' not in page
    # once an operator verifies the firm's own entry, it counts: the newest checked rating
    profiles.fact_verify(actor=operator, fact=own, source="operator_verified")
    assert client.get(f"/api/v1/organizations/{firm.pk}/profile").json()["credit"]["grade"] == "AAA"
    assert facts_for([firm.pk])[firm.pk]["credit_grade"] == "AAA"
