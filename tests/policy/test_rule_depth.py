"""A rule nests at most MAX_DEPTH deep, counting each `not` as a parenthesis: deeper, it is refused when saved with
the position and the reason, never stored to fail later (review 28, F4); at the limit it publishes and matches."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from agglo.common.errors import ValidationFailed
from agglo.policy.facts import FACTS
from agglo.policy.matching import organizations_rematch
from agglo.policy.models import Policy, PolicyMatch, rule_of_text
from agglo.policy.rules import MAX_DEPTH, RuleError, parse
from agglo.policy.screen_sql import nesting
from agglo.policy.services import policy_create, policy_publish

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "not " * (MAX_DEPTH + 1) + "revenue > 1",
        "not (" * ((MAX_DEPTH + 2) // 2) + "revenue > 1" + ")" * ((MAX_DEPTH + 2) // 2),
    ],
)
def test_too_deep_is_a_rule_error_at_the_first_step_too_far(text):
    with pytest.raises(RuleError) as exc:
        parse(text, FACTS)
    assert exc.value.code == "depth"
    assert text[exc.value.position :].startswith(("not", "("))


def test_a_thousand_nots_are_refused_not_a_crash(member_of):
    admin, agency = member_of("agency", kind="government")
    data = {"kind": "subsidy", "title_zh": "深度", "starts_on": "2026-01-01", "rule": "not " * 990 + "revenue > 1"}
    with pytest.raises(ValidationFailed) as exc:
        policy_create(actor=admin, issuer=agency, data=data)
    assert list(exc.value.errors) == ["rule"]


def _alternating(depth: int) -> str:
    """`a and (b or (a and (…)))`, `depth` parentheses deep: each level a different operator, so none merge."""
    text = "headcount > 0"
    for level in range(depth):
        text = f"headcount > {level} {'and' if level % 2 else 'or'} ({text})"
    return text


@pytest.mark.parametrize(
    "deepest",
    [
        "not " * MAX_DEPTH + "headcount > 0",  # an even number of nots: any firm with staff
        "not (" * (MAX_DEPTH // 2) + "headcount > 0" + ")" * (MAX_DEPTH // 2),
        _alternating(MAX_DEPTH),
    ],
    ids=["nots", "nots-in-parentheses", "alternating"],
)
def test_a_rule_at_the_limit_publishes_and_matches(member_of, deepest):
    admin, agency = member_of("agency", kind="government")
    data = {"kind": "subsidy", "title_zh": "深度", "starts_on": "2026-01-01", "rule": deepest}
    policy = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=agency, data=data))
    assert policy.status == "published"


@pytest.fixture
def legacy(member_of):
    """A published policy whose stored rule nests deeper than rules written now may (as the older limit of 40
    parentheses allowed, review 30), and a later policy."""
    admin, agency = member_of("agency", kind="government")
    data = {"kind": "subsidy", "title_zh": "旧政策", "starts_on": "2026-01-01", "rule": "headcount > 0"}
    old = policy_publish(actor=admin, policy=policy_create(actor=admin, issuer=agency, data=data))
    Policy.objects.filter(pk=old.pk).update(rule=_alternating(30))  # what the database holds from before
    rule_of_text.cache_clear()
    new = policy_publish(
        actor=admin, policy=policy_create(actor=admin, issuer=agency, data={**data, "title_zh": "新政策"})
    )
    return admin, Policy.objects.get(pk=old.pk), new


def test_a_stored_deeper_rule_is_still_read_matched_and_editable(legacy, make_org, client):
    admin, old, new = legacy
    assert nesting(rule_of_text(old.rule).tree) == 30  # past the screen: matched in Python
    firm = make_org()
    organizations_rematch([firm.pk], tell=False)  # what a member's data change sets off, after the commit
    assert PolicyMatch.objects.filter(policy=old, organization=firm, eligible=True).exists()
    assert PolicyMatch.objects.filter(policy=new, organization=firm, eligible=True).exists()
    call_command("policy_match")  # the daily re-match goes through it
    assert PolicyMatch.objects.filter(policy=old, organization=firm, eligible=True).exists()
    client.force_login(admin)
    assert client.get(f"/api/v1/policies/{old.pk}/matches").status_code == 200
    assert client.get(f"/policies/{old.pk}/").status_code == 200
    # a change of another field keeps the stored rule; a new deep rule is refused
    r = client.patch(f"/api/v1/policies/{old.pk}", {"title_zh": "旧政策（修订）"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["rule"] == old.rule
    r = client.patch(f"/api/v1/policies/{old.pk}", {"rule": _alternating(11)}, content_type="application/json")
    assert r.status_code == 422 and "rule" in r.json()["errors"]
