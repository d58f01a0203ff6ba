"""The eligibility rule language: parsing with positions, evaluation with explanations, no eval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agglo.policy.facts import FACTS
from agglo.policy.rules import RuleError, parse

SUBSIDY = (
    'kind in ["tech_sme", "enterprise"] and headcount <= 500 and rd_intensity >= 5% '
    'and (ip_invention >= 1 or ip_total >= 5) and not province in ["110000"] '
    'and revenue between 0 and 200000000 and certifications has "iso-9001" and tech_sme'
)
FIRM = {
    "kind": "tech_sme",
    "headcount": 80,
    "rd_intensity": Decimal("0.032"),
    "ip_invention": 0,
    "ip_total": 7,
    "province": "440000",
    "revenue": 12_000_000,
    "certifications": ["iso-9001", "gb-t-29490"],
    "tech_sme": True,
}


def test_a_near_miss_is_told_what_it_lacks():
    rule = parse(SUBSIDY, FACTS)
    outcome = rule.evaluate(FIRM)
    assert not outcome.eligible
    assert [c.describe("zh") for c in outcome.missing] == ["研发投入强度 ≥ 5 %", "发明专利数 ≥ 1"]
    first = outcome.missing[0]
    assert first.describe("en") == "R&D intensity ≥ 5 %" and first.yours() == "3.2 %"
    assert rule.facts >= {"kind", "rd_intensity", "certifications", "tech_sme"}
    assert rule.evaluate({**FIRM, "rd_intensity": "0.06"}).eligible


def test_a_failed_alternative_of_an_or_that_holds_is_not_needed():
    rule = parse("headcount <= 500 and (ip_invention >= 1 or ip_total >= 5)", FACTS)
    firm = {"headcount": 27, "ip_invention": 1, "ip_total": 2}
    outcome = rule.evaluate(firm)
    assert outcome.eligible and outcome.needed == (True, True, False)
    rows = outcome.rows()
    assert [(r["passed"], r["needed"]) for r in rows] == [(True, True), (True, True), (False, False)]
    # the stored flags say the same: no clause short
    eligible, short, met = rule.flags(firm)
    assert (eligible, short) == (True, 0) and [r["needed"] for r in rule.explained(met, firm)] == [True, True, False]
    # an or that fails needs one of its branches, either will do: one clause short, not two (walk review 45 F2)
    failing = rule.evaluate({**firm, "ip_invention": 0})
    assert failing.needed == (True, True, True) and failing.either == (False, True, True)
    assert (failing.short, len(failing.missing)) == (1, 2) and rule.screen({**firm, "ip_invention": 0}) == (False, 1)
    assert [r["either"] for r in failing.rows()] == [False, True, True]
    # short of the and's own clause as well: two
    assert rule.evaluate({**firm, "ip_invention": 0, "headcount": 900}).short == 2
    # a branch of two clauses is not one that would do alone (recheck 46 F6)
    nested = parse("(ip_invention >= 2 and rd_intensity >= 5%) or ip_total >= 5", FACTS)
    outcome = nested.evaluate({"ip_invention": 1, "rd_intensity": "0.01", "ip_total": 1})
    assert outcome.either == (False, False, True) and outcome.short == 1
    assert outcome.wanting == ("or", [("and", [0, 1]), 2])


def test_what_a_firm_wants_reads_nested_alternatives_and_nots_as_they_are():
    """Review 48: an `or` inside an alternative was flattened, and `not (A and B)` read as needing both."""
    firm = {"ip_invention": 1, "headcount": 27, "ip_total": 2, "rd_intensity": "0.1", "tech_sme": True}
    nested = parse("(ip_invention >= 5 and (headcount <= 10 or ip_total >= 10)) or rd_intensity >= 50%", FACTS)
    assert nested.evaluate(firm).wanting == ("or", [("and", [0, ("or", [1, 2])]), 3])
    # not (A and B) holds once either fails: a firm meeting both is wanting one of them, not both
    negated = parse("tech_sme and not (headcount <= 30 and ip_total >= 1)", FACTS)
    outcome = negated.evaluate(firm)
    assert not outcome.eligible and outcome.short == 1 and outcome.wanting == ("or", [1, 2])
    assert outcome.either == (False, True, True)
    # and when one of them fails already, the other is not needed
    held = negated.evaluate({**firm, "ip_total": 0})
    assert held.eligible and held.wanting is None and held.needed == (True, False, True)
    assert parse("not (tech_sme or headcount <= 500)", FACTS).evaluate({"tech_sme": True, "headcount": 900}).needed == (
        True,
        True,
    )


def test_a_firms_percentage_reads_to_the_hundredth():
    outcome = parse("rd_intensity >= 0.05", FACTS).evaluate({"rd_intensity": "0.180618671555"})
    assert outcome.clauses[0].yours() == "18.06 %" and outcome.clauses[0].describe("en") == "R&D intensity ≥ 5 %"


def test_unknown_values_fail_their_clause_and_say_so():
    outcome = parse("headcount <= 500 and tech_sme", FACTS).evaluate({"tech_sme": True})
    assert not outcome.eligible and outcome.missing[0].yours() == "—"


def test_not_flips_the_explanation():
    outcome = parse('not province in ["110000", "310000"]', FACTS).evaluate({"province": "110000"})
    assert not outcome.eligible
    assert outcome.missing[0].describe("en") == "province code not in 110000, 310000"


@pytest.mark.parametrize(
    ("rule", "position", "reason"),
    [
        ("", 0, "empty"),
        ("headcount <=", 12, "needs a number"),
        ("headcount <= 500 and", 20, "expected a fact"),
        ("headcnt < 5", 0, "unknown fact 'headcnt'"),
        ('kind > "x"', 5, "cannot be compared"),
        ("revenue between 10 and 1", 16, "lower bound"),
        ("headcount < 5 5", 14, "expected and, or"),
        ('kind in ["a", "b"', 17, "closing ]"),
        ("(headcount < 5", 14, "closing parenthesis"),
        ("headcount < 5 && tech_sme", 14, "unexpected character '&'"),
        ('certifications = "x"', 15, "cannot be compared"),
        ('headcount has "x"', 0, "not a list"),
        ("__import__('os')", 0, "unknown fact '__import__'"),
        ("tech_sme and eval", 13, "unknown fact 'eval'"),
    ],
)
def test_malformed_rules_name_the_position_and_the_reason(rule, position, reason):
    with pytest.raises(RuleError) as exc:
        parse(rule, FACTS)
    assert exc.value.position == position, exc.value
    assert reason in exc.value.reason


def test_deep_nesting_and_long_rules_are_refused():
    with pytest.raises(RuleError, match="nests more than 10 levels deep"):
        parse("(" * 50 + "tech_sme" + ")" * 50, FACTS)
    with pytest.raises(RuleError, match="at most"):
        parse("tech_sme and " * 400 + "tech_sme", FACTS)


numbers = st.integers(-(10**6), 10**6)


@given(numbers, numbers, numbers, numbers)
def test_evaluation_follows_boolean_logic(a, b, c, headcount):
    low, high = sorted((a, b))
    text = f"headcount between {low} and {high} or not headcount >= {c}"
    rule = parse(text, FACTS)
    facts = {"headcount": headcount}
    expected = low <= headcount <= high or not headcount >= c
    assert rule.evaluate(facts).eligible is expected
    first, second = rule.evaluate(facts).clauses
    assert first.passed is (low <= headcount <= high)
    assert (second.op, second.passed) == ("<", headcount < c)  # shown as the negation it stands for


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "headcount": st.integers(0, 2000),
            "rd_intensity": st.decimals(0, 1, places=3),
            "ip_invention": st.integers(0, 5),
            "ip_total": st.integers(0, 12),
            "kind": st.sampled_from(["tech_sme", "enterprise", "university"]),
            "certifications": st.lists(st.sampled_from(["iso-9001", "iso-14001", "gmp"]), max_size=3),
            "tech_sme": st.booleans(),
            "province": st.sampled_from(["440000", "320000", "110000"]),
        },
    )
)
def test_the_screen_and_the_stored_rows_agree_with_the_explained_evaluation(facts):
    rules = [
        'kind in ["tech_sme", "enterprise"] and headcount <= 500 and rd_intensity >= 5% '
        'and (ip_invention >= 1 or ip_total >= 5) and not province in ["110000"]',
        'not (certifications has "gmp" or tech_sme) and headcount between 10 and 300',
        'not (not ip_invention >= 2 and kind = "university") or certifications has "iso-9001"',
        'not (not headcount between 5 and 50) and not not certifications has "gmp"',
    ]
    for text in rules:
        rule = parse(text, FACTS)
        outcome = rule.evaluate(facts)
        assert rule.screen(facts) == (outcome.eligible, outcome.short)
        assert outcome.eligible == (outcome.short == 0) and outcome.short <= len(outcome.missing)
        eligible, missing, passed = rule.flags(facts)
        assert (eligible, missing) == (outcome.eligible, outcome.short)
        assert rule.explained(passed, facts) == outcome.rows()


def test_every_reason_a_rule_or_a_calculator_gives_is_worded_for_the_reader():
    from agglo.policy import calculators, estimates, rule_errors, rules

    assert rule_errors.REASON_WORDS.keys() == rules.REASONS.keys()
    assert rule_errors.WANTED_WORDS.keys() == rules.WANTED.keys()
    assert estimates.WHY_WORDS.keys() == calculators.WHY.keys()
    assert estimates.INDUSTRY_NAMES.keys() == calculators.EXCLUDED_INDUSTRIES


def test_the_kinds_and_layers_a_rule_names_read_as_the_registry_labels_them():
    from django.utils import translation

    from agglo.policy.facts import KIND_NAMES, LAYER_NAMES
    from agglo.registry.kinds import Kind, Layer
    from agglo.registry.models.organizations import KIND_LABELS, LAYER_LABELS

    for names, labels, enum in ((KIND_NAMES, KIND_LABELS, Kind), (LAYER_NAMES, LAYER_LABELS, Layer)):
        assert {code for code, _zh, _en in names} == {k.value for k in enum}
        for code, zh, en in names:
            with translation.override("zh-hans"):
                assert str(labels[enum(code)]) == zh
            with translation.override("en"):
                assert str(labels[enum(code)]) == en


def test_a_clause_names_kinds_and_units_in_each_language():
    rule = parse('kind in ["tech_sme", "enterprise"] and headcount <= 500', FACTS)
    rows = rule.evaluate({"kind": "tech_sme", "headcount": 27}).rows()
    assert rows[0]["zh"] == "主体类型 属于 其他企业、科技型中小企业" and rows[0]["yours"] == "科技型中小企业"
    assert rows[0]["en"].endswith("Other enterprise, Tech-based SME") and rows[0]["yours_en"] == "Tech-based SME"
    assert rows[1]["zh"] == "从业人数 ≤ 500 人" and rows[1]["en"] == "headcount ≤ 500 people"
    assert (rows[1]["yours"], rows[1]["yours_en"]) == ("27 人", "27 people")


def test_a_percent_reads_as_the_platform_prints_it():
    """Policy review 58 L3: the platform prints "5 %", and "rd_intensity >= 3 %" was refused."""
    for text in ("rd_intensity >= 3%", "rd_intensity >= 3 %", "rd_intensity >= 3％", "rd_intensity >= 3 ％"):
        rule = parse(text, FACTS)
        assert rule.evaluate({"rd_intensity": Decimal("0.031")}).eligible, text
        assert not rule.evaluate({"rd_intensity": Decimal("0.029")}).eligible, text
