"""Calculators that follow published national rules, each naming the text and version it follows.

- The technology-based SME evaluation (科技型中小企业评价): 《科技型中小企业评价办法》, 科技部 财政部 国家税务总局,
  国科发政〔2017〕115号, 第六条 (conditions), 第七条 (indicators and scores) and 第八条 (direct confirmation).
- The additional deduction of R&D expenses (研发费用加计扣除): 财政部 税务总局公告2023年第7号 (100 % from 2023-01-01,
  intangible assets amortised at 200 %), and 财政部 税务总局 国家发展改革委 工业和信息化部公告2023年第44号 (120 % /
  220 % for integrated-circuit and industrial-machine-tool enterprises, 2023-01-01 to 2027-12-31), with the
  industries that may not claim it (财税〔2015〕119号 第四条).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

TECH_SME_SOURCE = "《科技型中小企业评价办法》（国科发政〔2017〕115号）第六、七、八条"
DEDUCTION_SOURCE = "财政部 税务总局公告2023年第7号；财政部 税务总局 国家发展改革委 工业和信息化部公告2023年第44号"

MAX_STAFF = 500
MAX_REVENUE = Decimal(200_000_000)
MAX_ASSETS = Decimal(200_000_000)
PASS_SCORE = 60

# (lower bound of the band, points), highest first: 第七条.
STAFF_BANDS = (
    (Decimal("0.30"), 20),
    (Decimal("0.25"), 16),
    (Decimal("0.20"), 12),
    (Decimal("0.15"), 8),
    (Decimal("0.10"), 4),
)
RD_SALES_BANDS = (
    (Decimal("0.06"), 50),
    (Decimal("0.05"), 40),
    (Decimal("0.04"), 30),
    (Decimal("0.03"), 20),
    (Decimal("0.02"), 10),
)
RD_COST_BANDS = (
    (Decimal("0.30"), 50),
    (Decimal("0.25"), 40),
    (Decimal("0.20"), 30),
    (Decimal("0.15"), 20),
    (Decimal("0.10"), 10),
)
IP_CLASS_II = ((4, 24), (3, 18), (2, 12), (1, 6))


class CalculatorError(ValueError):
    """An input is missing or out of range; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class TechSmeInputs:
    staff: int  # 职工总数, incl. part-time and temporary staff working 6 months or more
    tech_staff: int  # 科技人员数
    revenue: Decimal  # 销售收入 of the last year
    total_assets: Decimal
    rd_expense: Decimal  # 研发费用总额
    total_cost: Decimal  # 成本费用支出总额
    ip_class_i: int  # Ⅰ类: invention patents, plant varieties, new drugs, TCM protected varieties, IC layouts
    ip_class_ii: int  # Ⅱ类: utility models, designs, software copyrights (not trademarks)
    # 第八条: any of these confirms directly, once the conditions of 第六条 (一)–(四) hold.
    high_tech_enterprise: bool = False
    national_award_top3: bool = False
    provincial_rd_institution: bool = False
    led_standard: bool = False

    def __post_init__(self) -> None:
        for name in ("staff", "tech_staff", "ip_class_i", "ip_class_ii"):
            if getattr(self, name) < 0:
                raise CalculatorError(name, "must not be negative")
        for name in ("revenue", "total_assets", "rd_expense", "total_cost"):
            if getattr(self, name) < 0:
                raise CalculatorError(name, "must not be negative")
        if self.staff == 0:
            raise CalculatorError("staff", "must be at least 1")
        if self.tech_staff > self.staff:
            raise CalculatorError("tech_staff", "cannot exceed the total staff")


@dataclass(frozen=True)
class TechSmeResult:
    eligible: bool
    score: int
    staff_points: int
    rd_points: int
    ip_points: int
    within_size_limits: bool
    directly_confirmed: bool
    reasons: tuple[str, ...]  # why not, in words (Chinese, as the rules are written)
    source: str = TECH_SME_SOURCE
    # the same reasons by code (a key of WHY) with their figures, for wording in the reader's language
    why: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()


# Why a firm falls short, by code, in the rules' own (Chinese) words; the web side words the codes for its reader.
WHY = {
    "staff": "职工总数 {staff} 人，超过 {max} 人",
    "revenue": "年销售收入超过 2 亿元",
    "assets": "资产总额超过 2 亿元",
    "score": "综合评分 {score} 分，低于 {pass_score} 分",
    "tech_staff": "科技人员指标得分为 0（科技人员占比低于 10%）",
    "industry": "该行业不适用研发费用加计扣除（财税〔2015〕119号）",
}


