"""A synthetic market with planted relevant pairs, for `agglo bench matching`. Pure and deterministic per seed.

How it is built (docs/benchmarks.md describes it for readers):
- Organizations sit on one or two segments of one of the real industry chains, in one of 31 provinces.
- Every listing is about one catalogue term (its topic) with one qualifier ("车规级", "low-power", …) and is
  written in Chinese, English, or both; descriptions mix generic industrial words and, sometimes, a mention of
  another term. Two thirds of the qualifiers are glossary terms of the matching vocabulary, one third are not,
  so a third of the cross-language pairs cannot be bridged by the vocabulary.
- Each query is a need (70 % Chinese, 30 % English) for a (term, qualifier) pair that no background listing uses.
  Planted for it: 6 offers from organizations on segments adjacent to the seeker's (relevance 2), 3 from elsewhere
  (relevance 1), all passing the query's hard filters; and 5 traps about the same pair that each break one hard
  filter (wrong side, wrong kind, region, budget, expired or partners-only) and must never be returned.
- Background listings carry their own region rules, budgets, deadlines (some past) and visibility levels.
Relevance is only known for the planted pairs; a background listing is never about a query's pair, so treating
it as irrelevant is sound, but the judgements are sparse and the texts are template-made, not real.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from agglo.matching.ranking import NEED, OFFER, Item, OrgSignals, Query, Viewer
from agglo.matching.vocabulary import Concept

PROVINCES = (
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
)
# Qualifiers outside the vocabulary: their Chinese and English forms only meet within one language.
OUT_OF_VOCABULARY = (
    ("耐腐蚀", "corrosion-resistant"),
    ("超薄", "ultra-thin"),
    ("高纯度", "high-purity"),
    ("柔性", "flexible"),
    ("大尺寸", "large-format"),
    ("高速", "high-speed"),
    ("低噪声", "low-noise"),
    ("耐磨", "wear-resistant"),
    ("微型", "miniature"),
    ("模块化", "modular"),
    ("便携式", "portable"),
    ("宽温", "wide-temperature"),
    ("长寿命", "long-life"),
    ("大功率", "high-power"),
    ("低成本", "low-cost"),
    ("高分辨率", "high-resolution"),
    ("抗干扰", "interference-resistant"),
    ("高可靠性", "high-reliability"),
    ("一体化", "integrated"),
    ("自动化", "automated"),
)
FILLER_ZH = (
    "研发",
    "生产",
    "服务",
    "合作",
    "项目",
    "方案",
    "团队",
    "经验",
    "客户",
    "质量",
    "交付",
    "工艺",
    "设备",
    "产品",
    "技术",
    "支持",
    "行业",
    "领先",
    "稳定",
    "专业",
    "快速",
    "长期",
    "优质",
    "资源",
    "平台",
    "创新",
    "能力",
    "市场",
    "周期",
    "成本",
    "效率",
    "标准",
    "检测",
    "验证",
    "管理",
    "体系",
    "工程师",
    "实验室",
    "基地",
    "园区",
    "订单",
    "批量",
)
FILLER_EN = (
    "development",
    "production",
    "service",
    "partner",
    "project",
    "solution",
    "team",
    "experience",
    "customer",
    "quality",
    "delivery",
    "process",
    "equipment",
    "product",
    "technology",
    "support",
    "industry",
    "leading",
    "stable",
    "professional",
    "fast",
    "long-term",
    "reliable",
    "resources",
    "platform",
    "innovation",
    "capability",
    "market",
    "cycle",
    "cost",
    "efficiency",
    "standard",
    "verification",
    "management",
    "engineers",
    "laboratory",
    "facility",
    "orders",
    "batch",
)
NOUNS = (("服务", "services"), ("解决方案", "solutions"), ("合作", "cooperation"), ("能力", "capability"))
OFFER_KINDS = (
    ("technology", 35),
    ("capacity", 20),
    ("equipment", 10),
    ("service", 10),
    ("market", 8),
    ("talent", 5),
    ("legal", 4),
    ("capital", 4),
    ("financing", 4),
)
QUERY_KINDS = ("technology", "capacity", "equipment", "service")
SERVICE_TYPES = ("testing", "ip", "tech_transfer", "legal")
ORG_KINDS = (
    ("tech_sme", 60),
    ("enterprise", 20),
    ("university", 5),
    ("research_institute", 5),
    ("bank", 3),
    ("fund", 2),
    ("service_firm", 3),
    ("intermediary", 2),
)
FIRST_KEY = 1
DAY0 = 740_000  # an ordinal date; the market's "today"


@dataclass(frozen=True)
class Listing:
    """A generated listing: the engine's item and its texts."""

    item: Item
    title: str
    description: str


