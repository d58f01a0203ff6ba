"""Deterministic synthetic facts for a demo cluster: statements, ratings, IP, capabilities, cases. Pure.

Figures are consistent by construction (assets = liabilities + equity, R&D staff within headcount) so the demo
passes the same rules real data must; a few firms are deliberately weak so the Z''-score shows its zones.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from agglo.profiles.rules import cn_application_check

FIRM_KINDS = ("tech_sme", "enterprise")
IP_HOLDERS = ("tech_sme", "enterprise", "university", "research_institute")
AGENCIES = ("示例信用评级有限公司", "Demo Ratings Ltd.")
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")
CASE_TITLES = ("联合研发{x}关键技术", "共建{x}联合实验室", "{x}产线产能共享", "{x}人才互派计划", "{x}产业创新联盟")
CASE_TOPICS = ("车规级芯片", "固态电池", "协作机器人", "高效光伏组件", "抗体药物", "工业视觉", "功率器件")
CASE_KINDS = ("joint_rnd", "alliance", "outsourcing", "researcher_exchange", "co_investment")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrgRef:
    index: int
    kind: str
    founded_year: int
    headcount: int


@dataclass(frozen=True)
class StatementSpec:
    org: int
    year: int
    figures: dict[str, Decimal | int]


@dataclass(frozen=True)
class RatingSpec:
    org: int
    grade: str
    score: Decimal
    agency: str
    as_of_year: int


@dataclass(frozen=True)
class IpSpec:
    org: int
    kind: str
    number: str
    title: str
    status: str
    filed_year: int
    granted_year: int | None


@dataclass(frozen=True)
class CapabilitySpec:
    org: int
    term: str
    detail: str


@dataclass(frozen=True)
class CaseSpec:
    lead: int
    partner: int
    title: str
    kind: str
    started_year: int
    ended_year: int | None
    partner_input: Decimal
    patents: int
    products: int
    score: int


@dataclass
class ProfileFacts:
    statements: list[StatementSpec] = field(default_factory=list)
    ratings: list[RatingSpec] = field(default_factory=list)
    ip: list[IpSpec] = field(default_factory=list)
    capabilities: list[CapabilitySpec] = field(default_factory=list)
    cases: list[CaseSpec] = field(default_factory=list)


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(_CENT)


def _statements(rng: random.Random, org: OrgRef, this_year: int) -> list[StatementSpec]:
    out = []
    revenue = max(org.headcount, 5) * rng.uniform(3e5, 9e5)
    weak = rng.random() < 0.12
    for year in range(max(org.founded_year + 1, this_year - 3), this_year):
        revenue *= rng.uniform(0.85, 1.35)
        assets = revenue * rng.uniform(0.9, 1.8)
        debt = rng.uniform(0.55, 0.95) if weak else rng.uniform(0.2, 0.6)
        liabilities = assets * debt
        equity = assets - liabilities
        margin = rng.uniform(-0.15, 0.02) if weak else rng.uniform(0.02, 0.18)
        staff = max(org.headcount + rng.randint(-5, 5), 3)
        figures: dict[str, Decimal | int] = {
            "revenue": _money(revenue),
            "total_assets": _money(assets),
            "total_liabilities": _money(liabilities),
            "equity": _money(assets) - _money(liabilities),
            "net_profit": _money(revenue * margin),
            "operating_cash_flow": _money(revenue * (margin + rng.uniform(-0.05, 0.08))),
            "rd_expense": _money(revenue * rng.uniform(0.03, 0.2)),
            "headcount": staff,
            "rd_headcount": int(staff * rng.uniform(0.15, 0.6)),
            "current_assets": _money(assets * rng.uniform(0.35, 0.7)),
            "current_liabilities": _money(liabilities * rng.uniform(0.5, 0.9)),
            "retained_earnings": _money(equity * (rng.uniform(-0.6, 0.1) if weak else rng.uniform(0.1, 0.5))),
            "ebit": _money(revenue * (margin + 0.02)),
        }
        out.append(StatementSpec(org.index, year, figures))
    return out


def _patent_number(rng: random.Random, year: int, type_digit: str) -> str:
    head = f"{year}{type_digit}{rng.randint(0, 9_999_999):07d}"
    return f"ZL{head}.{cn_application_check(head)}"


def _ip(rng: random.Random, org: OrgRef, this_year: int, topics: Sequence[str]) -> list[IpSpec]:
    out = []
    for i in range(rng.randint(0, 6)):
        kind = rng.choice(("invention_patent", "invention_patent", "utility_model", "software_copyright", "design"))
        filed = rng.randint(max(org.founded_year, this_year - 10), this_year - 1)
        granted = filed + rng.randint(1, 3) if kind != "software_copyright" else filed
        granted_year = granted if granted < this_year and rng.random() < 0.8 else None
        if kind == "software_copyright":
            number = f"{filed}SR{rng.randint(0, 9_999_999):07d}"
        else:
            number = _patent_number(rng, filed, {"invention_patent": "1", "utility_model": "2", "design": "3"}[kind])
        topic = rng.choice(topics)
        title = {"software_copyright": f"{topic}管理软件V{i + 1}.0", "design": f"{topic}外壳"}.get(
            kind, f"一种{topic}的制备方法" if kind == "invention_patent" else f"一种{topic}结构"
        )
        out.append(
            IpSpec(org.index, kind, number, title, "granted" if granted_year else "pending", filed, granted_year)
        )
    return out


def generate_facts(
    orgs: Sequence[OrgRef],
    partners: Sequence[tuple[int, int]],
    terms: Sequence[tuple[str, str]],
    seed: int,
    *,
    this_year: int,
) -> ProfileFacts:
    """Facts for `orgs`; cases are drawn from `partners` (pairs of org indexes); `terms` are (code, kind)."""
    rng = random.Random(seed * 7919 + 17)
    facts = ProfileFacts()
    certifications = [c for c, k in terms if k == "certification"]
    others = [c for c, k in terms if k != "certification"]
    by_index = {o.index: o for o in orgs}
    for org in orgs:
        if org.kind in FIRM_KINDS:
            facts.statements += _statements(rng, org, this_year)
            if rng.random() < 0.6:
                grade = rng.choices(GRADES, weights=(2, 6, 10, 8, 4, 2, 1))[0]
                score = Decimal(str(95 - GRADES.index(grade) * 9 + rng.randint(-3, 3)))
                facts.ratings.append(RatingSpec(org.index, grade, score, rng.choice(AGENCIES), this_year - 1))
        if org.kind in IP_HOLDERS:
            facts.ip += _ip(rng, org, this_year, CASE_TOPICS)
        chosen = rng.sample(others, k=min(len(others), rng.randint(1, 4)))
        chosen += rng.sample(certifications, k=min(len(certifications), rng.randint(0, 3)))
        facts.capabilities += [CapabilitySpec(org.index, code, "") for code in chosen]
    for lead, partner in partners:
        if lead not in by_index or partner not in by_index or rng.random() > 0.5:
            continue
        start = rng.randint(this_year - 6, this_year - 1)
        ended = start + rng.randint(1, 3) if rng.random() < 0.5 else None
        facts.cases.append(
            CaseSpec(
                lead=lead,
                partner=partner,
                title=rng.choice(CASE_TITLES).format(x=rng.choice(CASE_TOPICS)),
                kind=rng.choice(CASE_KINDS),
                started_year=start,
                ended_year=ended if ended is None or ended < this_year else None,
                partner_input=_money(rng.uniform(1e5, 5e6)),
                patents=rng.randint(0, 4),
                products=rng.randint(0, 2),
                score=rng.randint(3, 5),
            )
        )
    return facts
