"""The organization facts eligibility rules may name, with their types and labels in both languages."""

from __future__ import annotations

from agglo.policy.rules import Fact, facts_named

FACTS = facts_named(
    [
        Fact("kind", "text", "主体类型", "kind of organization"),
        Fact("region", "text", "所在地区代码", "region code"),
        Fact("province", "text", "所在省份代码", "province code"),
        Fact("layer", "text", "创新环境层", "environment layer"),
        Fact("headcount", "number", "从业人数", "headcount", "人"),
        Fact("revenue", "number", "年营业收入", "annual revenue", "元"),
        Fact("total_assets", "number", "资产总额", "total assets", "元"),
        Fact("rd_intensity", "percent", "研发投入强度", "R&D intensity"),
        Fact("rd_staff_share", "percent", "研发人员占比", "R&D staff share"),
        Fact("ip_invention", "number", "发明专利数", "invention patents"),
        Fact("ip_total", "number", "知识产权总数", "IP assets"),
        Fact("certifications", "list", "资质认证", "certifications"),
        Fact("segments", "list", "产业链环节", "chain segments"),
        Fact("tech_sme", "bool", "科技型中小企业", "tech-based SME"),
        Fact("founded_year", "number", "成立年份", "year founded"),
        Fact("membership_years", "number", "入驻年限", "years of membership", "年"),
        Fact("credit_grade", "text", "信用等级", "credit grade"),
    ]
)
