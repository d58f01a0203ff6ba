"""Plausible words for the demo's needs and offers: what a firm of each kind would write, in Chinese and English,
around the catalogue term it is about (review 56: the benchmark's synthetic writer gave titles such as
"耐磨临床试验服务(CRO)服务", which read as nonsense to someone trying the platform)."""

from __future__ import annotations

import random
from dataclasses import dataclass

# Which catalogue terms a listing of each kind is about (CapabilityTerm.kind); kinds absent here name no term.
TERM_KINDS = {
    "technology": ("technology",),
    "talent": ("technology",),
    "capacity": ("process",),
    "equipment": ("equipment",),
    "service": ("lab_service",),
}

# A firm offers what it holds: the listing kind of each term kind.
OFFER_KIND_OF_TERM = {"technology": "technology", "process": "capacity", "equipment": "equipment"}


@dataclass(frozen=True)
class Words:
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str


# (side, kind or "kind/subkind") → (title zh, title en, body zh, body en); {t} the term, {s} the segment
TEMPLATES: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {
    ("offer", "technology"): [
        (
            "{t}技术许可与联合开发",
            "{t}: licensing and joint development",
            "我方在{t}方面有成熟工艺和授权专利，可提供技术许可、联合开发或工程化支持，优先与{s}企业合作。",
            "We have proven processes and granted patents in {t}, and offer licences, joint development or "
            "engineering support, preferably to firms in {s}.",
        ),
        (
            "{t}整体解决方案",
            "{t} solutions, from design to pilot run",
            "团队深耕{t}多年，可从方案设计、样机验证到小批量试产全程支持，已服务多家{s}客户。",
            "Years of work in {t}: we support design, prototype validation and pilot runs, and have served several "
            "customers in {s}.",
        ),
    ],
    ("offer", "capacity"): [
        (
            "{t}产能共享，可承接外协订单",
            "{t} capacity open to subcontracting",
            "工厂{t}产线每月有富余产能，可承接小批量和中批量外协订单，交期稳定，支持来料加工。",
            "Our {t} lines have spare capacity every month for small and medium subcontracted batches, with steady "
            "lead times; customer-supplied material is welcome.",
        ),
        (
            "承接{t}加工（质量体系认证）",
            "{t} jobs taken, certified quality system",
            "具备完善的质量管理体系和检测手段，{t}加工精度和交期有保障，可按图纸或样品加工。",
            "With a complete quality system and inspection, our {t} work keeps its precision and dates; we work "
            "from drawings or samples.",
        ),
    ],
    ("offer", "equipment"): [
        (
            "{t}设备开放共享",
            "{t} open for shared use",
            "我方{t}有空闲机时，向集聚平台成员开放共享，可按小时或按项目预约，配备操作人员。",
            "Free machine time on our {t}, open to platform members: booked by the hour or by project, with an "
            "operator.",
        ),
    ],
    ("offer", "service/testing"): [
        (
            "{t}检测服务",
            "{t} testing service",
            "实验室具备{t}能力，出具检测报告，周期短、收费透明，可为{s}企业提供上门取样。",
            "Our laboratory offers {t} with formal test reports, short turnaround and clear prices, and collects "
            "samples from firms in {s}.",
        ),
    ],
    ("offer", "service/ip"): [
        (
            "专利布局与知识产权贯标服务",
            "Patent strategy and IP management certification",
            "提供专利检索、布局、申请代理和知识产权管理体系贯标辅导，熟悉{s}领域技术。",
            "Patent searches, filing strategy and prosecution, and coaching for the IP management standard; we know "
            "the technology of {s}.",
        ),
    ],
    ("offer", "service/legal"): [
        (
            "科技企业法律顾问服务",
            "Legal counsel for technology firms",
            "为科技型中小企业提供合同审查、技术合作协议、股权架构和劳动用工等常年法律顾问服务。",
            "Retained counsel for tech SMEs: contract review, technology cooperation agreements, equity structure "
            "and employment.",
        ),
    ],
    ("offer", "service/hr"): [
        (
            "研发与技术人才招聘服务",
            "Recruiting R&D and technical staff",
            "专注{s}领域研发、工艺和质量人才猎聘与校园招聘，可按岗位或项目合作。",
            "Headhunting and campus recruiting of R&D, process and quality staff in {s}, per position or per project.",
        ),
    ],
    ("offer", "service/tech_transfer"): [
        (
            "高校科技成果转化对接",
            "Bringing university research to market",
            "对接高校和科研院所的科技成果，提供技术评估、交易撮合和转化落地服务，重点领域为{s}。",
            "We connect firms with research from universities and institutes: technology assessment, deal-making and "
            "implementation, mainly in {s}.",
        ),
    ],
    ("offer", "service/registration"): [
        (
            "企业注册与资质认定代办",
            "Company registration and qualifications",
            "代办企业设立、变更登记，以及高新技术企业、科技型中小企业评价等资质申报。",
            "Company formation and changes, and applications for the high-tech enterprise and tech-SME qualifications.",
        ),
    ],
    ("offer", "financing/loan"): [
        (
            "科技型中小企业信用贷款",
            "Credit loans for tech SMEs",
            "面向科技型中小企业的纯信用贷款，可结合知识产权质押，审批快，额度随经营情况核定。",
            "Unsecured loans for tech SMEs, with IP pledges where useful; quick approval, limits set by the "
            "business's results.",
        ),
    ],
    ("offer", "financing/equity"): [
        (
            "早期科技项目股权投资",
            "Equity for early-stage technology projects",
            "关注{s}等领域的早期科技企业，单笔投资额灵活，可提供投后管理和产业资源对接。",
            "We invest in early-stage technology firms in fields such as {s}, with flexible ticket sizes, "
            "post-investment support and industry contacts.",
        ),
    ],
    ("offer", "financing/bond"): [
        (
            "科创债券发行承销",
            "Underwriting technology-innovation bonds",
            "为成长期科技企业提供科创债券发行方案设计与承销服务。",
            "Structuring and underwriting technology-innovation bonds for growing technology firms.",
        ),
    ],
    ("offer", "financing/leasing"): [
        (
            "设备融资租赁",
            "Equipment finance leasing",
            "为购置生产和研发设备的企业提供融资租赁，首付比例低，租期灵活。",
            "Finance leases for production and R&D equipment, with low down payments and flexible terms.",
        ),
    ],
    ("need", "technology"): [
        (
            "寻求{t}技术合作伙伴",
            "Seeking a partner in {t}",
            "我司在开发新产品中需要{t}方面的技术支持，希望与高校、科研院所或企业开展联合研发或技术转让。",
            "Our new product needs know-how in {t}; we are looking for a university, institute or firm for joint "
            "development or a licence.",
        ),
    ],
    ("need", "capacity"): [
        (
            "寻找{t}外协加工厂",
            "Looking for {t} subcontractors",
            "因订单增加，需要长期稳定的{t}外协产能，要求质量体系健全、交期可靠，欢迎{s}企业联系。",
            "Orders have grown: we need steady {t} capacity from subcontractors with a sound quality system and "
            "reliable dates; firms in {s} are welcome.",
        ),
    ],
    ("need", "equipment"): [
        (
            "租用{t}机时",
            "Machine time wanted: {t}",
            "研发阶段需要使用{t}，希望按机时租用或委托测试，可到场操作。",
            "For our R&D we need time on {t}, rented by the hour or as a commissioned test; we can operate it "
            "ourselves.",
        ),
    ],
    ("need", "service/testing"): [
        (
            "委托{t}",
            "{t} needed",
            "新产品送样前需要做{t}，要求出具正式报告，周期两周以内。",
            "Before sampling a new product we need {t} with a formal report, within two weeks.",
        ),
    ],
    ("need", "service/ip"): [
        (
            "专利申请与布局咨询",
            "Advice on patent filings",
            "我司研发成果较多，需要专业机构协助专利挖掘、布局和申请。",
            "We have many R&D results and need a firm to help identify, plan and file patents.",
        ),
    ],
    ("need", "service/legal"): [
        (
            "技术合作协议法律审查",
            "Legal review of a technology agreement",
            "与合作方签订技术开发与知识产权归属协议，需要律师审查条款。",
            "We are signing a development and IP ownership agreement with a partner and need a lawyer to review it.",
        ),
    ],
    ("need", "service/hr"): [
        (
            "招聘研发骨干",
            "Hiring senior R&D engineers",
            "业务扩张，需要招聘{s}方向的研发骨干和工艺工程师，希望人力资源机构协助。",
            "We are growing and need senior R&D and process engineers in {s}, with help from a recruiting firm.",
        ),
    ],
    ("need", "capital"): [
        (
            "{s}项目融资",
            "Financing for a project in {s}",
            "公司在{s}领域的新项目已完成样机验证，寻求股权融资或科技信贷支持，用于扩产和市场推广。",
            "Our new project in {s} has a validated prototype; we seek equity or technology credit to expand "
            "production and sales.",
        ),
    ],
    ("need", "talent"): [
        (
            "招聘{t}方向工程师",
            "Engineers in {t} wanted",
            "因研发项目需要，招聘{t}方向的工程师和技术带头人，可提供股权激励。",
            "For our R&D projects we are hiring engineers and a technical lead in {t}; equity incentives offered.",
        ),
    ],
}


def listing_words(
    rng: random.Random,
    side: str,
    kind: str,
    subkind: str,
    term: tuple[str, str],
    segment: tuple[str, str],
) -> Words:
    """A listing's title and description in both languages; `term` and `segment` are (zh, en) names."""
    options = TEMPLATES.get((side, f"{kind}/{subkind}")) or TEMPLATES[(side, kind)]
    title_zh, title_en, body_zh, body_en = rng.choice(options)
    t_zh, t_en = term[0], _common(term[1])
    s_zh, s_en = (segment[0], _common(segment[1])) if segment[0] else ("相关产业", "related industries")
    return Words(
        title_zh.format(t=t_zh, s=s_zh),
        _sentence(title_en.format(t=t_en, s=s_en)),
        body_zh.format(t=t_zh, s=s_zh),
        _sentence(body_en.format(t=t_en, s=s_en)),
    )


def _common(name: str) -> str:
    """A catalogue name as it reads inside a sentence: "scanning electron microscope", but "CNC machining"."""
    return name[0].lower() + name[1:] if len(name) > 1 and name[1].islower() else name


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