@dataclass
class Market:
    listings: list[Listing]
    orgs: dict[int, OrgSignals]
    org_areas: dict[int, str]
    org_segments: dict[int, tuple[str, ...]]
    queries: list[Query] = field(default_factory=list)
    query_texts: list[str] = field(default_factory=list)
    relevant: list[dict[int, int]] = field(default_factory=list)  # per query: key → grade
    traps: list[set[int]] = field(default_factory=list)
    today: int = DAY0


@dataclass(frozen=True)
class Chains:
    """Segments by chain and the upstream → downstream links."""

    segments: dict[str, tuple[str, ...]]
    links: tuple[tuple[str, str], ...]

    def neighbours(self, segment: str) -> set[str]:
        return {b for a, b in self.links if a == segment} | {a for a, b in self.links if b == segment}


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    return rng.choices([p for p, _ in pairs], weights=[w for _, w in pairs])[0]


def _phrase(rng: random.Random, concept: Concept, lang: str) -> str:
    if lang == "zh":
        return concept.label_zh
    english = [p for p in concept.phrases if p.isascii()]
    return rng.choice(english) if english and rng.random() < 0.3 else concept.label_en


class Writer:
    """Listing texts about a term with a qualifier, in Chinese, English or both, with generic industrial words."""

    def __init__(self, rng: random.Random, terms: Sequence[Concept]):
        self.rng = rng
        self.terms = terms

    def text(
        self, topic: Concept, qualifier: tuple[str, str], lang: str, segment_name: tuple[str, str]
    ) -> tuple[str, str]:
        rng = self.rng
        langs = ("zh", "en") if lang == "both" else (lang,)
        titles, bodies = [], []
        for one in langs:
            zh = one == "zh"
            q = qualifier[0] if zh else qualifier[1]
            noun = rng.choice(NOUNS)[0 if zh else 1]
            name = _phrase(rng, topic, one)
            filler = FILLER_ZH if zh else FILLER_EN
            words = rng.sample(filler, rng.randint(5, 9))
            if rng.random() < 0.35:
                words.append(_phrase(rng, rng.choice(self.terms), one))  # a passing mention of another term
            if rng.random() < 0.5:
                words.append(segment_name[0 if zh else 1])
            rng.shuffle(words)
            sep = "" if zh else " "
            titles.append(f"{q}{name}{noun}" if zh else f"{q} {name} {noun}")
            bodies.append(sep.join(words[:3]) + (f"，{q}{name}，" if zh else f", {q} {name}, ") + sep.join(words[3:]))
        return " / ".join(titles), "\n".join(bodies)