def _band(value: Decimal, bands: tuple[tuple[Decimal, int], ...]) -> int:
    return next((points for low, points in bands if value >= low), 0)


def tech_sme_evaluation(data: TechSmeInputs) -> TechSmeResult:
    """Score a firm on 科技人员 (20), 研发投入 (50, the better of two ratios) and 科技成果 (30)."""
    why: list[tuple[str, tuple[tuple[str, int], ...]]] = []
    size_ok = data.staff <= MAX_STAFF and data.revenue <= MAX_REVENUE and data.total_assets <= MAX_ASSETS
    if data.staff > MAX_STAFF:
        why.append(("staff", (("staff", data.staff), ("max", MAX_STAFF))))
    if data.revenue > MAX_REVENUE:
        why.append(("revenue", ()))
    if data.total_assets > MAX_ASSETS:
        why.append(("assets", ()))
    staff_points = _band(Decimal(data.tech_staff) / Decimal(data.staff), STAFF_BANDS)
    by_sales = _band(data.rd_expense / data.revenue, RD_SALES_BANDS) if data.revenue > 0 else 0
    by_cost = _band(data.rd_expense / data.total_cost, RD_COST_BANDS) if data.total_cost > 0 else 0
    rd_points = max(by_sales, by_cost)
    if data.ip_class_i >= 1:
        ip_points = 30
    else:
        ip_points = next((points for count, points in IP_CLASS_II if data.ip_class_ii >= count), 0)
    score = staff_points + rd_points + ip_points
    direct = size_ok and (
        data.high_tech_enterprise or data.national_award_top3 or data.provincial_rd_institution or data.led_standard
    )
    scored = score >= PASS_SCORE and staff_points > 0
    if not direct:
        if score < PASS_SCORE:
            why.append(("score", (("score", score), ("pass_score", PASS_SCORE))))
        if staff_points == 0:
            why.append(("tech_staff", ()))
    eligible = size_ok and (scored or direct)
    return TechSmeResult(
        eligible=eligible,
        score=score,
        staff_points=staff_points,
        rd_points=rd_points,
        ip_points=ip_points,
        within_size_limits=size_ok,
        directly_confirmed=direct,
        reasons=() if eligible else tuple(WHY[code].format(**dict(figures)) for code, figures in why),
        why=() if eligible else tuple(why),
    )


# 财税〔2015〕119号 第四条: industries that may not claim the additional deduction.
EXCLUDED_INDUSTRIES = frozenset(
    {
        "tobacco",
        "accommodation_catering",
        "wholesale_retail",
        "real_estate",
        "leasing_business_services",
        "entertainment",
    }
)


@dataclass(frozen=True)
class Deduction:
    additional: Decimal  # the extra amount deducted this year (yuan)
    expensed_rate: Decimal  # additional share of expensed R&D costs
    amortised_rate: Decimal  # share of intangible assets' cost amortised before tax
    reason: str = ""
    source: str = DEDUCTION_SOURCE
    why: str = ""  # the reason's code (a key of WHY)


def rd_additional_deduction(
    *,
    expensed: Decimal,
    amortisation: Decimal = Decimal(0),
    industry: str = "",
    ic_or_machine_tool: bool = False,
    year: int = 2025,
) -> Deduction:
    """The additional deduction for one tax year: expensed R&D costs × 100 % (120 % for IC and industrial
    machine-tool enterprises to 2027), and the extra amortisation of R&D intangible assets (200 % / 220 % in all)."""
    if expensed < 0:
        raise CalculatorError("expensed", "must not be negative")
    if amortisation < 0:
        raise CalculatorError("amortisation", "must not be negative")
    if year < 2023:
        raise CalculatorError("year", "the rules followed here apply from 2023")
    if industry in EXCLUDED_INDUSTRIES:
        return Deduction(Decimal(0), Decimal(0), Decimal(1), reason=WHY["industry"], why="industry")
    special = ic_or_machine_tool and year <= 2027
    rate = Decimal("1.2") if special else Decimal(1)
    extra = (expensed * rate + amortisation * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Deduction(additional=extra, expensed_rate=rate, amortised_rate=1 + rate)
