"""The calculators against hand-worked cases from the published rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agglo.policy.calculators import (
    CalculatorError,
    TechSmeInputs,
    rd_additional_deduction,
    tech_sme_evaluation,
)


def firm(**over):
    data = {
        "staff": 100,
        "tech_staff": 25,  # 25 % → 16 points
        "revenue": Decimal(30_000_000),
        "total_assets": Decimal(50_000_000),
        "rd_expense": Decimal(1_500_000),  # 5 % of sales → 40; 1.5 m / 20 m cost = 7.5 % → 0; the better: 40
        "total_cost": Decimal(20_000_000),
        "ip_class_i": 0,
        "ip_class_ii": 2,  # → 12
    }
    data.update(over)
    return TechSmeInputs(**data)


def test_scores_follow_the_bands_of_article_7():
    result = tech_sme_evaluation(firm())
    assert (result.staff_points, result.rd_points, result.ip_points, result.score) == (16, 40, 12, 68)
    assert result.eligible and not result.reasons
    assert "国科发政〔2017〕115号" in result.source
    # The better of the two R&D ratios counts: 6.5 m of 20 m costs is 32.5 % → 50.
    assert tech_sme_evaluation(firm(rd_expense=Decimal(6_500_000))).rd_points == 50
    assert tech_sme_evaluation(firm(ip_class_i=1)).ip_points == 30
    assert tech_sme_evaluation(firm(ip_class_ii=7)).ip_points == 24


def test_band_edges_are_inclusive():
    assert tech_sme_evaluation(firm(tech_staff=30)).staff_points == 20  # exactly 30 %
    assert tech_sme_evaluation(firm(tech_staff=9)).staff_points == 0  # below 10 %
    assert tech_sme_evaluation(firm(rd_expense=Decimal(600_000), total_cost=Decimal(10**9))).rd_points == 10  # 2 %


def test_refusals_say_why():
    low = tech_sme_evaluation(firm(tech_staff=12, rd_expense=Decimal(700_000), ip_class_ii=0))
    assert not low.eligible and low.score == 4 + 10 + 0
    assert any("低于 60 分" in r for r in low.reasons)
    big = tech_sme_evaluation(firm(staff=600, tech_staff=200))
    assert not big.eligible and any("超过 500 人" in r for r in big.reasons)
    no_staff = tech_sme_evaluation(firm(tech_staff=5, rd_expense=Decimal(6_500_000), ip_class_i=1))
    assert no_staff.score == 80 and not no_staff.eligible and any("科技人员指标得分为 0" in r for r in no_staff.reasons)


def test_high_tech_enterprises_are_confirmed_directly_within_the_size_limits():
    assert tech_sme_evaluation(
        firm(tech_staff=5, rd_expense=Decimal(0), ip_class_ii=0, high_tech_enterprise=True)
    ).eligible
    assert not tech_sme_evaluation(firm(staff=600, tech_staff=5, high_tech_enterprise=True)).eligible


def test_inputs_are_checked_by_field():
    with pytest.raises(CalculatorError) as exc:
        firm(tech_staff=101)
    assert exc.value.field == "tech_staff"
    with pytest.raises(CalculatorError) as exc:
        firm(revenue=Decimal(-1))
    assert exc.value.field == "revenue"


def test_rd_additional_deduction():
    plain = rd_additional_deduction(expensed=Decimal(1_000_000), amortisation=Decimal(50_000))
    assert plain.additional == Decimal("1050000.00") and plain.amortised_rate == 2
    ic = rd_additional_deduction(expensed=Decimal(1_000_000), ic_or_machine_tool=True, year=2026)
    assert ic.additional == Decimal("1200000.00") and ic.amortised_rate == Decimal("2.2")
    after = rd_additional_deduction(expensed=Decimal(1_000_000), ic_or_machine_tool=True, year=2028)
    assert after.additional == Decimal("1000000.00")
    excluded = rd_additional_deduction(expensed=Decimal(1_000_000), industry="real_estate")
    assert excluded.additional == 0 and "不适用" in excluded.reason
    with pytest.raises(CalculatorError):
        rd_additional_deduction(expensed=Decimal(1), year=2020)