def generate(
    size: int,
    *,
    terms: Sequence[Concept],
    glossary: Sequence[Concept],
    chains: Chains,
    segment_names: dict[str, tuple[str, str]],
    queries: int = 200,
    seed: int = 42,
) -> Market:
    """A market of `size` listings (planted ones included) and `queries` needs with their relevance."""
    rng = random.Random(seed)
    writer = Writer(rng, terms)
    chain_codes = sorted(chains.segments)
    # Each term belongs to one or two chains.
    term_chains = {t.code: rng.sample(chain_codes, k=rng.choice((1, 1, 2))) for t in terms}
    terms_of_chain: dict[str, list[Concept]] = {c: [] for c in chain_codes}
    for t in terms:
        for c in term_chains[t.code]:
            terms_of_chain[c].append(t)
    qualifiers = [(g.label_zh, g.label_en) for g in glossary][:40] + list(OUT_OF_VOCABULARY)

    n_orgs = max(60, size // 3)
    orgs: dict[int, OrgSignals] = {}
    org_area: dict[int, str] = {}
    org_segments: dict[int, tuple[str, ...]] = {}
    org_kind: dict[int, str] = {}
    org_chain: dict[int, str] = {}
    by_segment: dict[str, list[int]] = {}
    for org in range(1, n_orgs + 1):
        chain = rng.choice(chain_codes)
        segs = tuple(rng.sample(chains.segments[chain], k=rng.choice((1, 1, 2))))
        org_chain[org], org_segments[org] = chain, segs
        org_area[org] = rng.choice(PROVINCES)
        org_kind[org] = _weighted(rng, ORG_KINDS)
        trust = round(rng.betavariate(2, 2), 3)
        orgs[org] = OrgSignals(trust=trust, trust_notes=(f"trust {trust}",))
        for s in segs:
            by_segment.setdefault(s, []).append(org)

    market = Market([], orgs, org_area, org_segments, today=DAY0)
    key = FIRST_KEY

    def add(item_kwargs: dict[str, object], topic: Concept, qualifier: tuple[str, str], lang: str) -> int:
        nonlocal key
        org = int(item_kwargs["org"])  # type: ignore[call-overload]
        segs = org_segments[org]
        title, body = writer.text(topic, qualifier, lang, segment_names[segs[0]])
        item = Item(
            key=key,
            area=org_area[org],
            segments=segs,
            tokens=(),
            published=DAY0 - rng.randint(0, 180),
            **item_kwargs,  # type: ignore[arg-type]
        )
        market.listings.append(Listing(item, title, body))
        key += 1
        return item.key

    # Queries first, so background listings can avoid their (term, qualifier) pairs.
    n_queries = min(queries, max(10, size // 100))
    reserved: set[tuple[str, tuple[str, str]]] = set()
    plans: list[tuple[int, str, list[str], Concept, tuple[str, str]]] = []
    candidates = [o for o in orgs if org_kind[o] in ("tech_sme", "enterprise")]
    while len(plans) < n_queries:
        seeker = rng.choice(candidates)
        segment = org_segments[seeker][0]
        chain = org_chain[seeker]
        near = [s for s in sorted(chains.neighbours(segment)) if by_segment.get(s)]  # sorted: string hashing varies
        if not near or not terms_of_chain[chain]:
            continue
        topic = rng.choice(terms_of_chain[chain])
        qualifier = rng.choice(qualifiers)
        if (topic.code, qualifier) in reserved:
            continue
        reserved.add((topic.code, qualifier))
        plans.append((seeker, segment, near, topic, qualifier))

    for seeker, segment, near, topic, qualifier in plans:
        kind = rng.choice(QUERY_KINDS)
        subkind = rng.choice(SERVICE_TYPES) if kind == "service" else ""
        excluded = (
            frozenset(rng.sample([p for p in PROVINCES if p != org_area[seeker]], 2))
            if rng.random() < 0.3
            else frozenset()
        )
        budget = (100_000.0, 500_000.0) if rng.random() < 0.4 else (None, None)
        partners = frozenset(rng.sample(sorted(orgs), 3))
        lang = "zh" if rng.random() < 0.7 else "en"
        name = topic.label_zh if lang == "zh" else topic.label_en
        q = qualifier[0] if lang == "zh" else qualifier[1]
        text = f"需要{q}{name}，寻找合作伙伴" if lang == "zh" else f"Looking for {q} {name} partners"
        query = Query(
            target=OFFER,
            kind=kind,
            subkind=subkind,
            tokens=(),
            today=DAY0,
            viewer=Viewer(member=True, partner_orgs=partners, own_orgs=frozenset({seeker})),
            org=seeker,
            area=org_area[seeker],
            segments=(segment,),
            amount_min=budget[0],
            amount_max=budget[1],
            region_rule="exclude" if excluded else "anywhere",
            regions=excluded,
            limit=50,
        )
        ok_areas = [o for o in orgs if org_area[o] not in excluded and o != seeker]
        relevant: dict[int, int] = {}

        base: dict[str, object] = {"side": OFFER, "kind": kind, "subkind": subkind}
        if budget[0] is not None:
            base.update(amount_min=50_000.0, amount_max=300_000.0)

        def planted(
            pool: list[int],
            extra: dict[str, object] | None = None,
            *,
            base: dict[str, object] = base,
            topic: Concept = topic,
            qualifier: tuple[str, str] = qualifier,
        ) -> int:
            kwargs = {**base, "org": rng.choice(pool), "visibility": rng.choice(("members", "public")), **(extra or {})}
            return add(kwargs, topic, qualifier, rng.choice(("zh", "zh", "en", "en", "both")))

        adjacent = [o for s in near for o in by_segment[s] if org_area[o] not in excluded and o != seeker]
        far = [o for o in ok_areas if not set(org_segments[o]) & (set(near) | {segment})]
        strangers = [o for o in adjacent if o not in partners]
        if not strangers or not far:
            continue
        for _ in range(6):
            relevant[planted(adjacent)] = 2
        for _ in range(3):
            relevant[planted(far)] = 1
        traps = {
            planted(strangers, {"side": NEED}),
            planted(strangers, {"kind": "talent", "subkind": ""}),
            planted(strangers, {"deadline": DAY0 - 1}),
            planted(
                strangers,
                {"visibility": "partners"}
                if not excluded
                else {"org": rng.choice([o for o in orgs if org_area[o] in excluded])},
            ),
            planted(
                strangers,
                {"amount_min": 2_000_000.0, "amount_max": 5_000_000.0}
                if budget[0] is not None
                else {"region_rule": "only", "regions": frozenset(p for p in PROVINCES[:3] if p != query.area)},
            ),
        }
        market.queries.append(query)
        market.query_texts.append(text)
        market.relevant.append(relevant)
        market.traps.append(traps)

    while key < FIRST_KEY + size:
        org = rng.randrange(1, n_orgs + 1)
        chain = org_chain[org]
        topic = rng.choice(terms_of_chain[chain] or list(terms))
        qualifier = rng.choice(qualifiers)
        if (topic.code, qualifier) in reserved:
            continue
        kind = _weighted(rng, OFFER_KINDS)
        rule = rng.random()
        kwargs: dict[str, object] = {
            "side": OFFER if rng.random() < 0.85 else NEED,
            "kind": kind,
            "subkind": rng.choice(SERVICE_TYPES) if kind == "service" else "",
            "org": org,
            "visibility": rng.choices(("members", "public", "partners"), weights=(7, 2, 1))[0],
            "region_rule": "only" if rule < 0.1 else "exclude" if rule < 0.15 else "anywhere",
            "regions": frozenset(rng.sample(PROVINCES, 3)) if rule < 0.15 else frozenset(),
            "deadline": DAY0 + rng.randint(-30, 300) if rng.random() < 0.3 else None,
        }
        if kind in ("capital", "financing", "capacity", "equipment") or rng.random() < 0.2:
            low = rng.choice((10_000.0, 100_000.0, 1_000_000.0))
            kwargs.update(amount_min=low, amount_max=low * rng.choice((2, 5, 10)))
        add(kwargs, topic, qualifier, rng.choices(("zh", "en", "both"), weights=(45, 35, 20))[0])
    return market
