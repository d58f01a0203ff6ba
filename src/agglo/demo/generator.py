"""Deterministic synthetic cluster: organizations spread over regions and industry chains.

Pure: takes the reference data as plain tuples and a seed, returns plain dataclasses. The same inputs always
give the same cluster, so demos, tests and benchmarks are reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from agglo.registry.uscc import ALPHABET, check_character

# Provincial weights roughly follow where China's tech SMEs are registered (coastal provinces first).
PROVINCE_WEIGHTS = {
    "440000": 16,
    "320000": 13,
    "330000": 11,
    "310000": 8,
    "110000": 8,
    "370000": 6,
    "340000": 4,
    "420000": 4,
    "510000": 4,
    "350000": 3,
    "430000": 3,
    "410000": 3,
    "120000": 2,
    "500000": 2,
    "610000": 2,
    "130000": 2,
    "210000": 2,
    "360000": 1.5,
    "220000": 1,
    "230000": 1,
    "450000": 1,
    "530000": 1,
    "520000": 1,
    "140000": 1,
    "150000": 0.6,
    "620000": 0.5,
    "460000": 0.5,
    "650000": 0.5,
    "640000": 0.3,
    "630000": 0.2,
    "540000": 0.1,
}
FOREIGN = ("DE", "US", "JP", "KR", "SG", "FR", "GB", "IL", "CH", "NL")

KIND_WEIGHTS = {
    "tech_sme": 60,
    "enterprise": 15,
    "university": 3,
    "research_institute": 4,
    "intermediary": 4,
    "association": 2,
    "bank": 2,
    "securities": 1,
    "fund": 2,
    "leasing_guarantee": 1,
    "service_firm": 4,
    "government": 2,
}
BRAND = [
    ("华", "Hua"),
    ("芯", "Xin"),
    ("科", "Ke"),
    ("创", "Chuang"),
    ("智", "Zhi"),
    ("达", "Da"),
    ("联", "Lian"),
    ("源", "Yuan"),
    ("光", "Guang"),
    ("明", "Ming"),
    ("宏", "Hong"),
    ("瑞", "Rui"),
    ("鑫", "Xin"),
    ("泰", "Tai"),
    ("恒", "Heng"),
    ("博", "Bo"),
    ("睿", "Rui"),
    ("天", "Tian"),
    ("中", "Zhong"),
    ("海", "Hai"),
    ("云", "Yun"),
    ("星", "Xing"),
    ("微", "Wei"),
    ("晶", "Jing"),
    ("航", "Hang"),
    ("越", "Yue"),
    ("德", "De"),
    ("信", "Xin"),
    ("力", "Li"),
    ("盛", "Sheng"),
    ("元", "Yuan"),
    ("启", "Qi"),
    ("迈", "Mai"),
    ("锐", "Rui"),
    ("辰", "Chen"),
    ("峰", "Feng"),
    ("驰", "Chi"),
    ("卓", "Zhuo"),
    ("凯", "Kai"),
    ("通", "Tong"),
    ("安", "An"),
    ("和", "He"),
    ("鼎", "Ding"),
    ("新", "Xin"),
    ("兴", "Xing"),
    ("远", "Yuan"),
    ("东", "Dong"),
    ("南", "Nan"),
]
INDUSTRY = {
    "ic": [
        ("微电子", "Microelectronics"),
        ("半导体", "Semiconductor"),
        ("集成电路", "Integrated Circuit"),
        ("芯片", "Chip"),
    ],
    "nev": [
        ("新能源汽车", "New Energy Vehicle"),
        ("动力电池", "Power Battery"),
        ("电驱动", "E-Drive"),
        ("汽车电子", "Automotive Electronics"),
    ],
    "bio": [
        ("生物医药", "Biopharma"),
        ("生物科技", "Biotech"),
        ("医疗器械", "Medical Devices"),
        ("制药", "Pharmaceutical"),
    ],
    "robot": [
        ("机器人", "Robotics"),
        ("智能装备", "Intelligent Equipment"),
        ("自动化", "Automation"),
        ("精密传动", "Precision Drive"),
    ],
    "pv": [
        ("光伏", "Photovoltaic"),
        ("新能源", "New Energy"),
        ("硅材料", "Silicon Materials"),
        ("光电", "Optoelectronics"),
    ],
}
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰文斌宇浩凯晨欣怡子涵思远嘉"
# The USCC registration authority and category by kind (GB 32100-2015 table 1 and 2).
AUTHORITY = {"university": "12", "research_institute": "12", "government": "11", "association": "51"}
DESCRIPTION = {
    "tech_sme": "专注于{ind}领域的研发与产业化，拥有多项自主知识产权。",
    "enterprise": "{ind}领域的制造企业，面向上下游提供产品与配套服务。",
    "university": "设有{ind}相关学科与重点实验室，开展产学研合作。",
    "research_institute": "围绕{ind}开展应用研究、中试与技术转移。",
    "intermediary": "提供{ind}方向的科技成果转化、技术评估与对接服务。",
    "association": "联合{ind}产业链企业开展标准、交流与行业自律。",
    "bank": "为{ind}科技型中小企业提供信贷与供应链金融。",
    "securities": "为{ind}企业提供上市辅导、债券与并购服务。",
    "fund": "投资{ind}领域早期与成长期科技企业。",
    "leasing_guarantee": "为{ind}企业提供设备融资租赁与融资担保。",
    "service_firm": "为{ind}企业提供法律、财税、知识产权与人力资源服务。",
    "government": "负责本地科技创新与{ind}产业政策的制定和实施。",
}


@dataclass(frozen=True)
class RegionRef:
    code: str
    province: str  # own code for a province-level row
    name_zh: str
    name_en: str
    country: str = "CN"


@dataclass(frozen=True)
class SegmentRef:
    code: str
    chain: str
    stage: str


@dataclass(frozen=True)
class OrgSpec:
    """One synthetic organization; `index` is its position in the generated list."""

    index: int
    name_zh: str
    name_en: str
    kind: str
    region: str
    uscc: str | None
    foreign_registry_id: str
    founded_year: int
    headcount: int
    website: str
    description: str
    tags: tuple[str, ...]
    contact_name: str
    contact_email: str
    contact_phone: str
    positions: tuple[tuple[str, str], ...]  # (segment code, role)


@dataclass(frozen=True)
class RelationSpec:
    source: int
    target: int
    kind: str
    started_year: int


@dataclass
class Cluster:
    organizations: list[OrgSpec] = field(default_factory=list)
    relations: list[RelationSpec] = field(default_factory=list)


def _short(name_zh: str) -> str:
    for suffix in (
        "特别行政区",
        "维吾尔自治区",
        "壮族自治区",
        "回族自治区",
        "自治区",
        "自治州",
        "地区",
        "省",
        "市",
        "盟",
    ):
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix) + 1:
            return name_zh[: -len(suffix)]
    return name_zh


def _uscc(rng: random.Random, kind: str, division: str) -> str:
    head = AUTHORITY.get(kind, "91") + division + "".join(rng.choice(ALPHABET) for _ in range(9))
    return head + check_character(head)


def _pick_segment(rng: random.Random, segments: Sequence[SegmentRef], popularity: dict[str, float]) -> SegmentRef:
    return rng.choices(segments, weights=[popularity[s.code] for s in segments])[0]


def generate(
    n: int, seed: int, regions: Sequence[RegionRef], segments: Sequence[SegmentRef], *, this_year: int = 2026
) -> Cluster:
    """Generate `n` organizations with positions and relations, deterministically from `seed`."""
    if n < 1:
        raise ValueError("n must be at least 1")
    rng = random.Random(seed)
    chains = sorted({s.chain for s in segments})
    by_chain = {c: [s for s in segments if s.chain == c] for c in chains}
    # Popularity is skewed so that small clusters show realistic gaps on rarely served segments.
    popularity = {s.code: rng.lognormvariate(0, 1.3) for s in segments}
    cn = [r for r in regions if r.country == "CN"]
    by_province: dict[str, list[RegionRef]] = {}
    for r in cn:
        by_province.setdefault(r.province, []).append(r)
    provinces = [p for p in PROVINCE_WEIGHTS if p in by_province]
    province_weights = [PROVINCE_WEIGHTS[p] for p in provinces]
    foreign = [r for r in regions if r.country in FOREIGN]
    kinds, kind_weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    used_names: set[str] = set()
    used_codes: set[str] = set()
    cluster = Cluster()
    for i in range(n):
        kind = rng.choices(kinds, weights=kind_weights)[0]
        is_foreign = bool(foreign) and kind in ("tech_sme", "enterprise", "fund") and rng.random() < 0.015
        if is_foreign:
            region = rng.choice(foreign)
        else:
            places = by_province[rng.choices(provinces, weights=province_weights)[0]]
            prefectures = [r for r in places if r.code != r.province]
            region = rng.choice(prefectures) if prefectures else places[0]
        chain = rng.choice(chains)
        ind_zh, ind_en = rng.choice(INDUSTRY.get(chain, [("科技", "Technology")]))
        name_zh, name_en = _names(rng, kind, region, ind_zh, ind_en, used_names, is_foreign)
        uscc = None
        if not is_foreign:
            uscc = _uscc(rng, kind, region.code)
            while uscc in used_codes:
                uscc = _uscc(rng, kind, region.code)
            used_codes.add(uscc)
        headcount = _headcount(rng, kind)
        surname, given = rng.choice(SURNAMES), "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        cluster.organizations.append(
            OrgSpec(
                index=i,
                name_zh=name_zh,
                name_en=name_en,
                kind=kind,
                region=region.code,
                uscc=uscc,
                foreign_registry_id=f"REG-{region.country}-{rng.randrange(10**6, 10**7)}" if is_foreign else "",
                founded_year=rng.randint(1950 if kind in ("university", "government", "bank") else 1995, this_year - 1),
                headcount=headcount,
                website=f"https://www.org{i:06d}.example.cn" if rng.random() < 0.7 else "",
                description=DESCRIPTION[kind].format(ind=ind_zh),
                tags=tuple(sorted({ind_zh, rng.choice(INDUSTRY[chain])[0]})),
                contact_name=surname + given,
                contact_email=f"contact{i:06d}@org{i:06d}.example.cn",
                contact_phone=f"+86 1{rng.randint(30, 99)}{rng.randrange(10**7, 10**8)}",
                positions=_positions(rng, kind, by_chain[chain], segments, popularity),
            )
        )
    cluster.relations = _relations(rng, cluster.organizations, segments, this_year)
    return cluster


def _names(
    rng: random.Random, kind: str, region: RegionRef, ind_zh: str, ind_en: str, used: set[str], foreign: bool
) -> tuple[str, str]:
    city_zh, city_en = _short(region.name_zh), region.name_en.split(" ")[0]
    for attempt in range(50):
        syllables = [rng.choice(BRAND) for _ in range(2 if attempt < 20 else 3)]
        b_zh, b_en = "".join(s[0] for s in syllables), "".join(s[1] for s in syllables)
        b_en = b_en.capitalize()
        if foreign:
            zh, en = (
                f"{b_zh}{ind_zh}（{city_zh}）公司",
                f"{b_en} {ind_en} GmbH" if region.country == "DE" else f"{b_en} {ind_en} Inc.",
            )
        elif kind in ("tech_sme", "enterprise"):
            tech = kind == "tech_sme" and not ind_zh.endswith("科技")  # not "生物科技科技"
            zh = f"{city_zh}{b_zh}{ind_zh}{'科技' if tech else ''}有限公司"
            en = f"{city_en} {b_en} {ind_en}{' Technology' if tech else ''} Co., Ltd."
        elif kind == "university":
            zh, en = f"{city_zh}{b_zh}理工学院", f"{city_en} {b_en} Institute of Technology"
        elif kind == "research_institute":
            zh, en = f"{city_zh}{b_zh}{ind_zh}研究院", f"{city_en} {b_en} {ind_en} Research Institute"
        elif kind == "intermediary":
            zh, en = f"{city_zh}{b_zh}科技成果转化服务中心", f"{city_en} {b_en} Technology Transfer Center"
        elif kind == "association":
            zh, en = f"{city_zh}{ind_zh}产业协会", f"{city_en} {ind_en} Industry Association"
        elif kind == "bank":
            zh, en = f"{b_zh}银行{city_zh}分行", f"{b_en} Bank {city_en} Branch"
        elif kind == "securities":
            zh, en = f"{b_zh}证券{city_zh}营业部", f"{b_en} Securities {city_en} Office"
        elif kind == "fund":
            zh, en = f"{city_zh}{b_zh}创业投资基金", f"{city_en} {b_en} Venture Capital Fund"
        elif kind == "leasing_guarantee":
            zh, en = f"{city_zh}{b_zh}融资担保有限公司", f"{city_en} {b_en} Financing Guarantee Co., Ltd."
        elif kind == "service_firm":
            zh, en = f"{city_zh}{b_zh}知识产权代理有限公司", f"{city_en} {b_en} IP Agency Co., Ltd."
        else:
            zh, en = f"{city_zh}{b_zh}科技园区管理委员会", f"{city_en} {b_en} Science Park Administration"
        if zh not in used:
            used.add(zh)
            return zh, en
    suffix = f"{len(used)}"
    used.add(zh + suffix)
    return zh + suffix, en + " " + suffix


def _headcount(rng: random.Random, kind: str) -> int:
    if kind in ("tech_sme", "intermediary", "service_firm", "fund", "leasing_guarantee"):
        return max(3, int(rng.lognormvariate(3.6, 0.9)))
    if kind in ("university", "bank"):
        return int(rng.lognormvariate(7, 0.6))
    return max(5, int(rng.lognormvariate(5, 1.0)))


_ROLE_BY_KIND = {
    "university": "researches",
    "research_institute": "researches",
    "intermediary": "serves",
    "association": "serves",
    "service_firm": "serves",
    "bank": "finances",
    "securities": "finances",
    "fund": "finances",
    "leasing_guarantee": "finances",
}


def _positions(
    rng: random.Random,
    kind: str,
    chain_segments: Sequence[SegmentRef],
    all_segments: Sequence[SegmentRef],
    popularity: dict[str, float],
) -> tuple[tuple[str, str], ...]:
    if kind == "government":
        return ()
    role = _ROLE_BY_KIND.get(kind)
    pool = all_segments if role == "finances" else chain_segments
    out: dict[tuple[str, str], None] = {}
    for _ in range(rng.choice((1, 1, 2, 2, 3))):
        seg = _pick_segment(rng, pool, popularity)
        if role is None:
            role_here = {"upstream": "supplies", "midstream": "produces", "downstream": "produces"}[seg.stage]
            if seg.stage == "downstream" and rng.random() < 0.3:
                role_here = "uses"
        else:
            role_here = role
        out[(seg.code, role_here)] = None
    return tuple(out)


def _relations(
    rng: random.Random, orgs: Sequence[OrgSpec], segments: Sequence[SegmentRef], this_year: int
) -> list[RelationSpec]:
    by_segment: dict[str, list[int]] = {}
    for org in orgs:
        for seg, _role in org.positions:
            by_segment.setdefault(seg, []).append(org.index)
    stage = {s.code: s.stage for s in segments}
    order = {"upstream": 0, "midstream": 1, "downstream": 2}
    seen: set[tuple[int, int, str]] = set()
    out: list[RelationSpec] = []

    def add(a: int, b: int, kind: str) -> None:
        if a != b and (a, b, kind) not in seen:
            seen.add((a, b, kind))
            out.append(
                RelationSpec(a, b, kind, rng.randint(max(orgs[a].founded_year, orgs[b].founded_year), this_year))
            )

    firms = [o for o in orgs if o.kind in ("tech_sme", "enterprise") and o.positions]
    for org in firms:
        seg = org.positions[0][0]
        chain = seg.split("-")[0]
        downstream = [s for s in by_segment if s.startswith(chain + "-") and order[stage[s]] > order[stage[seg]]]
        if downstream and rng.random() < 0.8:
            add(org.index, rng.choice(by_segment[rng.choice(downstream)]), "supplier_of")
        peers = by_segment.get(seg, [])
        if len(peers) > 1 and rng.random() < 0.3:
            add(org.index, rng.choice(peers), rng.choice(("partner", "competitor")))
    for org in orgs:
        if org.kind in ("university", "research_institute") and firms:
            for _ in range(rng.randint(1, 3)):
                add(org.index, rng.choice(firms).index, "partner")
        elif org.kind == "fund" and firms:
            for _ in range(rng.randint(1, 4)):
                add(org.index, rng.choice(firms).index, "shareholder")
    return out
