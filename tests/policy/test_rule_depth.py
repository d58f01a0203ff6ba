"""A rule nests at most MAX_DEPTH deep, counting each `not` as a parenthesis: deeper, it is refused when saved with
the position and the reason, never stored to fail later (review 28, F4); at the limit it publishes and matches."""

from __future__ import annotations

import pytest

from agglo.common.errors import ValidationFailed
from agglo.policy.facts import FACTS
from agglo.policy.rules import MAX_DEPTH, RuleError, parse
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
