"""The organization facts eligibility rules may name, with their types and labels in both languages."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agglo.policy.rules import Fact, facts_named

# the organization kinds and layers a rule names by code, as the registry labels them (a test keeps the two equal)
KIND_NAMES = (
    ("tech_sme", "科技型中小企业", "Tech-based SME"),
    ("enterprise", "其他企业", "Other enterprise"),
    ("university", "高校", "University"),
    ("research_institute", "科研院所", "Research institute"),
    ("intermediary", "科技中介机构", "S&T intermediary"),
    ("association", "行业协会", "Industry association"),
    ("bank", "银行", "Bank"),
    ("securities", "证券公司", "Securities firm"),
    ("fund", "基金", "Fund"),
    ("leasing_guarantee", "租赁或担保机构", "Leasing or guarantee firm"),
    ("service_firm", "专业服务机构", "Professional service firm"),
    ("government", "政府部门", "Government agency"),
)
LAYER_NAMES = (
    ("core", "核心创新环境", "Core environment"),
    ("auxiliary", "辅助创新环境", "Auxiliary environment"),
    ("external", "外部创新环境", "External environment"),
)

# Facts drawn from a field group its owner may keep from others (DESIGN.md §5, profiles.visibility): a reader who
# may not see the group learns whether a clause on such a fact holds, never the value. Headcount is among them
# where the latest statement's figure takes the place of the registry's public one
# (OrganizationFacts.headcount_stated says which it is). The credit grade is not: it is the credit headline, open
# to members and government whatever the detail level (profiles.visibility.can_see_credit_headline).
FACT_GROUPS = {
    "headcount": "financials",
    "revenue": "financials",
    "total_assets": "financials",
    "rd_intensity": "financials",
    "rd_staff_share": "financials",
}

FACTS = facts_named(
    [
        Fact("kind", "text", "主体类型", "kind of organization", names=KIND_NAMES),
        Fact("region", "text", "所在地区代码", "region code"),
        Fact("province", "text", "所在省份代码", "province code"),
        Fact("layer", "text", "创新环境层", "environment layer", names=LAYER_NAMES),
        Fact("headcount", "number", "从业人数", "headcount", "人", "people"),
        Fact("revenue", "number", "年营业收入", "annual revenue", "元", "yuan"),
        Fact("total_assets", "number", "资产总额", "total assets", "元", "yuan"),
        Fact("rd_intensity", "percent", "研发投入强度", "R&D intensity"),
        Fact("rd_staff_share", "percent", "研发人员占比", "R&D staff share"),
        Fact("ip_invention", "number", "发明专利数", "invention patents"),
        Fact("ip_total", "number", "知识产权总数", "IP assets"),
        Fact("certifications", "list", "资质认证", "certifications"),
        Fact("segments", "list", "产业链环节", "chain segments"),
        Fact("tech_sme", "bool", "科技型中小企业", "tech-based SME"),
        Fact("founded_year", "number", "成立年份", "year founded"),
        Fact("membership_years", "number", "入驻年限", "years of membership", "年", "years"),
        Fact("credit_grade", "text", "信用等级", "credit grade"),
    ]
)


def covers(scope: Iterable[str], facts: Mapping[str, Any]) -> bool:
    """Whether an organization with these facts lies in a policy's regions (none: everywhere): its city's code or
    its province's."""
    regions = set(scope)
    return not regions or facts.get("region") in regions or facts.get("province") in regions
